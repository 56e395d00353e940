"""``tcdb evaluate``: a cvcnn run scored on labelled structures it never saw, overall and per
T_c band, with a parity plot and a stored result; every unusable file, row or item named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tcdb.ml.labelled_structures import LabelTableError, read_labelled_structures
from tcdb.ml.metrics import regression
from tcdb.ml.structural.external_evaluation import band_of, bands, score_external
from tcdb.ml.structural.parameters import EVALUATION_BAND_EDGES_K
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES, query

LITERATURE = SOURCES / "literature" / "structures"
CIFS = ["100GPa_Im-3m_CaH6.cif", "100GPa_Pm-3m_NaH6.cif", "200GPa_C2_m_LaH7.cif",
        "100GPa_P-1_LaH5.cif", "100GPa_Cmmm_Na2H11.cif"]  # fmt: skip
LABELS = [5.0, 20.0, 50.0, 150.0, 240.0]  # one or more per band


def _labelled_folder(folder, labels=LABELS, extra_rows=""):
    folder.mkdir(parents=True, exist_ok=True)
    for name in CIFS:
        shutil.copy(LITERATURE / name, folder / name)
    rows = "".join(f"{n},{t}\n" for n, t in zip(CIFS, labels, strict=True))
    (folder / "labels.csv").write_text("file,tc_K\n" + rows + extra_rows)
    return folder


def _json_items(path):
    from pymatgen.core import Structure

    cah6 = Structure.from_file(LITERATURE / CIFS[0])
    items = [
        {"name": "CaH6 item", "structure": cah6.as_dict(), "tc_K": 215.0},
        {"name": "no label", "structure": cah6.as_dict()},
        {"name": "below zero", "structure": cah6.as_dict(), "tc_K": -4},
    ]
    path.write_text(json.dumps(items))
    return path


def test_bands_cover_every_t_c_once():
    names = [band_of(t) for t in (0.0, 9.99, 10.0, 29.9, 30.0, 76.9, 77.0, 400.0)]
    assert names == ["< 10 K", "< 10 K", "10–30 K", "10–30 K", "30–77 K", "30–77 K", "≥ 77 K",
                     "≥ 77 K"]  # fmt: skip
    assert len(bands()) == len(EVALUATION_BAND_EDGES_K) + 1


def test_each_band_is_scored_on_its_own_items():
    rng = np.random.default_rng(3)
    labels = np.array([1.0, 4.0, 12.0, 25.0, 28.0, 40.0, 90.0, 150.0, 200.0])
    predicted = labels + rng.normal(0, 5, len(labels))
    scored = score_external(labels, predicted, np.full(len(labels), np.nan))
    assert scored["overall"]["n"] == len(labels) and scored["overall"]["protocol"] == "external"
    assert sum(b["n"] for b in scored["bands"]) == len(labels)
    for band in scored["bands"]:
        inside = np.array([band_of(t) == band["band"] for t in labels])
        expected = regression(labels[inside], predicted[inside])
        assert band["n"] == expected["n"]
        assert band["rmse_K"] == pytest.approx(expected["rmse_K"])
    single = next(b for b in scored["bands"] if b["band"] == "30–77 K")
    assert single["n"] == 1 and single["r2"] is None  # one label: no r², stored as null
    assert scored["spread_mean_K"] is None


def test_labels_are_matched_and_bad_rows_and_items_named_by_file_and_line(tmp_path):
    folder = _labelled_folder(tmp_path / "set", extra_rows="missing.cif,3\n")
    (folder / "labels.csv").write_text(
        (folder / "labels.csv").read_text().replace(f"{CIFS[3]},150.0", f"{CIFS[3]},-2")
        .replace(f"{CIFS[4]},240.0", f"{CIFS[4]},")
    )  # fmt: skip
    shutil.copy(LITERATURE / "200GPa_C2_m_Mg2H7.cif", folder / "unlabelled.cif")
    items = _json_items(tmp_path / "items.json")
    labelled, rejected = read_labelled_structures([folder, items])
    by_name = {entry.item.name: entry.label_tc_K for entry in labelled}
    assert by_name == {CIFS[0]: 5.0, CIFS[1]: 20.0, CIFS[2]: 50.0, "CaH6 item": 215.0}
    reasons = "\n".join(f.reason for f in rejected)
    assert f"labels.csv line 5 ({CIFS[3]}): tc_K -2 is negative" in reasons
    assert f"labels.csv line 6 ({CIFS[4]}): tc_K is missing" in reasons
    assert "labels.csv line 7: no structure file 'missing.cif' among the inputs" in reasons
    assert "unlabelled.cif: no label" in reasons
    assert "items.json#1: tc_K is missing" in reasons
    assert "items.json#2: tc_K -4 is negative" in reasons


def test_a_labels_csv_that_names_no_given_file_is_refused(tmp_path):
    folder = _labelled_folder(tmp_path / "set")
    other = tmp_path / "other.csv"
    other.write_text("file,tc_K\nnothing.cif,3\n")
    with pytest.raises(LabelTableError, match=r"other\.csv: no row names any of the 5"):
        read_labelled_structures([folder, other])
    (folder / "labels.csv").write_text("structure,Tc\na.cif,3\n")
    with pytest.raises(LabelTableError, match="needs a file column"):
        read_labelled_structures([folder])


def test_evaluate_scores_stores_and_plots_a_run(models_db, trained_models, tmp_path):
    folder = _labelled_folder(tmp_path / "set")
    items = _json_items(tmp_path / "items.json")
    run = trained_models.cvcnn.id
    shown = invoke_tcdb("--db", str(models_db), "evaluate", "--run", run, str(folder),
                        str(items), "--format", "json")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "items.json#1: tc_K is missing" in shown.stderr
    result = json.loads(shown.stdout)
    assert result["run_id"] == run and len(result["items"]) == len(CIFS) + 1

    ((eid, protocol, n, metrics_json, plot, inputs_json),) = query(
        models_db, "SELECT id, protocol, n, metrics_json, plot_path, inputs_json FROM evaluation"
    )
    assert (eid, protocol, n) == (result["evaluation_id"], "external", len(CIFS) + 1)
    stored = query(models_db, "SELECT tc_K, extra_json FROM prediction WHERE subject_kind = "
                   "'evaluation_item' ORDER BY subject_id")  # fmt: skip
    labels = np.array([json.loads(extra)["label_tc_K"] for _, extra in stored])
    predicted = np.array([tc for tc, _ in stored])
    assert sorted(labels) == sorted([*LABELS, 215.0])
    metrics = json.loads(metrics_json)
    expected = regression(labels, predicted)
    assert metrics["overall"]["rmse_K"] == pytest.approx(expected["rmse_K"])
    assert metrics["overall"]["n"] == len(labels) and metrics["rejected"] == 2
    assert [b["n"] for b in metrics["bands"]] == [1, 1, 1, 3]
    assert plot.endswith(f"evaluations/{eid}/parity.png")
    assert Path(plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(json.loads(inputs_json)) == 2

    again = invoke_tcdb("--db", str(models_db), "evaluate", "--run", run, str(folder),
                        str(items))  # fmt: skip
    assert again.returncode == 0 and f"evaluation {eid}" in again.stdout
    assert "≥ 77 K" in again.stdout and "parity plot:" in again.stdout
    assert query(models_db, "SELECT count(*) FROM evaluation") == [(1,)]  # the same set, once


def test_evaluate_says_which_run_is_wrong(models_db, trained_models, tmp_path):
    folder = _labelled_folder(tmp_path / "set")
    unknown = invoke_tcdb("--db", str(models_db), "evaluate", "--run", "no-such-run", str(folder))
    assert unknown.returncode != 0 and "No model run 'no-such-run'" in unknown.stderr
    composition = trained_models.composition.id
    other = invoke_tcdb("--db", str(models_db), "evaluate", "--run", composition, str(folder))
    assert other.returncode != 0 and "composition run, not cvcnn" in other.stderr
    assert "Traceback" not in unknown.stderr + other.stderr
    csv = invoke_tcdb("--db", str(models_db), "evaluate", "--run", trained_models.cvcnn.id,
                      str(folder), "--format", "csv")  # fmt: skip
    assert csv.stdout.splitlines()[0] == "band,n,r2,rmse_K,mae_K"
    assert csv.stdout.splitlines()[1].startswith(f"all,{len(CIFS)},")
