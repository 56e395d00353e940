"""A job folder cannot forge predictions: every attack on ``<db folder>/jobs/<job>/`` from
issue #26, each refused with one sentence before anything of it reaches the database.

The shards are written as the engine writes them (staged, manifest hash recorded, renamed,
loaded), on a real database file; the attacker can write the job folder, not the database."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tcdb.ml.screening_engine import resumable_shards
from tcdb.schema.database import connect
from tcdb.store.artifacts import sha256_of
from tcdb.store.model_runs import prediction_table
from tcdb.store.screening_jobs import (
    Job,
    JobError,
    JobNameError,
    ShardIntegrityError,
    check_job_name,
    job_folder,
    load_shard,
    open_job,
    prediction_schema,
    publish_shard,
    record_shard,
    shard_tables,
    stage_shard,
    write_shard,
)
from tests.conftest import query
from tests.store.test_screening_jobs import TABLES, job_of, register_run, tables_of

FORGED = "SELECT count(*) FROM prediction WHERE tc_K > 1000 OR model_run_id <> 'run-1'"


@pytest.fixture
def job_db(migrated_db, tmp_path):
    """A job of 3 shards: shard 0 computed and loaded, shard 1 written by a command that died
    before loading it (the case resuming is for), shard 2 not computed."""
    job = job_of(tmp_path)
    conn = connect(migrated_db)
    try:
        register_run(conn)
        open_job(conn, job)
        write_shard(conn, job, 0, tables_of(0))
        load_shard(conn, job, 0)
        staged = stage_shard(job, 1, tables_of(1))
        record_shard(conn, job, staged)
        publish_shard(job, staged)
    finally:
        conn.close()
    return migrated_db, job


def _resume(db, job) -> list[int]:
    conn = connect(db)
    try:
        pending = resumable_shards(conn, job, {0})
        for shard in pending:
            load_shard(conn, job, shard)
        return pending
    finally:
        conn.close()


def _forged_predictions(run_id: str = "never-registered") -> pa.Table:
    rows = [{"model_run_id": run_id, "subject_kind": "input_structure", "subject_id": "LaH10",
             "tc_K": 9999.0}]  # fmt: skip
    return prediction_table(rows).select(TABLES["prediction"].names).cast(TABLES["prediction"])


def test_the_shard_a_dead_command_wrote_is_loaded_once_checked(job_db):
    db, job = job_db
    assert _resume(db, job) == [1]
    assert query(db, "SELECT count(*) FROM prediction") == [(8,)]
    assert query(db, "SELECT shard FROM screening_shard ORDER BY shard") == [(0,), (1,)]


def test_a_forged_prediction_parquet_is_refused_and_nothing_of_it_is_stored(job_db):
    db, job = job_db
    forged = job.shard_folder(1) / "prediction.parquet"
    pq.write_table(_forged_predictions(), forged)
    with pytest.raises(ShardIntegrityError, match="differs from the file job job-test wrote"):
        _resume(db, job)
    assert query(db, FORGED) == [(0,)]
    assert query(db, "SELECT count(*) FROM screening_shard WHERE shard = 1") == [(0,)]


def test_a_forged_file_with_a_manifest_rewritten_to_match_is_refused(job_db):
    db, job = job_db
    folder = job.shard_folder(1)
    pq.write_table(_forged_predictions(), folder / "prediction.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    data = (folder / "prediction.parquet").read_bytes()
    manifest["files"]["prediction.parquet"] = {"sha256": sha256_of(data), "size": len(data),
                                               "rows": 1}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    with pytest.raises(ShardIntegrityError, match="differs from the manifest job job-test"):
        _resume(db, job)
    assert query(db, FORGED) == [(0,)]


def test_a_shard_outside_the_plan_is_refused_and_nothing_is_loaded(job_db):
    db, job = job_db
    shutil.copytree(job.shard_folder(1), job.folder / "shard-000007")
    with pytest.raises(ShardIntegrityError, match="shard 7 is outside job job-test's plan of 3"):
        _resume(db, job)
    assert query(db, "SELECT count(*) FROM screening_shard") == [(1,)]  # shard 1 waits too


def test_a_whole_shard_folder_the_job_never_wrote_is_refused(job_db):
    db, job = job_db
    folder = job.shard_folder(2)
    shutil.copytree(job.shard_folder(1), folder)  # a consistent folder, even its manifest
    with pytest.raises(ShardIntegrityError, match="holds no manifest hash for shard 2"):
        _resume(db, job)
    assert query(db, "SELECT count(*) FROM screening_shard") == [(1,)]


def test_another_shards_folder_renamed_into_place_is_refused(job_db):
    """Shard 0's own recorded files, moved to shard 1's place: its manifest names shard 0."""
    db, job = job_db
    shutil.rmtree(job.shard_folder(1))
    shutil.copytree(job.shard_folder(0), job.shard_folder(1))
    with pytest.raises(ShardIntegrityError, match="differs from the manifest"):
        _resume(db, job)


def test_a_file_added_to_a_shard_folder_is_refused(job_db):
    db, job = job_db
    pq.write_table(_forged_predictions(), job.shard_folder(1) / "extra.parquet")
    with pytest.raises(ShardIntegrityError, match=r"extra\.parquet, which job job-test did not"):
        _resume(db, job)


def test_a_fifo_in_place_of_a_shard_file_is_refused_at_once(job_db):
    db, job = job_db
    target = job.shard_folder(1) / "prediction.parquet"
    target.unlink()
    os.mkfifo(target)
    started = time.perf_counter()
    with pytest.raises(ShardIntegrityError, match="is not a regular file"):
        _resume(db, job)
    assert time.perf_counter() - started < 1.0


def test_folders_that_are_not_shards_are_left_alone_and_logged(job_db, caplog):
    """A user's ``shard-backup`` crashed loading with ValueError; it is never read, so it can
    do no harm, and refusing it would stop a resume for nothing: it is logged and skipped."""
    db, job = job_db
    shutil.copytree(job.shard_folder(0), job.folder / "shard-backup")
    (job.folder / "notes.txt").write_text("mine")
    with caplog.at_level(logging.WARNING, logger="tcdb.store.screening_jobs"):
        assert _resume(db, job) == [1]
    assert "shard-backup is not a shard of job job-test" in caplog.text
    assert (job.folder / "shard-backup").is_dir()  # never deleted


def test_reading_a_finished_job_back_refuses_a_file_forged_after_it_was_loaded(job_db):
    """The hydride screen stores what it reads back from the shards at the end: a shard
    finished long ago is checked again there."""
    db, job = job_db
    _resume(db, job)
    conn = connect(db)
    try:
        write_shard(conn, job, 2, tables_of(2))
        load_shard(conn, job, 2)
        assert shard_tables(conn, job, "prediction").num_rows == 12
        pq.write_table(_forged_predictions("run-1"), job.shard_folder(0) / "prediction.parquet")
        with pytest.raises(ShardIntegrityError, match=r"shard-000000/prediction\.parquet differs"):
            shard_tables(conn, job, "prediction")
    finally:
        conn.close()


def test_a_shard_read_under_another_schema_is_refused(job_db):
    """A reader that expects other columns (another version of the job's code) never loads
    a table it does not know."""
    db, job = job_db
    other = Job(job.id, job.command, job.model_run_id, job.engine, job.shards, job.folder,
                job.inputs, job.settings,
                TABLES | {"prediction": prediction_schema("tc_K", "formula")})  # fmt: skip
    with pytest.raises(ShardIntegrityError, match="does not have the schema"):
        _resume(db, other)


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (tables_of(1) | {"prediction": _forged_predictions("run-1")}, "beyond ±500 K"),
        (tables_of(1, run_id="never-registered"), "names another model run"),
        ({"prediction": tables_of(1)["prediction"]}, "not the .* the job declares"),
        (
            tables_of(1) | {"rejections": pa.table({"input_path": ["x"], "why": ["y"]})},
            "columns \\['why'\\] the job does not declare",
        ),
    ],
)
def test_a_shard_the_job_computed_wrong_is_never_written(job_db, tables, message):
    """The same checks when the job writes: a value beyond ingest's bounds, another run, a
    missing table or column never reaches a file."""
    _, job = job_db
    with pytest.raises((ShardIntegrityError, JobError), match=message):
        stage_shard(job, 2, tables)
    assert not job.shard_folder(2).exists()


def test_a_job_name_reused_for_another_run_or_inputs_is_refused(job_db, tmp_path):
    db, job = job_db
    conn = connect(db)
    try:
        register_run(conn, "run-2")
        moved = Job(job.id, job.command, "run-2", job.engine, job.shards, job.folder, {},
                    {}, TABLES)  # fmt: skip
        with pytest.raises(JobError, match="already holds a predict screening with run run-1"):
            open_job(conn, moved)
        unknown = Job("job-2", "predict", "never-registered", "ray", 1,
                      tmp_path / "jobs" / "job-2", {}, {}, TABLES)  # fmt: skip
        with pytest.raises(JobError, match="names model run never-registered, which the"):
            open_job(conn, unknown)
    finally:
        conn.close()
    assert not (tmp_path / "jobs" / "job-2").exists()


@pytest.mark.parametrize(
    "name", ["../../x", "/abs/dir", "a/b", "..", ".hidden", "", "x y", "é", "a" * 65, "-lead"]
)
def test_a_job_name_that_is_a_path_or_no_name_is_a_usage_error(name):
    with pytest.raises(JobNameError, match="is not a job name") as refused:
        check_job_name(name)
    assert refused.value.exit_code == 2


def test_a_job_folder_that_is_a_link_out_of_the_jobs_folder_is_refused(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "jobs" / "J").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(JobError, match="leads outside"):
        job_folder(tmp_path / "jobs", "J")
    assert job_folder(tmp_path / "jobs", "K") == tmp_path / "jobs" / "K"
