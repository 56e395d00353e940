"""Screening jobs on disk and in the database: a shard's Parquet is whole or absent, and
loading a shard twice adds nothing."""

from __future__ import annotations

import pyarrow as pa

from tcdb.schema.database import connect
from tcdb.store.model_runs import prediction_table
from tcdb.store.screening_jobs import (
    Job,
    finished_shards,
    load_shard,
    open_job,
    prediction_schema,
    shards_on_disk,
    stage_shard,
    write_shard,
)
from tests.conftest import query

TABLES = {
    "prediction": prediction_schema("tc_K"),
    "rejections": pa.schema([("input_path", pa.string()), ("reason", pa.string())]),
}


def register_run(conn, run_id: str = "run-1") -> None:
    """A succeeded, hashed ``model_run`` row: what a job's run must be to be screened with."""
    conn.execute(
        "INSERT INTO model_run (id, model, snapshot_id, seed, config_json, manifest_sha256, "
        "status, tcdb_version, started_at) VALUES (?, 'cvcnn', 'snap', 0, '{}', ?, "
        "'succeeded', 'test', now())",
        [run_id, "0" * 64],
    )


def job_of(tmp_path, shards: int = 3, name: str = "job-test") -> Job:
    return Job(name, "predict", "run-1", "ray", shards, tmp_path / "jobs" / name, {}, {}, TABLES)


def tables_of(shard: int, run_id: str = "run-1") -> dict[str, pa.Table]:
    rows = [{"model_run_id": run_id, "subject_kind": "input_structure",
             "subject_id": f"s{shard}-{k}", "tc_K": float(k)} for k in range(4)]  # fmt: skip
    return {"prediction": prediction_table(rows),
            "rejections": pa.table({"input_path": ["x#9"], "reason": ["x#9: bad"]})}  # fmt: skip


def test_a_shard_loaded_twice_is_stored_once_and_recorded_once(migrated_db, tmp_path):
    job = job_of(tmp_path)
    conn = connect(migrated_db)
    try:
        register_run(conn)
        assert open_job(conn, job) == set()
        write_shard(conn, job, 1, tables_of(1))
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


def test_a_staged_shard_that_was_never_renamed_is_not_taken_for_a_written_one(
    migrated_db, tmp_path
):
    job = job_of(tmp_path)
    conn = connect(migrated_db)
    try:
        register_run(conn)
        open_job(conn, job)
        stage_shard(job, 2, tables_of(2))  # a writer died before recording and renaming
        write_shard(conn, job, 0, tables_of(0))
    finally:
        conn.close()
    assert shards_on_disk(job) == {0}
