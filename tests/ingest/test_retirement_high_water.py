"""The 20 % retirement rule walked around in two steps of 18 %: each step alone is allowed, but
together they take a third of the source. Retirements now count against the most records the
source has had active since retirements were last accepted (its high-water mark)."""

from __future__ import annotations

from tests.conftest import ingest_into, query
from tests.ingest.conftest import NIMS_HEADER as HEADER
from tests.ingest.slices import NIMS, head_lines


def _keep_rows(supercon, rows: int) -> None:
    original = (supercon / NIMS).with_suffix(".full")
    if not original.exists():
        original.write_bytes((supercon / NIMS).read_bytes())
    head_lines(original, supercon / NIMS, HEADER + rows)


def _nims(db, supercon, **kwargs):
    return ingest_into(db, supercon, "supercon", **kwargs)["nims_supercon"]


def _marks(db) -> list[tuple[int, int]]:
    """(records retired, high-water mark) of every succeeded NIMS run, oldest first."""
    return query(
        db,
        "SELECT n_retired, active_high_water FROM ingest_run WHERE source_id = 'nims_supercon' "
        "AND status = 'succeeded' ORDER BY started_at",
    )


def _active(db) -> int:
    sql = "SELECT count(*) FROM raw_nims_supercon WHERE retired_run_id IS NULL"
    return query(db, sql)[0][0]


def test_a_second_18_percent_step_is_refused_against_the_high_water_mark(migrated_db, supercon):
    assert _nims(migrated_db, supercon).status == "succeeded"
    _keep_rows(supercon, 164)  # 18 % of 200: allowed
    assert _nims(migrated_db, supercon).n_retired == 36
    _keep_rows(supercon, 134)  # 18 % of 164, but 33 % of the 200 the source had
    refused = _nims(migrated_db, supercon)
    assert refused.status == "refused"
    assert refused.message == (
        f"refused: {supercon / NIMS} would retire 30 records and leave 134 of the 200 its source "
        "has had active since retirements were last accepted (33% gone in all, more than the "
        "20% allowed), so nothing of it was written; if the file is meant to lose them, run "
        "the ingest again with --accept-retirements"
    )
    assert _active(migrated_db) == 164
    assert _marks(migrated_db) == [(0, 200), (36, 200)]


def test_accepting_the_retirements_resets_the_mark(migrated_db, supercon):
    _nims(migrated_db, supercon)
    _keep_rows(supercon, 164)
    _nims(migrated_db, supercon)
    _keep_rows(supercon, 134)
    accepted = _nims(migrated_db, supercon, accept_retirements=True)
    assert (accepted.status, accepted.n_retired) == ("succeeded", 30)
    assert _marks(migrated_db)[-1] == (30, 134) and _active(migrated_db) == 134
    _keep_rows(supercon, 120)  # 10 % of the new mark
    assert _nims(migrated_db, supercon).status == "succeeded"
    _keep_rows(supercon, 200)  # everything back: restored, and the mark rises with it
    back = _nims(migrated_db, supercon)
    assert (back.status, back.n_restored) == ("succeeded", 80)
    assert _marks(migrated_db)[-2:] == [(14, 134), (0, 200)]
