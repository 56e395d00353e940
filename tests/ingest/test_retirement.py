"""A record that comes back is restored; a file that would retire much of a source is refused.

Each test is the attack itself on small real slices: undo a one-row edit, truncate a file,
empty it down to its header.
"""

from __future__ import annotations

import pytest

from tests.conftest import ingest_into, query
from tests.ingest.conftest import NIMS_HEADER as HEADER
from tests.ingest.conftest import SUPERCON_ROWS as ROWS
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, head_lines, tar_slice


@pytest.fixture
def literature(real_sources, tmp_path):
    """The whole literature CSV and an empty structures folder."""
    folder = tmp_path / "sources"
    head_lines(real_sources / LITERATURE, folder / LITERATURE, 10_000)
    (folder / "literature" / "structures").mkdir()
    return folder


def _active(db, table: str, source: str) -> int:
    return query(
        db,
        f"SELECT count(*) FROM {table} WHERE source_id = ? AND retired_run_id IS NULL",
        source,
    )[0][0]


def _active_measurements(db, source: str) -> int:
    return query(
        db,
        "SELECT count(*) FROM measurement WHERE source_id = ? AND status = 'active'",
        source,
    )[0][0]


def test_undoing_a_one_row_edit_restores_the_record_and_its_measurement(migrated_db, supercon):
    ingest_into(migrated_db, supercon, "supercon")
    before = _active_measurements(migrated_db, "nims_supercon")
    path = supercon / NIMS
    original = path.read_text()
    lines = original.splitlines()
    edited = lines[HEADER + 5].split("\t")
    edited[5] = str(float(edited[5]) + 1)
    lines[HEADER + 5] = "\t".join(edited)
    path.write_text("\n".join(lines) + "\n")
    edit = ingest_into(migrated_db, supercon, "supercon")["nims_supercon"]
    assert (edit.n_loaded, edit.n_retired, edit.n_restored) == (1, 1, 0)

    path.write_text(original)
    undo = ingest_into(migrated_db, supercon, "supercon")["nims_supercon"]
    assert (undo.n_loaded, undo.n_retired, undo.n_restored) == (0, 1, 1)
    assert "restored" in undo.message
    assert _active(migrated_db, "raw_nims_supercon", "nims_supercon") == ROWS
    assert _active_measurements(migrated_db, "nims_supercon") == before
    ledger = query(
        migrated_db,
        "SELECT action, count(*) FROM curation_ledger WHERE stage = 'ingest' "
        "AND json_extract_string(parameters_json, '$.ingest_run_id') = ? GROUP BY action "
        "ORDER BY action",
        undo.run_id,
    )
    assert ledger == [("restore", 1), ("retire", 1)]


def test_a_restored_literature_entry_gets_back_its_own_status(migrated_db, literature):
    """An entry excluded from training comes back excluded, not active, and one deprecated by
    hand stays deprecated."""
    first = ingest_into(migrated_db, literature, "literature")["literature_hydrides"]
    statuses = "SELECT status, count(*) FROM measurement GROUP BY status ORDER BY status"
    before = query(migrated_db, statuses)
    path = literature / LITERATURE
    original = path.read_text()
    lines = original.splitlines()
    del lines[1:3]  # two data rows
    path.write_text("\n".join(lines) + "\n")
    removed = ingest_into(migrated_db, literature, "literature")["literature_hydrides"]
    assert removed.n_retired == 2 and first.n_loaded > 200

    path.write_text(original)
    restored = ingest_into(migrated_db, literature, "literature")["literature_hydrides"]
    assert (restored.n_loaded, restored.n_restored, restored.n_retired) == (0, 2, 0)
    assert query(migrated_db, statuses) == before
    assert _active(migrated_db, "literature_entry", "literature_hydrides") == first.n_loaded


@pytest.mark.parametrize(
    ("keep", "what"), [(HEADER, "header-only"), (HEADER + 20, "truncated to 20 rows")]
)
def test_a_file_that_would_retire_most_records_is_refused(migrated_db, supercon, keep, what):
    ingest_into(migrated_db, supercon, "supercon")
    runs = query(migrated_db, "SELECT count(*) FROM ingest_run")[0][0]
    head_lines(supercon / NIMS, supercon / NIMS, keep)
    outcome = ingest_into(migrated_db, supercon, "supercon")["nims_supercon"]
    assert outcome.status == "refused", what
    assert "--accept-retirements" in outcome.message
    assert f"would retire {ROWS - (keep - HEADER):,} of {ROWS:,}" in outcome.message
    assert _active(migrated_db, "raw_nims_supercon", "nims_supercon") == ROWS
    assert query(migrated_db, "SELECT count(*) FROM ingest_run")[0][0] == runs
    assert query(migrated_db, "SELECT count(*) FROM measurement WHERE status = 'deprecated'") == [
        (0,)
    ]


def test_the_flag_accepts_a_header_only_file(migrated_db, supercon):
    ingest_into(migrated_db, supercon, "supercon")
    head_lines(supercon / NIMS, supercon / NIMS, HEADER)
    outcome = ingest_into(migrated_db, supercon, "supercon", accept_retirements=True)
    nims = outcome["nims_supercon"]
    assert (nims.status, nims.n_records, nims.n_retired) == ("succeeded", 0, ROWS)
    assert _active(migrated_db, "raw_nims_supercon", "nims_supercon") == 0
    assert _active_measurements(migrated_db, "nims_supercon") == 0


def test_a_truncated_literature_file_is_refused_and_the_other_sources_still_run(
    migrated_db, real_sources, supercon, literature
):
    ingest_into(migrated_db, literature, "literature")
    head_lines(literature / LITERATURE, literature / LITERATURE, 1)  # the header only
    assert supercon == literature  # one sources folder: SuperCon slices beside the literature
    tar_slice(real_sources / MP_TAR, literature / MP_TAR, 3)
    outcomes = ingest_into(migrated_db, literature, "all")
    assert outcomes["literature_hydrides"].status == "refused"
    assert "would retire 245 of 245" in outcomes["literature_hydrides"].message
    assert outcomes["nims_supercon"].status == "succeeded"
    assert _active(migrated_db, "literature_entry", "literature_hydrides") == 245


def test_a_small_change_is_not_refused(migrated_db, supercon):
    ingest_into(migrated_db, supercon, "supercon")
    head_lines(supercon / STANEV, supercon / STANEV, 1 + ROWS - 10)  # 5 % of the rows
    outcome = ingest_into(migrated_db, supercon, "supercon")["stanev_supercon"]
    assert (outcome.status, outcome.n_retired) == ("succeeded", 10)


def test_a_header_only_nims_file_on_an_empty_database_loads_nothing(migrated_db, supercon):
    head_lines(supercon / NIMS, supercon / NIMS, HEADER)
    outcome = ingest_into(migrated_db, supercon, "supercon")["nims_supercon"]
    assert (outcome.status, outcome.n_records) == ("succeeded", 0)
