"""Ingest runs: file hashing, the unchanged check, and the one-transaction bulk load.

Every ingestor turns one source file into a ``Batch`` (read + parse, no database) and hands it
to ``load_batch``, which writes everything in one transaction: the source and run rows, the
records (new ones inserted, known ones refreshed), the materials, the measurements and the
rejections; records of the previous version that are no longer in the file are retired, and
the measurements made from them are deprecated, never deleted. A failure rolls back whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.composition import NormalisedComposition, material_row
from ingest.records import Rejection
from ingest.sources import SourceInfo
from schema.timestamps import utcnow
from tcdb import __version__
from tcdb.errors import TcdbError
from tcdb.provenance import code_revision

log = logging.getLogger(__name__)

# Columns a re-ingest never overwrites: provenance of the first load and curation decisions.
PRESERVED_COLUMNS = frozenset(
    {
        "id",
        "created_at",
        "ingest_run_id",
        "curation_run_id",
        "status",
        "deprecation_reason",
        "deprecated_at",
        "retired_run_id",
        "excluded_from_training",
        "exclusion_reason",
    }
)


class SourceFileError(TcdbError):
    """A source file is missing or cannot be read at all."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_sha256(path: Path, pattern: str) -> str:
    """One hash over the names and contents of the files of a folder matching ``pattern``."""
    digest = hashlib.sha256()
    for file in sorted(path.glob(pattern)):
        digest.update(file.name.encode() + b"\0" + file_sha256(file).encode() + b"\n")
    return digest.hexdigest()


def record_id(prefix: str, *parts: object) -> str:
    """A stable text key from the parts that identify a record."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


@dataclass(frozen=True)
class RejectedRecord:
    record_ref: str
    rejection: Rejection
    raw: dict


@dataclass
class Batch:
    """Everything one source file gives, parsed and ready to load.

    ``record_table`` is the table whose rows are the file's records (one per row or file);
    ``accepted_ids`` are the keys of the records that parsed, in that table."""

    source: SourceInfo
    file_path: str | None
    file_sha256: str
    parameters: dict
    n_records: int
    record_table: str
    tables: dict[str, pa.Table] = field(default_factory=dict)  # table -> rows, in load order
    compositions: dict[str, NormalisedComposition] = field(default_factory=dict)  # by id
    accepted_ids: list[str] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)
    database_version: str | None = None
    post_load: list[str] = field(default_factory=list)  # SQL run in the same transaction


@dataclass(frozen=True)
class IngestOutcome:
    source_id: str
    status: str  # succeeded | unchanged
    run_id: str | None
    n_records: int
    n_loaded: int
    n_unchanged: int
    n_rejected: int
    n_retired: int
    rejection_counts: dict[str, int]
    message: str


def parameters_hash(parameters: dict) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()


def latest_runs(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Source id → (run id, file hash, parameters JSON) of its latest succeeded run.

    No query parameters here: DuckDB imports pandas for a parameterised query, which would
    double the time of an ingest that finds nothing to do."""
    rows = conn.execute(
        "SELECT source_id, id, file_sha256, parameters_json FROM ingest_run "
        "WHERE status = 'succeeded' "
        "QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) = 1"
    ).fetchall()
    return {source_id: (run_id, sha, params) for source_id, run_id, sha, params in rows}


def last_run(conn: duckdb.DuckDBPyConnection, source_id: str) -> tuple | None:
    """(run id, file hash, parameters JSON) of the source's latest succeeded run."""
    return latest_runs(conn).get(source_id)


def is_unchanged(
    conn: duckdb.DuckDBPyConnection, source_id: str, sha: str, parameters: dict
) -> str | None:
    """The id of the run that already ingested this exact file with these parameters."""
    previous = last_run(conn, source_id)
    if previous is None:
        return None
    run_id, previous_sha, previous_parameters = previous
    if previous_sha != sha:
        return None
    if parameters_hash(json.loads(previous_parameters or "{}")) != parameters_hash(parameters):
        return None
    return run_id


def unchanged_outcome(source_id: str, run_id: str, path: str | None) -> IngestOutcome:
    return IngestOutcome(
        source_id, "unchanged", run_id, 0, 0, 0, 0, 0, {},
        f"{path or source_id} is unchanged since run {run_id}; nothing to do.",
    )  # fmt: skip


def _new_run_id(source_id: str, started: datetime, sha: str) -> str:
    return f"{source_id}-{started:%Y%m%dT%H%M%S%f}-{sha[:8]}"


def rows_table(rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table (DuckDB reads it without copying)."""
    return pa.Table.from_pylist(rows)


def _upsert(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    rows: pa.Table,
    *,
    refresh: bool,
    overrides: dict[str, object] | None = None,
) -> None:
    """Insert new rows; refresh the derived columns of rows already there (by id).

    ``overrides`` set a column to one value for every row (the run id, the load time)."""
    if rows.num_rows == 0:
        return
    overrides = {k: v for k, v in (overrides or {}).items() if k in rows.column_names}
    columns = rows.column_names
    quoted = ", ".join(f'"{c}"' for c in columns)
    selected = ", ".join(f'? AS "{c}"' if c in overrides else f'"{c}"' for c in columns)
    parameters = [overrides[c] for c in columns if c in overrides]
    conn.register("incoming", rows)
    try:
        updates = [c for c in columns if c not in PRESERVED_COLUMNS]
        if refresh and updates:
            assignments = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
            conflict = f"ON CONFLICT (id) DO UPDATE SET {assignments}"
        else:
            conflict = "ON CONFLICT (id) DO NOTHING"
        conn.execute(
            f'INSERT INTO "{table}" ({quoted}) SELECT {selected} FROM incoming {conflict}',
            parameters,
        )
    finally:
        conn.unregister("incoming")


def _existing_ids(conn: duckdb.DuckDBPyConnection, table: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    conn.register("wanted", pa.table({"id": ids}))
    found = conn.execute(f'SELECT t.id FROM "{table}" t JOIN wanted w ON t.id = w.id').fetchall()
    conn.unregister("wanted")
    return {row[0] for row in found}


def _retire(conn: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, now: datetime) -> int:
    """Mark records of this source missing from the new file version as retired."""
    present = pa.table({"id": batch.accepted_ids + _rejected_record_ids(batch)})
    conn.register("present", present)
    table = batch.record_table
    source_filter = "source_id = ? AND retired_run_id IS NULL"
    retired = conn.execute(
        f'SELECT id FROM "{table}" WHERE {source_filter} AND id NOT IN (SELECT id FROM present)',
        [batch.source.id],
    ).fetchall()
    conn.unregister("present")
    ids = [row[0] for row in retired]
    if not ids:
        return 0
    conn.register("gone", pa.table({"id": ids}))
    conn.execute(
        f'UPDATE "{table}" SET retired_run_id = ? WHERE id IN (SELECT id FROM gone)', [run_id]
    )
    conn.execute(
        "UPDATE measurement SET status = 'deprecated', deprecated_at = ?, "
        "deprecation_reason = ? WHERE origin_id IN (SELECT id FROM gone) AND status = 'active'",
        [now, f"source record removed from {batch.file_path} in ingest run {run_id}"],
    )
    conn.unregister("gone")
    return len(ids)


def insert_new_materials(
    conn: duckdb.DuckDBPyConnection, compositions: dict[str, NormalisedComposition], now: datetime
) -> None:
    """Material rows for the compositions the database does not hold yet (the reduced formula
    costs a pymatgen call, so known materials are not recomputed)."""
    new = set(compositions) - _existing_ids(conn, "material", list(compositions))
    rows = [material_row(compositions[i]) | {"created_at": now} for i in sorted(new)]
    _upsert(conn, "material", rows_table(rows), refresh=False)


def _rejected_record_ids(batch: Batch) -> list[str]:
    """Raw rows are stored even when rejected; their ids must not be retired."""
    raw = batch.tables.get(batch.record_table)
    if raw is None or not batch.record_table.startswith("raw_"):
        return []
    return list(set(raw.column("id").to_pylist()) - set(batch.accepted_ids))


def _rejection_rows(batch: Batch, run_id: str, now: datetime) -> pa.Table:
    rows = [
        {
            "id": record_id("rej", run_id, r.record_ref),
            "ingest_run_id": run_id,
            "source_id": batch.source.id,
            "file_path": batch.file_path,
            "record_ref": r.record_ref,
            "reason_code": r.rejection.reason_code,
            "reason": r.rejection.reason,
            "raw_json": json.dumps(r.raw, default=str),
            "created_at": now,
        }
        for r in batch.rejected
    ]
    return rows_table(rows)


def _source_row(batch: Batch, now: datetime) -> pa.Table:
    info = batch.source
    size = None
    if batch.file_path and Path(batch.file_path).is_file():
        size = Path(batch.file_path).stat().st_size
    return rows_table(
        [
            {
                "id": info.id,
                "kind": info.kind,
                "title": info.title,
                "citation": info.citation,
                "licence": info.licence,
                "doi": info.doi,
                "url": info.url,
                "path": info.path,
                "file_sha256": batch.file_sha256,
                "size_bytes": size,
                "registered_at": now,
                "updated_at": now,
            }
        ]
    )


def load_batch(
    conn: duckdb.DuckDBPyConnection, batch: Batch, own_transaction: bool = True
) -> IngestOutcome:
    """Write a parsed batch in one transaction; on any error the database is left as it was.
    With ``own_transaction=False`` the caller holds the transaction (to load several batches,
    or a batch and a file, all or nothing) and commits or rolls back itself."""
    now = utcnow()
    run_id = _new_run_id(batch.source.id, now, batch.file_sha256)
    previous = last_run(conn, batch.source.id)
    if own_transaction:
        conn.begin()
    try:
        known = _existing_ids(conn, batch.record_table, batch.accepted_ids)
        _upsert(conn, "source", _source_row(batch, now), refresh=True)
        insert_new_materials(conn, batch.compositions, now)
        stamps = {"ingest_run_id": run_id, "created_at": now}
        for table, rows in batch.tables.items():
            _upsert(conn, table, rows, refresh=True, overrides=stamps)
        n_retired = _retire(conn, batch, run_id, now)
        for statement in batch.post_load:
            conn.execute(statement)
        _upsert(conn, "ingest_rejection", _rejection_rows(batch, run_id, now), refresh=False)
        n_unchanged = len(known)
        n_loaded = len(batch.accepted_ids) - n_unchanged
        counts = Counter(r.rejection.reason_code for r in batch.rejected)
        message = (
            f"{n_loaded:,} new, {n_unchanged:,} unchanged, {len(batch.rejected):,} rejected, "
            f"{n_retired:,} retired of {batch.n_records:,} records"
        )
        run = {
            "id": run_id,
            "source_id": batch.source.id,
            "file_path": batch.file_path,
            "file_sha256": batch.file_sha256,
            "database_version": batch.database_version,
            "previous_run_id": previous[0] if previous else None,
            "status": "succeeded",
            "n_records": batch.n_records,
            "n_loaded": n_loaded,
            "n_rejected": len(batch.rejected),
            "n_unchanged": n_unchanged,
            "n_retired": n_retired,
            "parameters_json": json.dumps(batch.parameters, sort_keys=True),
            "message": message,
            "tcdb_version": __version__,
            "code_revision": code_revision(),
            "started_at": now,
            "finished_at": utcnow(),
        }
        _upsert(conn, "ingest_run", rows_table([run]), refresh=False)
        if own_transaction:
            conn.commit()
    except BaseException:
        if own_transaction:
            conn.rollback()
        raise
    return IngestOutcome(
        batch.source.id,
        "succeeded",
        run_id,
        batch.n_records,
        n_loaded,
        n_unchanged,
        len(batch.rejected),
        n_retired,
        dict(counts.most_common()),
        message,
    )
