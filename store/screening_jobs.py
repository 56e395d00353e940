"""Screening jobs on disk and in the database: Parquet shards in a job folder beside the
database, their manifests' hashes and the rows that say which shards are finished.

Why: a screening of millions of structures must survive a crash, and the job folder must not
become a way into the database. Each shard's results are written as Parquet files with a
``manifest.json`` (each file's SHA-256, size and rows, the job, its plan and its model run) in
a staging folder; the manifest's SHA-256 is recorded in ``screening_shard_manifest`` before the
folder is renamed into place, and loading a shard inserts its rows and its ``screening_shard``
row in one transaction. Run again, a job loads the shards whose files exist but were never
loaded and computes only those with neither.

A shard folder is read only through ``read_shard`` / ``shard_tables``, which accept it only
when its manifest has the hash the database holds, its files the manifest's hashes, and its
tables the schemas the job declares, the job's model run in every row and values inside
``JobLimits``; a shard folder outside the job's plan, or one the database holds no hash for,
is refused with one sentence. Someone who can write the job folder but not the database can
therefore neither add nor change a prediction. Prediction and candidate ids are hashes of run
and subject, and the shard key is (job, shard), so loading a shard twice adds nothing.

A job id is a name (letters, digits, ``-``, ``_``), never a path, and its folder resolves
inside ``<db folder>/jobs``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tcdb.core.errors import TcdbError
from tcdb.core.hashing import record_id
from tcdb.core.parameters import INGEST
from tcdb.core.safe_reads import FileRefusedError, open_regular
from tcdb.core.timestamps import utcnow
from tcdb.schema.database import Target, insert_new_rows, reading, storing
from tcdb.store.artifacts import MANIFEST, ArtifactIntegrityError, manifest_bytes, sha256_of

log = logging.getLogger(__name__)

REJECTIONS = "rejections"  # the table of a shard's inputs it could not predict, with reasons
# the database tables a shard may hold, in the order they are loaded
LOADED_TABLES = ("morph_candidate", "prediction")
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
SHARD_FOLDER = re.compile(r"shard-([0-9]{6,})")
STAGING_FOLDER = re.compile(r"shard-[0-9]{6,}\.[0-9]+\.partial")
# columns a shard's tables may hold that are bounded like the measurements ingest accepts
TC_COLUMNS = ("tc_K", "tc_std_K", "linear_tc_K")
PRESSURE_COLUMNS = ("pressure_GPa", "pressure_std_GPa", "linear_pressure_GPa")


# the Arrow types of the ``prediction`` columns a shard may hold
PREDICTION_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(), "model_run_id": pa.string(), "subject_kind": pa.string(),
    "subject_id": pa.string(), "formula": pa.string(), "tc_K": pa.float64(),
    "tc_std_K": pa.float64(), "input_path": pa.string(), "extra_json": pa.string(),
    "created_at": pa.timestamp("us"),
}  # fmt: skip


def prediction_schema(*columns: str) -> pa.Schema:
    """The exact schema of a shard's ``prediction`` table: id, run, subject kind and subject,
    ``columns``, and the creation time."""
    names = ("id", "model_run_id", "subject_kind", "subject_id", *columns, "created_at")
    return pa.schema([(name, PREDICTION_TYPES[name]) for name in names])


@dataclass(frozen=True)
class JobLimits:
    """What a job's name and a shard's files may be (docs/security.md)."""

    name_max: int = 64  # characters of a job name given with --job
    # characters of a job id with its part appended (a morph run's -FAMILY-REFERENCE): a
    # folder name, which most file systems allow up to 255 bytes
    id_max: int = 200
    manifest_max_bytes: int = 1 << 20  # a shard's manifest.json (a few hundred bytes written)
    # |T_c| and |P| in a shard: the bounds ingest puts on measurements (core/parameters.py).
    # Negative values stay allowed: a network with a linear output may predict them, and the
    # local engine stores what it predicts.
    tc_abs_max_K: float = INGEST.tc_max_K
    pressure_abs_max_GPa: float = INGEST.pressure_max_GPa


JOB_LIMITS = JobLimits()


class JobError(TcdbError):
    """A screening job cannot be opened, or its folder holds what the job did not write."""


class JobNameError(JobError):
    """A job name that is not a name (a path, empty, too long): wrong usage."""

    exit_code = 2


class ShardIntegrityError(ArtifactIntegrityError):
    """A shard folder is not what its job wrote: refused before anything of it is read."""


def check_job_name(name: str, what: str = "--job", limit: int = JOB_LIMITS.name_max) -> str:
    """``name`` if it is a job name: 1 to ``limit`` letters, digits, ``-`` and ``_``, starting
    with a letter or digit, so that it names a folder inside ``jobs/`` and nothing else."""
    if not JOB_NAME.fullmatch(name) or len(name) > limit:
        raise JobNameError(
            f"{what} {name!r} is not a job name: use 1 to {limit} letters, digits, '-' and "
            "'_', starting with a letter or digit (a job is named, never a path)."
        )
    return name


@dataclass(frozen=True)
class Job:
    """One screening: its id, what made it, the folder its shards are written to and the
    tables (with their schemas) each shard holds."""

    id: str
    command: str  # morph | predict | hydride
    model_run_id: str
    engine: str
    shards: int
    folder: Path
    inputs: dict  # what the id is made of
    settings: dict = field(default_factory=dict)  # how it ran (engine, address): not in the id
    tables: dict[str, pa.Schema] = field(default_factory=dict)  # a shard's tables, exactly

    def __post_init__(self) -> None:
        check_job_name(self.id, "Job id", JOB_LIMITS.id_max)
        if Path(self.folder).name != self.id:
            raise JobError(f"Job {self.id}'s folder must be named after it, not {self.folder}.")

    def shard_folder(self, shard: int) -> Path:
        return self.folder / shard_name(shard)


def shard_name(shard: int) -> str:
    return f"shard-{shard:06d}"


def shard_key(job_id: str, shard: int) -> str:
    """The key of a shard's rows: ``job#shard`` with the shard as 6 digits."""
    return f"{job_id}#{shard:06d}"


def job_id(command: str, model_run_id: str, inputs: dict) -> str:
    """The same command, run and inputs always make the same id, so running a command again
    resumes its job."""
    return record_id("job", command, model_run_id, json.dumps(inputs, sort_keys=True))


def jobs_folder(db_path: Path) -> Path:
    """Job folders live next to the database: ``<db folder>/jobs``."""
    return db_path.parent / "jobs"


def job_folder(root: Path, name: str) -> Path:
    """The folder of job ``name`` inside ``root`` (``<db folder>/jobs``): refused unless the
    name is a job name and the folder, links followed, lies directly inside ``root``."""
    check_job_name(name, "Job id", JOB_LIMITS.id_max)
    folder = Path(root) / name
    if folder.resolve().parent != Path(root).resolve():
        raise JobError(f"Job folder {folder} leads outside {root} (a link); remove it.")
    return folder


# --------------------------------------------------------------------------------- jobs


def open_job(db: Target, job: Job) -> set[int]:
    """Record the job (once) and return the shards already finished. A job id already used for
    another command, run, plan or inputs is refused, and so is a run the database does not
    hold as succeeded and hashed: the rows of a job must all come from its one run."""
    folder = job_folder(job.folder.parent, job.id)
    with storing(db, f"the start of screening job {job.id}") as conn:
        _require_run(conn, job)
        _require_same_job(conn, job)
        conn.execute(
            "INSERT INTO screening_job (id, command, model_run_id, engine, shards, folder, "
            "inputs_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            [job.id, job.command, job.model_run_id, job.engine, job.shards, str(job.folder),
             json.dumps(job.inputs, sort_keys=True), utcnow()],
        )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    description = {"id": job.id, "command": job.command, "model_run_id": job.model_run_id,
                   "engine": job.engine, "shards": job.shards, "inputs": job.inputs,
                   "settings": job.settings}  # fmt: skip
    (folder / "job.json").write_text(json.dumps(description, indent=2, sort_keys=True))
    with reading(db) as conn:
        return finished_shards(conn, job.id)


def _require_run(conn: duckdb.DuckDBPyConnection, job: Job) -> None:
    row = conn.execute(
        "SELECT status, manifest_sha256 FROM model_run WHERE id = ?", [job.model_run_id]
    ).fetchone()
    if row is None or row[0] != "succeeded" or not row[1]:
        raise JobError(
            f"Job {job.id} names model run {job.model_run_id}, which the database does not "
            "hold as a succeeded run with artefact hashes; nothing was screened."
        )


def _require_same_job(conn: duckdb.DuckDBPyConnection, job: Job) -> None:
    row = conn.execute(
        "SELECT command, model_run_id, shards, inputs_json FROM screening_job WHERE id = ?",
        [job.id],
    ).fetchone()
    if row is None:
        return
    command, run, shards, inputs = row
    if (command, run, shards) != (job.command, job.model_run_id, job.shards) or json.loads(
        inputs
    ) != json.loads(json.dumps(job.inputs, sort_keys=True)):
        raise JobError(
            f"Job {job.id} already holds a {command} screening with run {run} in {shards} "
            f"shard(s) of other inputs; give this {job.command} screening another --job."
        )


def finished_shards(conn: duckdb.DuckDBPyConnection, job: str) -> set[int]:
    rows = conn.execute("SELECT shard FROM screening_shard WHERE job_id = ?", [job]).fetchall()
    return {shard for (shard,) in rows}


def finish_job(conn: duckdb.DuckDBPyConnection, job: Job) -> None:
    conn.execute(
        "UPDATE screening_job SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
        [utcnow(), job.id],
    )


# ------------------------------------------------------------------------------ writing


@dataclass(frozen=True)
class StagedShard:
    """A shard's files written in a staging folder, not yet recorded nor in place."""

    shard: int
    folder: Path
    manifest_sha256: str


def stage_shard(job: Job, shard: int, tables: dict[str, pa.Table]) -> StagedShard:
    """Write a shard's tables as Parquet with their manifest in a staging folder, each table
    first cast to the schema the job declares and checked as a reader will check it."""
    _require_in_plan(job, shard, job.shard_folder(shard))
    if set(tables) != set(job.tables):
        raise JobError(
            f"Shard {shard} of job {job.id} has tables {sorted(tables)}, not the "
            f"{sorted(job.tables)} the job declares; nothing was written."
        )
    staging = job.folder / f"{shard_name(shard)}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)  # this process's own leftover
    staging.mkdir(parents=True)
    files = {}
    for name, table in sorted(tables.items()):
        exact = _conform(job, shard, name, table)
        _check_values(job, shard, name, exact)
        sink = pa.BufferOutputStream()
        pq.write_table(exact, sink)
        data = sink.getvalue().to_pybytes()
        (staging / f"{name}.parquet").write_bytes(data)
        files[f"{name}.parquet"] = {"sha256": sha256_of(data), "size": len(data),
                                    "rows": exact.num_rows}  # fmt: skip
    manifest = {"job": job.id, "shard": shard, "shards": job.shards,
                "model_run_id": job.model_run_id, "files": files}  # fmt: skip
    text = manifest_bytes(manifest)
    (staging / MANIFEST).write_bytes(text)
    return StagedShard(shard, staging, sha256_of(text))


def _conform(job: Job, shard: int, name: str, table: pa.Table) -> pa.Table:
    """``table`` with exactly the declared schema: its columns in order, cast to their types."""
    schema = job.tables[name]
    if table.num_rows == 0:
        return schema.empty_table()
    extra = sorted(set(table.column_names) - set(schema.names))
    missing = sorted(set(schema.names) - set(table.column_names))
    if extra or missing:
        raise JobError(
            f"Shard {shard} of job {job.id}: table {name} has columns {extra} the job does not "
            f"declare and lacks {missing}; nothing was written."
        )
    return table.select(schema.names).cast(schema)


def record_shard(conn: duckdb.DuckDBPyConnection, job: Job, staged: StagedShard) -> None:
    """Record the staged manifest's hash (replacing that of an earlier attempt whose folder
    never reached its place), in its own transaction, before the folder is renamed."""
    conn.execute(
        "INSERT INTO screening_shard_manifest (id, job_id, shard, manifest_sha256, written_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "manifest_sha256 = excluded.manifest_sha256, written_at = excluded.written_at",
        [shard_key(job.id, staged.shard), job.id, staged.shard, staged.manifest_sha256, utcnow()],
    )


def publish_shard(job: Job, staged: StagedShard) -> Path:
    """Rename a recorded staging folder into place: a shard folder that exists is whole."""
    final = job.shard_folder(staged.shard)
    try:
        staged.folder.rename(final)
    except OSError:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise JobError(
            f"{final} appeared while shard {staged.shard} of job {job.id} was computed (another "
            "command on the same job?); nothing of it was loaded: run the command again."
        ) from None
    return final


def write_shard(conn: duckdb.DuckDBPyConnection, job: Job, shard: int, tables) -> Path:
    """Stage, record and put in place one shard's files (loading them is ``load_shard``)."""
    staged = stage_shard(job, shard, tables)
    record_shard(conn, job, staged)
    return publish_shard(job, staged)


# ------------------------------------------------------------------------------ reading


def shards_on_disk(job: Job) -> set[int]:
    """The shard folders in the job folder. Anything that is not named like a shard (a
    ``shard-backup`` a user made, notes, a staging folder of a command that died) is never
    read and only logged; a shard folder outside the job's plan, or a link, is refused."""
    if not job.folder.is_dir():
        return set()
    found = set()
    for entry in sorted(job.folder.iterdir()):
        match = SHARD_FOLDER.fullmatch(entry.name)
        if match is None or entry.name != shard_name(int(match[1])):
            if STAGING_FOLDER.fullmatch(entry.name):
                log.debug("%s: a shard a command was writing when it stopped; not read", entry)
            elif entry.name != "job.json":
                log.warning("%s is not a shard of job %s; it is never read", entry, job.id)
            continue
        shard = int(match[1])
        _require_in_plan(job, shard, entry)
        if entry.is_symlink() or not entry.is_dir():
            raise ShardIntegrityError(
                f"{entry} is not a folder the job wrote (a link or a file); remove it."
            )
        found.add(shard)
    return found


def _require_in_plan(job: Job, shard: int, path: Path) -> None:
    if not 0 <= shard < job.shards:
        raise ShardIntegrityError(
            f"{path}: shard {shard} is outside job {job.id}'s plan of {job.shards} shard(s) "
            f"(0 to {job.shards - 1}); nothing of it is read: remove it."
        )


def recorded_manifests(conn: duckdb.DuckDBPyConnection, job_id: str) -> dict[int, str]:
    """Shard → the SHA-256 of its manifest, as the job recorded it."""
    rows = conn.execute(
        "SELECT shard, manifest_sha256 FROM screening_shard_manifest WHERE job_id = ?", [job_id]
    ).fetchall()
    return dict(rows)


def read_shard(
    conn: duckdb.DuckDBPyConnection, job: Job, shard: int, names: Iterable[str] | None = None
) -> dict[str, pa.Table]:
    """A shard's tables (``names``, default all), each read from bytes checked against the
    manifest whose hash the database holds, then checked for schema, run and bounds."""
    recorded = recorded_manifests(conn, job.id).get(shard)
    return _verified_tables(job, shard, recorded, names)


def check_shards(conn: duckdb.DuckDBPyConnection, job: Job, shards: Sequence[int]) -> None:
    """Refuse a job folder if any of ``shards`` is not what the job wrote, before any loads."""
    recorded = recorded_manifests(conn, job.id)
    for shard in shards:
        _verified_tables(job, shard, recorded.get(shard), None, whole=True)


def _verified_tables(
    job: Job, shard: int, recorded: str | None, names: Iterable[str] | None, whole: bool = False
) -> dict[str, pa.Table]:
    folder = job.shard_folder(shard)
    _require_in_plan(job, shard, folder)
    if recorded is None:
        raise ShardIntegrityError(
            f"{folder}: the database holds no manifest hash for shard {shard} of job {job.id} "
            "(not written by the job, or before revision 0011); nothing of it is read: remove "
            "it, or run the screening again under another --job."
        )
    manifest = _checked_manifest(job, shard, folder, recorded)
    if whole:
        _require_no_other_files(folder, manifest["files"])
    tables = {}
    for name in job.tables if names is None else names:
        entry = manifest["files"][f"{name}.parquet"]
        data = _read_regular(folder / f"{name}.parquet", entry["size"])
        if len(data) != entry["size"] or sha256_of(data) != entry["sha256"]:
            raise ShardIntegrityError(
                f"{folder / f'{name}.parquet'} differs from the file job {job.id} wrote "
                "(SHA-256 or size changed); nothing of the shard is read."
            )
        table = pq.read_table(pa.BufferReader(data))
        _check_schema(job, folder / f"{name}.parquet", name, table, entry["rows"])
        _check_values(job, shard, name, table)
        tables[name] = table
    return tables


def _checked_manifest(job: Job, shard: int, folder: Path, recorded: str) -> dict:
    path = folder / MANIFEST
    text = _read_regular(path, JOB_LIMITS.manifest_max_bytes)
    if sha256_of(text) != recorded:
        raise ShardIntegrityError(
            f"{path} differs from the manifest job {job.id} recorded in the database; nothing "
            "of the shard is read."
        )
    manifest = json.loads(text)  # the job's own bytes: they hash to the recorded value
    expected = {"job": job.id, "shard": shard, "shards": job.shards,
                "model_run_id": job.model_run_id}  # fmt: skip
    files = {f"{name}.parquet" for name in job.tables}
    if any(manifest.get(k) != v for k, v in expected.items()) or set(manifest["files"]) != files:
        raise ShardIntegrityError(
            f"{path} was written for another job, shard, plan, run or set of tables than shard "
            f"{shard} of job {job.id}; nothing of it is read."
        )
    return manifest


def _require_no_other_files(folder: Path, listed: dict) -> None:
    others = sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != MANIFEST)
    if others:
        raise ShardIntegrityError(
            f"{folder} holds {', '.join(others)}, which job {folder.parent.name} did not write; "
            "nothing of the shard is read: remove it."
        )


def _read_regular(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` + 1 of them (more means it is not the file
    that was recorded): a FIFO or a device put in a shard folder is refused, never waited on,
    and a link is not followed (``core.safe_reads.open_regular``)."""
    try:
        with open_regular(path, follow_links=False) as (handle, _):
            return handle.read(limit + 1)
    except FileRefusedError as exc:
        if exc.reason_code == "not_a_regular_file":
            raise ShardIntegrityError(f"{path} is not a regular file; it is never read.") from None
        raise ShardIntegrityError(f"{exc}.") from None
    except OSError as exc:
        raise ShardIntegrityError(f"{path} cannot be read ({exc.strerror}).") from None


def _check_schema(job: Job, path: Path, name: str, table: pa.Table, rows: int) -> None:
    expected = job.tables[name]
    if not table.schema.remove_metadata().equals(expected) or table.num_rows != rows:
        raise ShardIntegrityError(
            f"{path} does not have the schema and rows job {job.id} declares for {name}; "
            "nothing of the shard is read."
        )


def _check_values(job: Job, shard: int, name: str, table: pa.Table) -> None:
    """Every row of the job's run, and T_c and P finite and inside the bounds ingest applies:
    a second line behind the hashes (``JobLimits``)."""
    where = f"shard {shard} of job {job.id}, table {name}"
    if "model_run_id" in table.column_names:
        runs = table.column("model_run_id")
        if runs.null_count or (len(runs) and not pc.all(pc.equal(runs, job.model_run_id)).as_py()):
            raise ShardIntegrityError(
                f"{where}: a row names another model run than the job's {job.model_run_id}; "
                "nothing of the shard is stored."
            )
    for column, bound, unit in _bounded(table.column_names):
        values = table.column(column).drop_null()
        if len(values) == 0:
            continue
        finite = pc.all(pc.is_finite(values)).as_py()
        largest = pc.max(pc.abs(values)).as_py()
        if not finite or not math.isfinite(largest) or largest > bound:
            raise ShardIntegrityError(
                f"{where}: {column} holds a value that is not finite or beyond ±{bound:g} "
                f"{unit}; nothing of the shard is stored."
            )


def _bounded(columns: Sequence[str]) -> list[tuple[str, float, str]]:
    limits = JOB_LIMITS
    return [(c, limits.tc_abs_max_K, "K") for c in TC_COLUMNS if c in columns] + [
        (c, limits.pressure_abs_max_GPa, "GPa") for c in PRESSURE_COLUMNS if c in columns
    ]


def load_shard(conn: duckdb.DuckDBPyConnection, job: Job, shard: int) -> bool:
    """Insert one written shard's rows and its ``screening_shard`` row in one transaction,
    once its files are verified; False (and nothing written) when the shard is already
    recorded."""
    conn.begin()
    try:
        if conn.execute(
            "SELECT 1 FROM screening_shard WHERE job_id = ? AND shard = ?", [job.id, shard]
        ).fetchone():
            conn.rollback()
            return False
        tables = read_shard(conn, job, shard)
        for name in LOADED_TABLES:
            if name in tables:
                insert_new_rows(conn, name, tables[name])
        predicted = tables["prediction"].num_rows if "prediction" in tables else 0
        rejected = tables[REJECTIONS].num_rows if REJECTIONS in tables else 0
        conn.execute(
            "INSERT INTO screening_shard (id, job_id, shard, predicted, rejected, finished_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [shard_key(job.id, shard), job.id, shard, predicted, rejected, utcnow()],
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return True


def shard_tables(db: Target, job: Job, name: str) -> pa.Table | None:
    """One table of every shard of the job's plan, in shard order, each verified as
    ``read_shard`` does (None when the job's shards hold no such table)."""
    if name not in job.tables:
        return None
    with reading(db) as conn:
        recorded = recorded_manifests(conn, job.id)
    parts = [_verified_tables(job, s, recorded.get(s), [name])[name] for s in range(job.shards)]
    return pa.concat_tables(parts)
