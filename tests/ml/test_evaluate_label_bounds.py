"""``tcdb evaluate`` given labels no ingest would accept: a JSON ``true`` (read as 1 K before),
9,999 K, 10⁻³⁰⁰ K. Each is refused with one sentence naming the item or the CSV line, by the
bounds every ingested T_c keeps (``IngestParameters``), and the rest of the set is scored."""

from __future__ import annotations

import json
import shutil

from tcdb.ml.labelled_structures import read_labelled_structures
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES, query

STRUCTURES = SOURCES / "literature" / "structures"
CIF = STRUCTURES / "100GPa_Im-3m_CaH6.cif"
CIFS = ["100GPa_Pm-3m_NaH6.cif", "200GPa_C2_m_LaH7.cif", "100GPa_P-1_LaH5.cif"]


def _items(path, labels: list) -> str:
    from pymatgen.core import Structure

    structure = Structure.from_file(CIF).as_dict()
    items = [{"name": f"item {i}", "structure": structure, "tc_K": t} for i, t in enumerate(labels)]
    path.write_text(json.dumps(items))
    return str(path)


def test_booleans_and_t_c_outside_the_ingest_bounds_are_refused_naming_the_item(tmp_path):
    items = _items(tmp_path / "batch.json", [True, 9999, 1e-300, 501, False, 215.0, 0])
    folder = tmp_path / "set"
    folder.mkdir()
    for name in CIFS:
        shutil.copy(STRUCTURES / name, folder / name)
    labels = zip(CIFS, ("9999", "true", "500"), strict=True)
    rows = "".join(f"{name},{label}\n" for name, label in labels)
    (folder / "labels.csv").write_text("file,tc_K\n" + rows)
    labelled, rejected = read_labelled_structures([tmp_path / "batch.json", folder])
    assert sorted(e.label_tc_K for e in labelled) == [0.0, 215.0, 500.0]
    reasons = {f.reason for f in rejected}
    assert reasons == {
        f"{items}#0: tc_K true is a boolean, not a number of kelvin.",
        f"{items}#1: tc_K 9999 is above 500 K, the highest T_c accepted.",
        f"{items}#2: tc_K 1e-300 is above 0 but below the floor of 0.0001 K.",
        f"{items}#3: tc_K 501 is above 500 K, the highest T_c accepted.",
        f"{items}#4: tc_K false is a boolean, not a number of kelvin.",
        f"labels.csv line 2 ({CIFS[0]}): tc_K 9999 is above 500 K, the highest T_c accepted.",
        f"labels.csv line 3 ({CIFS[1]}): tc_K 'true' is not a number.",
    }


def test_evaluate_refuses_a_set_of_impossible_labels_before_loading_any_model(
    migrated_db, tmp_path
):
    items = _items(tmp_path / "batch.json", [True, 9999, 10**400])
    result = invoke_tcdb("--db", str(migrated_db), "evaluate", "--run", "latest", items)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "batch.json#0: tc_K true is a boolean, not a number of kelvin." in result.stderr
    assert "batch.json#1: tc_K 9999 is above 500 K" in result.stderr
    assert "batch.json#2: tc_K 1000000000000000000000000000000000000... is not a number." in (
        result.stderr
    )
    assert "No labelled structure could be read" in result.stderr
    assert query(migrated_db, "SELECT count(*) FROM prediction") == [(0,)]
