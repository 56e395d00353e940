"""SuperCon ingestion loses nothing: every row is stored, loaded or rejected with its reason."""

from __future__ import annotations

import pytest

from tcdb.ingest import runs as ingest_runs
from tcdb.ingest.runs import SourceFileError
from tcdb.ingest.sources.nims_supercon import info as NIMS_SUPERCON
from tcdb.ingest.supercon import parse_nims_row, parse_tc, read_nims
from tests.conftest import ingest_into, query
from tests.ingest.slices import NIMS, STANEV, head_lines

HEADER = 3


@pytest.fixture
def supercon_slice(real_sources, tmp_path):
    """The first 300 rows of both SuperCon files, plus hand-made bad rows in NIMS."""
    folder = tmp_path / "sources"
    bad = [
        "900001\tX\tLa1.85Sr0.15Cu1O4\tT\tmK\t37\tbad unit",
        "900002\tX\tNb3Sn\tA15\tK\t-4\tnegative",
        "900003\tX\tNb3Ge\tA15\tK\t9000\tabsurd",
        "900004\tonly three\tfields",
        "900005\tX\tYBa2Cu3Oz\tY123\tK\t90\tvariable",
        "900006\tX\tNb3Al\tA15\tk\t18.5\tlower-case unit",
    ]
    head_lines(real_sources / NIMS, folder / NIMS, HEADER + 300, bad)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + 300)
    return folder


def test_every_row_is_loaded_or_rejected_and_kept_verbatim(migrated_db, supercon_slice):
    outcome = ingest_into(migrated_db, supercon_slice, "supercon")["nims_supercon"]
    assert outcome.n_records == 306
    assert outcome.n_loaded + outcome.n_rejected == outcome.n_records
    file_rows = [line.split("\t") for line in (supercon_slice / NIMS).read_text().splitlines()]
    stored = query(
        migrated_db,
        "SELECT num, name, element, str3, utc, tc, journal FROM raw_nims_supercon "
        "ORDER BY line_number",
    )
    assert [list(r) for r in stored[:300]] == file_rows[HEADER : HEADER + 300]
    assert len(stored) == 306


def test_bad_rows_are_rejected_with_line_and_reason(migrated_db, supercon_slice):
    ingest_into(migrated_db, supercon_slice, "supercon")
    rejections = dict(
        query(
            migrated_db,
            "SELECT record_ref, reason_code || ': ' || reason FROM ingest_rejection "
            "WHERE source_id = 'nims_supercon'",
        )
    )
    first_bad = HEADER + 300 + 1
    assert rejections[f"line {first_bad}"] == "unknown_unit: unknown T_c unit 'mK' (expected K)"
    assert rejections[f"line {first_bad + 1}"].startswith("negative_tc")
    assert rejections[f"line {first_bad + 2}"].startswith("absurd_tc")
    assert rejections[f"line {first_bad + 3}"].startswith("malformed_row")
    assert rejections[f"line {first_bad + 4}"] == "variable_amount: variable amount z in O"
    assert f"line {first_bad + 5}" not in rejections  # 'k' is read as kelvin
    flags = query(
        migrated_db,
        "SELECT m.flags FROM measurement m JOIN raw_nims_supercon r ON r.id = m.origin_id "
        "WHERE r.num = '900006'",
    )
    assert flags == [("unit_k_read_as_K",)]


def test_tc_zero_is_a_censored_observation_not_zero_kelvin(migrated_db, supercon_slice):
    ingest_into(migrated_db, supercon_slice, "supercon")
    zero_rows = query(
        migrated_db,
        "SELECT count(*) FROM raw_stanev_supercon r WHERE CAST(tc AS DOUBLE) = 0 AND NOT EXISTS "
        "(SELECT 1 FROM ingest_rejection j WHERE j.source_id = 'stanev_supercon' "
        "AND j.record_ref = 'line ' || r.line_number)",
    )[0][0]
    assert zero_rows > 0
    censored = query(
        migrated_db,
        "SELECT tc_kind, tc_K FROM measurement m "
        "JOIN raw_stanev_supercon r ON r.id = m.origin_id WHERE CAST(r.tc AS DOUBLE) = 0",
    )
    assert len(censored) == zero_rows
    assert set(censored) == {("not_superconducting", None)}
    assert query(migrated_db, "SELECT count(*) FROM measurement WHERE tc_K = 0")[0][0] == 0


def test_reingesting_an_unchanged_file_changes_nothing(migrated_db, supercon_slice):
    ingest_into(migrated_db, supercon_slice, "supercon")
    before = query(migrated_db, "SELECT count(*) FROM ingest_run")[0][0]
    outcomes = ingest_into(migrated_db, supercon_slice, "supercon")
    assert {o.status for o in outcomes.values()} == {"unchanged"}
    assert "unchanged since run" in outcomes["nims_supercon"].message
    assert query(migrated_db, "SELECT count(*) FROM ingest_run")[0][0] == before


def test_a_changed_file_makes_a_new_run_recording_the_differences(migrated_db, supercon_slice):
    ingest_into(migrated_db, supercon_slice, "supercon")
    path = supercon_slice / NIMS
    lines = path.read_text().splitlines()
    removed = lines[HEADER + 10]
    lines[HEADER + 10 : HEADER + 11] = []
    lines.append("900100\tNew\tNb1Se2\tT\tK\t7.1\tinvented for the test")
    path.write_text("\n".join(lines) + "\n")

    outcome = ingest_into(migrated_db, supercon_slice, "supercon")["nims_supercon"]
    assert outcome.status == "succeeded"
    assert (outcome.n_loaded, outcome.n_retired) == (1, 1)
    assert outcome.n_loaded + outcome.n_unchanged + outcome.n_rejected == outcome.n_records
    retired = query(
        migrated_db,
        "SELECT r.retired_run_id, m.status, m.deprecation_reason FROM raw_nims_supercon r "
        "JOIN measurement m ON m.origin_id = r.id WHERE r.num = ?",
        removed.split("\t")[0],
    )
    assert retired[0][0] == outcome.run_id
    assert retired[0][1] == "deprecated" and "removed" in retired[0][2]
    previous = query(
        migrated_db, "SELECT previous_run_id FROM ingest_run WHERE id = ?", outcome.run_id
    )
    assert previous[0][0] is not None


def test_a_crash_half_way_leaves_the_database_as_before(migrated_db, supercon_slice, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ingest_runs, "_retire", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        ingest_into(migrated_db, supercon_slice, "supercon")
    for table in ("raw_nims_supercon", "measurement", "material", "ingest_run", "source"):
        assert query(migrated_db, f"SELECT count(*) FROM {table}")[0][0] == 0, table


def test_a_file_with_the_wrong_header_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "nims.tsv"
    path.write_text("a\tb\nc\td\nnot\tthe\theader\n1\t2\n")
    with pytest.raises(SourceFileError, match=r"nims\.tsv: line 3 should name the columns"):
        read_nims(path)


def test_a_missing_source_folder_is_a_clear_error(migrated_db, tmp_path):
    with pytest.raises(SourceFileError, match="TCDB_SOURCES"):
        ingest_into(migrated_db, tmp_path / "nowhere", "supercon")


def test_parse_keeps_the_tc_and_flags_cleaned_formulas():
    row = parse_nims_row(["2", "(Ba,La)2CuO4", "Ba0.2La1.8Cu1O4-Y", "T", "K", "29", "J"])
    assert row.tc_kind == "value" and row.tc_K == 29.0
    assert "formula_cleaned" in row.flags
    assert dict(row.composition.amounts) == {"Ba": 0.2, "Cu": 1.0, "La": 1.8, "O": 4.0}
    assert parse_tc("0") == ("not_superconducting", None)


def test_the_whole_nims_table_adds_up(session_ingest, real_sources):
    """Counted on the session's ingest of the whole table (curation keeps raw rows and
    rejections as they were loaded)."""
    outcome = session_ingest.outcomes[NIMS_SUPERCON.id]
    db = session_ingest.db
    total = sum(1 for line in (real_sources / NIMS).read_text().splitlines()[HEADER:] if line)
    assert outcome.status == "succeeded"
    assert outcome.n_records == total == 26_321
    assert outcome.n_loaded + outcome.n_rejected == total
    assert query(db, "SELECT count(*) FROM raw_nims_supercon")[0][0] == total
    rejected = query(
        db,
        "SELECT count(*) FROM ingest_rejection WHERE source_id = 'nims_supercon'",
    )[0][0]
    assert rejected == outcome.n_rejected > 0
    stored = query(
        db,
        "SELECT n_records, n_loaded, n_rejected FROM ingest_run WHERE id = ?",
        outcome.run_id,
    )
    assert stored == [(outcome.n_records, outcome.n_loaded, outcome.n_rejected)]


def test_the_whole_stanev_table_adds_up(session_ingest, real_sources):
    """The session ingests Stanev's table whole too: every line is a stored row, loaded or
    rejected."""
    outcome = session_ingest.outcomes["stanev_supercon"]
    total = sum(1 for line in (real_sources / STANEV).read_text().splitlines()[1:] if line)
    assert outcome.status == "succeeded" and outcome.n_records == total > 16_000
    assert outcome.n_loaded + outcome.n_rejected == total
    db = session_ingest.db
    assert query(db, "SELECT count(*) FROM raw_stanev_supercon")[0][0] == total
    rejected = "SELECT count(*) FROM ingest_rejection WHERE source_id = 'stanev_supercon'"
    assert query(db, rejected)[0][0] == outcome.n_rejected


def test_each_nims_record_keeps_the_year_of_its_reference_and_a_reingest_keeps_them(
    migrated_db, supercon_slice
):
    from tcdb.core.references import reference_year
    from tcdb.ingest.report import format_reports, latest_reports
    from tcdb.schema.database import connect

    ingest_into(migrated_db, supercon_slice, "supercon")
    stored = query(migrated_db, "SELECT journal, reference_year FROM raw_nims_supercon")
    assert ("Jpn.J.Appl.Phys., 26(1987)L223", 1987) in stored
    assert all(year == reference_year(journal) for journal, year in stored)
    no_year = [journal for journal, year in stored if year is None]
    assert "lower-case unit" in no_year  # loaded although its reference states no year
    before = query(migrated_db, "SELECT id, reference_year FROM raw_nims_supercon ORDER BY id")
    outcomes = ingest_into(migrated_db, supercon_slice, "supercon")
    assert outcomes["nims_supercon"].status == "unchanged"
    after = query(migrated_db, "SELECT id, reference_year FROM raw_nims_supercon ORDER BY id")
    assert after == before
    conn = connect(migrated_db)
    try:
        text = format_reports(latest_reports(conn))
    finally:
        conn.close()
    with_year = len(stored) - len(no_year)
    assert f"nims_supercon: {with_year:,} of {len(stored):,} records" in text
