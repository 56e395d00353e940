"""Screening jobs on disk and in the database: a shard's Parquet is whole or absent, and
loading a shard twice adds nothing."""

from __future__ import annotations

import pyarrow as pa

from schema.database import connect
from store.model_runs import prediction_table
from store.screening_jobs import (
    Job,
    finished_shards,
    load_shard,
    open_job,
    write_shard,
    written_shards,
)
from tests.conftest import query


def _job(tmp_path) -> Job:
    return Job("job-test", "predict", "run-1", "ray", 3, tmp_path / "jobs" / "job-test", {})


def _tables(shard: int) -> dict[str, pa.Table]:
    rows = [{"model_run_id": "run-1", "subject_kind": "input_structure",
             "subject_id": f"s{shard}-{k}", "tc_K": float(k)} for k in range(4)]  # fmt: skip
    return {"prediction": prediction_table(rows),
            "rejections": pa.table({"input_path": ["x#9"], "reason": ["x#9: bad"]})}  # fmt: skip


def test_a_shard_loaded_twice_is_stored_once_and_recorded_once(migrated_db, tmp_path):
    job = _job(tmp_path)
    conn = connect(migrated_db)
    try:
        assert open_job(conn, job) == set()
        write_shard(job, 1, _tables(1))
        assert load_shard(conn, job, 1) is True
        assert load_shard(conn, job, 1) is False  # already recorded: nothing written
        assert finished_shards(conn, job.id) == {1}
        assert open_job(conn, job) == {1}  # opening the job again finds what is done
    finally:
        conn.close()
    assert query(migrated_db, "SELECT count(*) FROM prediction") == [(4,)]
    assert query(migrated_db, "SELECT shard, predicted, rejected FROM screening_shard") == [
        (1, 4, 1)
    ]
    assert query(migrated_db, "SELECT count(*) FROM screening_job") == [(1,)]


def test_a_staged_shard_that_was_never_renamed_is_not_taken_for_a_written_one(tmp_path):
    job = _job(tmp_path)
    job.folder.mkdir(parents=True)
    (job.folder / "shard-000002.4242.partial").mkdir()  # a writer died mid-write
    write_shard(job, 0, _tables(0))
    assert written_shards(job) == {0}
