"""Screening jobs on disk and in the database: Parquet shards in a job folder beside the
database, and the rows that say which shards are finished.

Why: a screening of millions of structures must survive a crash. Each shard's results are
written as Parquet files (staged, then renamed: a file that exists is whole) before they are
loaded, and loading a shard inserts its rows and its ``screening_shard`` row in one
transaction. Run again, a job loads the shards whose files exist but were never recorded and
computes only those with neither. Prediction and candidate ids are hashes of run and subject,
and the shard key is (job, shard), so loading a shard twice adds nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core.hashing import record_id
from core.timestamps import utcnow
from schema.database import Target, insert_new_rows, reading, storing

REJECTIONS = "rejections"  # the table of a shard's inputs it could not predict, with reasons
# the database tables a shard may hold, in the order they are loaded
LOADED_TABLES = ("morph_candidate", "prediction")


@dataclass(frozen=True)
class Job:
    """One screening: its id, what made it, and the folder its shards are written to."""

    id: str
    command: str  # morph | predict | hydride
    model_run_id: str
    engine: str
    shards: int
    folder: Path
    inputs: dict  # what the id is made of
    settings: dict = field(default_factory=dict)  # how it ran (engine, address): not in the id

    def shard_folder(self, shard: int) -> Path:
        return self.folder / f"shard-{shard:06d}"


def job_id(command: str, model_run_id: str, inputs: dict) -> str:
    """The same command, run and inputs always make the same id, so running a command again
    resumes its job."""
    return record_id("job", command, model_run_id, json.dumps(inputs, sort_keys=True))


def jobs_folder(db_path: Path) -> Path:
    """Job folders live next to the database: ``<db folder>/jobs``."""
    return db_path.parent / "jobs"


def open_job(db: Target, job: Job) -> set[int]:
    """Record the job (once) and return the shards already finished."""
    job.folder.mkdir(parents=True, exist_ok=True)
    manifest = {"id": job.id, "command": job.command, "model_run_id": job.model_run_id,
                "engine": job.engine, "shards": job.shards, "inputs": job.inputs,
                "settings": job.settings}  # fmt: skip
    (job.folder / "job.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with storing(db, f"the start of screening job {job.id}") as conn:
        conn.execute(
            "INSERT INTO screening_job (id, command, model_run_id, engine, shards, folder, "
            "inputs_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            [job.id, job.command, job.model_run_id, job.engine, job.shards, str(job.folder),
             json.dumps(job.inputs, sort_keys=True), utcnow()],
        )  # fmt: skip
    with reading(db) as conn:
        return finished_shards(conn, job.id)


def finished_shards(conn: duckdb.DuckDBPyConnection, job: str) -> set[int]:
    rows = conn.execute("SELECT shard FROM screening_shard WHERE job_id = ?", [job]).fetchall()
    return {shard for (shard,) in rows}


def write_shard(job: Job, shard: int, tables: dict[str, pa.Table]) -> Path:
    """Write a shard's tables as Parquet, whole or not at all (staged, then renamed)."""
    final = job.shard_folder(shard)
    if final.exists():
        return final
    staging = final.with_name(f"{final.name}.{os.getpid()}.partial")
    staging.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, staging / f"{name}.parquet")
    staging.rename(final)
    return final


def written_shards(job: Job) -> set[int]:
    """Shards whose Parquet files are complete in the job folder."""
    return {
        int(p.name.removeprefix("shard-"))
        for p in job.folder.glob("shard-*")
        if p.is_dir() and "." not in p.name
    }


def read_shard(job: Job, shard: int) -> dict[str, pa.Table]:
    folder = job.shard_folder(shard)
    return {p.stem: pq.read_table(p) for p in sorted(folder.glob("*.parquet"))}


def load_shard(conn: duckdb.DuckDBPyConnection, job: Job, shard: int) -> bool:
    """Insert one written shard's rows and its ``screening_shard`` row in one transaction;
    False (and nothing written) when the shard is already recorded."""
    conn.begin()
    try:
        if conn.execute(
            "SELECT 1 FROM screening_shard WHERE job_id = ? AND shard = ?", [job.id, shard]
        ).fetchone():
            conn.rollback()
            return False
        tables = read_shard(job, shard)
        for name in LOADED_TABLES:
            if name in tables:
                insert_new_rows(conn, name, tables[name])
        predicted = tables["prediction"].num_rows if "prediction" in tables else 0
        rejected = tables[REJECTIONS].num_rows if REJECTIONS in tables else 0
        conn.execute(
            "INSERT INTO screening_shard (id, job_id, shard, predicted, rejected, finished_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [f"{job.id}#{shard:06d}", job.id, shard, predicted, rejected, utcnow()],
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return True


def finish_job(conn: duckdb.DuckDBPyConnection, job: Job) -> None:
    conn.execute(
        "UPDATE screening_job SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
        [utcnow(), job.id],
    )


def shard_tables(job: Job, name: str) -> pa.Table | None:
    """One table of every written shard, in shard order (None when no shard has it)."""
    paths = [
        job.shard_folder(s) / f"{name}.parquet"
        for s in sorted(written_shards(job))
        if (job.shard_folder(s) / f"{name}.parquet").exists()
    ]
    if not paths:
        return None
    return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default")
