"""NaN, infinities, denormals, negative or absurd mu* are refused by every source with a code.

The attacks are the values themselves, written into each source format: the NIMS TSV, the
Stanev CSV, the literature CSV, the curated entries replayed by ingest, a hand-made entry, a
CIF with a NaN coordinate and a CIF whose name gives an absurd pressure.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest

from tcdb.core.records import Rejection
from tcdb.core.structure_files import read_structure_inputs
from tcdb.ingest.hand_entries import EntryError, add_entries
from tcdb.ingest.literature import COLUMNS, parse_literature_row
from tcdb.ingest.supercon import parse_tc
from tcdb.schema.database import connect
from tests.conftest import ingest_into, query
from tests.ingest.slices import LITERATURE, NIMS, STANEV, STRUCTURES, head_lines

HEADER = 3
LAH10 = {
    "formula": "LaH10",
    "tc_K": "250",
    "pressure_GPa": "170",
    "space_group": "Fm-3m",
    "method": "experiment",
    "reference": "Drozdov et al., Nature 569, 528 (2019)",
    "doi": "10.1038/s41586-019-1201-8",
}
BAD_TC = [
    ("nan", "non_finite_tc"),
    ("NaN", "non_finite_tc"),
    ("inf", "non_finite_tc"),
    ("-inf", "non_finite_tc"),
    ("1e999", "non_finite_tc"),
    ("1e-300", "tiny_tc"),
    ("-5", "negative_tc"),
    ("5000", "absurd_tc"),
]


def literature_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(LAH10)
    row.update(values)
    return row


def write_csv(path, rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.mark.parametrize(("text", "code"), [*BAD_TC, ("0.000325", None), ("0", None)])
def test_supercon_tc_bounds(text, code):
    """Rh's 0.325 mK, the lowest measured T_c, stays; 0 is 'not superconducting'."""
    result = parse_tc(text)
    assert (result.reason_code if isinstance(result, Rejection) else None) == code


@pytest.mark.parametrize(
    ("values", "code"),
    [
        *[({"tc_K": text}, code) for text, code in BAD_TC],
        ({"tc_low_K": "nan", "tc_high_K": "200", "tc_K": ""}, "non_finite_tc"),
        ({"pressure_GPa": "nan"}, "non_finite_pressure"),
        ({"pressure_GPa": "inf"}, "non_finite_pressure"),
        ({"pressure_GPa": "1e-300"}, "tiny_pressure"),
        ({"pressure_GPa": "-1"}, "negative_pressure"),
        ({"mu_star": "-5"}, "negative_mu_star"),
        ({"mu_star": "nan"}, "non_finite_mu_star"),
        ({"mu_star": "0.1;inf"}, "non_finite_mu_star"),
        ({"mu_star": "5"}, "absurd_mu_star"),
    ],
)
def test_literature_rows_with_impossible_values_are_rejected_with_their_code(values, code):
    result = parse_literature_row(literature_row(**values))
    assert isinstance(result, Rejection), values
    assert result.reason_code == code


def test_plausible_literature_values_still_pass():
    parsed = parse_literature_row(literature_row(mu_star="0.15;0.10", pressure_GPa="0"))
    assert not isinstance(parsed, Rejection)
    assert parsed.entry["mu_star"] == pytest.approx(0.125)


def test_nims_and_stanev_rows_with_nan_inf_or_denormal_tc_are_rejected(
    migrated_db, real_sources, tmp_path
):
    folder = tmp_path / "sources"
    nims_bad = [f"99000{i}\tX\tNb3Sn\tA15\tK\t{text}\tattack" for i, (text, _) in enumerate(BAD_TC)]
    stanev_bad = [f"Nb3Sn,{text}" for text, _ in BAD_TC]
    head_lines(real_sources / NIMS, folder / NIMS, HEADER + 5, nims_bad)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + 5, stanev_bad)
    ingest_into(migrated_db, folder, "supercon")
    for source, first_bad in (("nims_supercon", HEADER + 6), ("stanev_supercon", 7)):
        codes = dict(
            query(
                migrated_db,
                "SELECT record_ref, reason_code FROM ingest_rejection WHERE source_id = ?",
                source,
            )
        )
        for i, (_, code) in enumerate(BAD_TC):
            assert codes[f"line {first_bad + i}"] == code, (source, i)
    assert query(migrated_db, "SELECT count(*) FROM measurement WHERE NOT isfinite(tc_K)") == [(0,)]
    assert query(migrated_db, "SELECT min(tc_K) FROM measurement")[0][0] >= 1e-4


def test_the_literature_csv_and_the_curated_entries_reject_the_same_rows(migrated_db, tmp_path):
    attacks = [
        literature_row(tc_K="nan"),
        literature_row(pressure_GPa="nan", space_group="P1"),
        literature_row(mu_star="-5", space_group="P2"),
        literature_row(tc_K="1e-300", space_group="P3"),
        literature_row(space_group="P4"),  # the one good row
    ]
    sources, curated = tmp_path / "sources", tmp_path / "curated"
    write_csv(sources / LITERATURE, attacks)
    (sources / STRUCTURES).mkdir()
    write_csv(curated / "literature_entries.csv", attacks)
    outcomes = ingest_into(migrated_db, sources, "literature", curated_root=curated)
    expected = {
        "line 2": "non_finite_tc",
        "line 3": "non_finite_pressure",
        "line 4": "negative_mu_star",
        "line 5": "tiny_tc",
    }
    for source in ("literature_hydrides", "curated_entries"):
        assert (outcomes[source].n_loaded, outcomes[source].n_rejected) == (1, 4)
        codes = query(
            migrated_db,
            "SELECT record_ref, reason_code FROM ingest_rejection WHERE source_id = ?",
            source,
        )
        assert dict(codes) == expected
    assert query(migrated_db, "SELECT count(*) FROM literature_entry WHERE isnan(tc_K)") == [(0,)]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"mu_star": "-5"}, "mu* -5 is below 0"),
        ({"mu_star": "nan"}, "mu* nan is not a finite number"),
    ],
)
def test_add_entry_refuses_an_impossible_mu_star(migrated_db, tmp_path, values, words):
    sources = tmp_path / "sources"
    (sources / STRUCTURES).mkdir(parents=True)
    write_csv(sources / LITERATURE, [])
    conn = connect(migrated_db)
    try:
        with pytest.raises(EntryError, match=re.escape(words)):
            add_entries(conn, tmp_path / "curated", sources, [LAH10 | values])
    finally:
        conn.close()
    assert query(migrated_db, "SELECT count(*) FROM literature_entry") == [(0,)]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_structure_file_with_a_non_finite_coordinate_is_rejected(tmp_path, value):
    """A pymatgen JSON structure (what 'tcdb predict' reads) with a NaN coordinate crashed the
    process in the space-group search; it is now one rejection."""
    from pymatgen.core import Lattice, Structure

    structure = Structure(Lattice.cubic(5.1), ["La", "H"], [[0, 0, 0], [value, 0.5, 0.5]])
    path = tmp_path / "attack.json"
    path.write_text(json.dumps(structure.as_dict()))
    structures, failures = read_structure_inputs([path])
    assert structures == []
    assert [f.reason for f in failures] == [
        f"{path}#0: a coordinate or cell parameter is NaN or infinite."
    ]


def test_a_cif_whose_name_gives_an_absurd_pressure_is_rejected(migrated_db, real_sources, tmp_path):
    sources = tmp_path / "sources"
    (sources / STRUCTURES).mkdir(parents=True)
    write_csv(sources / LITERATURE, [])
    cif = sorted((real_sources / STRUCTURES).glob("*.cif"))[0]
    shutil.copy(cif, sources / STRUCTURES / "99999GPa_Fm-3m_LaH10.cif")
    outcome = ingest_into(migrated_db, sources, "literature")["literature_structures"]
    assert (outcome.n_loaded, outcome.n_rejected) == (0, 1)
    assert outcome.rejection_counts == {"absurd_pressure": 1}


def test_a_row_loaded_before_the_floor_existed_loses_its_measurement_and_gets_it_back(
    migrated_db, real_sources, tmp_path
):
    """A NIMS row with T_c 1e-300 ingested by the earlier rules (no floor) keeps its raw row,
    but its measurement is deprecated when the rules reject it, and restored if they accept it
    again."""
    from tcdb.core.parameters import IngestParameters

    folder = tmp_path / "sources"
    head_lines(
        real_sources / NIMS, folder / NIMS, HEADER + 5, ["990000\tX\tNb3Sn\tA15\tK\t1e-300\t-"]
    )
    head_lines(real_sources / STANEV, folder / STANEV, 1 + 5)
    denormal = "SELECT status FROM measurement WHERE tc_K = 1e-300"
    ingest_into(migrated_db, folder, "supercon", params=IngestParameters(tc_floor_K=0.0))
    assert query(migrated_db, denormal) == [("active",)]

    ingest_into(migrated_db, folder, "supercon")
    assert query(migrated_db, denormal) == [("deprecated",)]
    ledger = query(migrated_db, "SELECT action FROM curation_ledger WHERE stage = 'ingest'")
    assert ledger == [("deprecate",)]

    ingest_into(migrated_db, folder, "supercon", params=IngestParameters(tc_floor_K=0.0))
    assert query(migrated_db, denormal) == [("active",)]
