"""Literature hydrides: every column kept, ranges as ranges, bad rows rejected with reasons."""

from __future__ import annotations

import csv
import io

import pytest

from tcdb.core.records import Rejection
from tcdb.ingest import pipeline
from tcdb.ingest.literature import COLUMNS, parse_literature_row, parse_quantity
from tcdb.schema.database import connect
from tests.conftest import migrated_copy, query
from tests.ingest.slices import LITERATURE, STRUCTURES, make_sources


def row(**values) -> dict[str, str]:
    base = dict.fromkeys(COLUMNS, "")
    base.update(formula="LaH10", method="dft_harmonic", tc_K="250", pressure_GPa="170")
    base.update(values)
    return base


@pytest.fixture(scope="module")
def literature_db(real_sources, migrated_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lit")
    sources = make_sources(real_sources, folder / "sources", nims_rows=5, stanev_rows=5)
    db = migrated_copy(migrated_template, folder / "tcdb.duckdb")
    conn = connect(db)
    try:
        outcomes = {o.source_id: o for o in pipeline.ingest(conn, "literature", sources)}
    finally:
        conn.close()
    return db, sources, outcomes


def test_every_literature_row_is_an_entry_or_a_rejection(literature_db):
    db, sources, outcomes = literature_db
    with open(sources / LITERATURE, newline="") as handle:
        n_rows = sum(1 for _ in csv.DictReader(handle))
    outcome = outcomes["literature_hydrides"]
    assert outcome.n_records == n_rows
    assert outcome.n_loaded + outcome.n_rejected == n_rows
    assert query(db, "SELECT count(*) FROM literature_entry")[0][0] == outcome.n_loaded


def test_every_column_is_kept_in_the_raw_record(literature_db):
    db, _, _ = literature_db
    raw = query(db, "SELECT raw_json FROM literature_entry LIMIT 1")[0][0]
    assert set(COLUMNS) <= set(__import__("json").loads(raw))


def test_tc_ranges_get_their_mean_and_keep_the_range(literature_db):
    db, _, _ = literature_db
    rows = query(
        db,
        "SELECT tc_K, tc_low_K, tc_high_K FROM literature_entry "
        "WHERE formula = 'MgH12' AND tc_low_K IS NOT NULL",
    )
    assert rows == [(381.0, 360.0, 402.0)]


def test_pressure_ranges_become_low_high_and_mean(literature_db):
    db, _, _ = literature_db
    rows = query(
        db,
        "SELECT pressure_GPa, pressure_low_GPa, pressure_high_GPa FROM literature_entry "
        "WHERE formula = 'ThH9'",
    )
    assert (172.5, 170.0, 175.0) in rows


def test_retracted_rows_are_kept_but_excluded_from_training(literature_db):
    db, _, _ = literature_db
    rows = query(
        db,
        "SELECT excluded_from_training, exclusion_reason FROM literature_entry "
        "WHERE flags LIKE '%RETRACTED%'",
    )
    assert len(rows) == 2
    assert all(excluded and "RETRACTED" in reason for excluded, reason in rows)


def test_entries_with_a_cif_are_linked_to_the_ingested_structure(literature_db):
    db, sources, outcomes = literature_db
    n_files = len(list((sources / STRUCTURES).glob("*.cif")))
    assert outcomes["literature_structures"].n_loaded == n_files
    linked = query(
        db,
        "SELECT e.material_id, s.material_id, s.pressure_GPa, e.pressure_GPa "
        "FROM literature_entry e JOIN crystal_structure s ON s.id = e.structure_id",
    )
    assert len(linked) >= 40
    for entry_material, structure_material, structure_p, entry_p in linked:
        assert structure_material == entry_material
        assert structure_p == entry_p


def test_a_missing_cif_is_flagged_not_silently_dropped(literature_db):
    db, _, _ = literature_db
    missing = query(
        db,
        "SELECT structure_file FROM literature_entry "
        "WHERE structure_file IS NOT NULL AND structure_id IS NULL",
    )
    flagged = query(
        db,
        "SELECT structure_file FROM literature_entry WHERE flags LIKE '%structure_file_missing%'",
    )
    assert missing == flagged


def test_no_superconductivity_is_a_censored_observation_with_its_bound(literature_db):
    db, _, _ = literature_db
    rows = query(
        db,
        "SELECT m.tc_kind, m.tc_K, m.tc_upper_bound_K FROM measurement m "
        "JOIN literature_entry e ON e.id = m.origin_id "
        "WHERE e.formula = 'AlH3' AND e.tc_K IS NULL",
    )
    assert rows == [("not_superconducting", None, 4.0)]


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"tc_K": "-5"}, "negative_tc"),
        ({"tc_K": "hot"}, "bad_tc"),
        ({"pressure_GPa": "-3"}, "negative_pressure"),
        ({"pressure_GPa": "5000"}, "absurd_pressure"),
        ({"method": "guess"}, "unknown_method"),
        ({"doi": "doi:10.1/x"}, "bad_doi"),
        ({"formula": ""}, "empty_formula"),
    ],
)
def test_impossible_values_are_rejected_with_a_reason(values, code):
    result = parse_literature_row(row(**values))
    assert isinstance(result, Rejection)
    assert result.reason_code == code


def test_a_formula_with_a_description_resolves_to_its_composition():
    parsed = parse_literature_row(row(formula="CaH6 (CaHx, mainly CaH6)"))
    assert dict(parsed.composition.amounts) == {"Ca": 1.0, "H": 6.0}
    assert parsed.entry["n_h_per_host"] == 6.0


def test_an_unresolvable_formula_is_kept_and_excluded():
    parsed = parse_literature_row(row(formula="PdDx (deuteride)"))
    assert parsed.composition is None
    assert parsed.entry["excluded_from_training"]
    assert "variable amount x" in parsed.entry["exclusion_reason"]


def test_duplicate_rows_in_the_file_are_rejected_naming_the_first(tmp_path, migrated_db):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerow(row())
    writer.writerow(row(tc_K="240"))
    writer.writerow(row())
    path = tmp_path / "literature" / "hydrides_literature.csv"
    path.parent.mkdir()
    path.write_text(text.getvalue())
    (tmp_path / "literature" / "structures").mkdir()
    conn = connect(migrated_db)
    try:
        outcomes = {o.source_id: o for o in pipeline.ingest(conn, "literature", tmp_path)}
    finally:
        conn.close()
    outcome = outcomes["literature_hydrides"]
    assert (outcome.n_loaded, outcome.n_rejected) == (2, 1)
    reason = query(migrated_db, "SELECT record_ref, reason FROM ingest_rejection")
    assert reason == [("line 4", "duplicate of line 2")]


def test_parse_quantity_reads_values_ranges_and_blanks():
    assert parse_quantity("150", "pressure", "GPa").value == 150
    both = parse_quantity("170-175", "pressure", "GPa")
    assert (both.value, both.low, both.high) == (172.5, 170, 175)
    assert parse_quantity("", "pressure", "GPa").value is None
