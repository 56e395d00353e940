"""Ingest runs: file hashing, the unchanged check, and the one-transaction bulk load.

Every ingestor turns one source file into a ``Batch`` (read + parse, no database) and hands it
to ``load_batch``, which writes everything in one transaction: the source and run rows, the
records (new ones inserted, known ones refreshed), the materials, the measurements and the
rejections; records of the previous version that are no longer in the file are retired, and
the measurements made from them are deprecated, never deleted; records retired earlier that
are back in the file are restored. Both are written to the ledger. A file that would retire
more than ``max_retired_share`` of its source's active records is refused unless the user
accepts it, and so is one that would leave fewer than ``1 - max_retired_share`` of the most
records the source has had active since retirements were last accepted (its high-water mark,
``ingest_run.active_high_water``), so that steps of 18 % cannot add up to any loss. A failure
rolls back whole.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tcdb.core.composition import NormalisedComposition
from tcdb.core.errors import TcdbError
from tcdb.core.hashing import json_sha256, record_id
from tcdb.core.parameters import INGEST
from tcdb.core.provenance import provenance_stamp
from tcdb.core.records import Rejection
from tcdb.core.timestamps import utcnow
from tcdb.ingest.source_info import SourceInfo
from tcdb.schema.bulk import existing_ids, insert_new_materials, rows_table, upsert

log = logging.getLogger(__name__)


class SourceFileError(TcdbError):
    """A source file is missing or cannot be read at all."""


class SourceRefusedError(TcdbError):
    """One source file was refused as a whole and nothing of it was written; the other sources
    of the same command still run."""


class MalformedSourceError(SourceFileError, SourceRefusedError):
    """A source file's header is not the one expected (or the file is not a table at all)."""


class SourcesRefusedError(TcdbError):
    """An ingest command refused some of its files (each named with its reason) and ingested
    the rest."""

    exit_code = 4


class RetirementRefusedError(SourceRefusedError):
    """A file would retire more of its source's active records than the parameters allow."""


RETIREMENT_REASON = "source record removed from {path} in ingest run {run_id}"
"""The deprecation reason retirement gives a measurement; restoring it looks for this."""
REJECTED_REASON = "source record rejected by ingest run"
"""How the deprecation reason of a measurement whose raw row the rules now reject begins."""


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
    status: str  # succeeded | unchanged | refused (nothing written)
    run_id: str | None
    n_records: int
    n_loaded: int
    n_unchanged: int
    n_rejected: int
    n_retired: int
    rejection_counts: dict[str, int]
    message: str
    n_restored: int = 0  # records retired earlier that are back in the file (among unchanged)


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
    if json_sha256(json.loads(previous_parameters or "{}")) != json_sha256(parameters):
        return None
    return run_id


def refused_outcome(source_id: str, error: Exception) -> IngestOutcome:
    """What a refused file gave: nothing written, and the sentence saying why."""
    return IngestOutcome(source_id, "refused", None, 0, 0, 0, 0, 0, {}, f"refused: {error}")


def unchanged_outcome(source_id: str, run_id: str, path: str | None) -> IngestOutcome:
    return IngestOutcome(
        source_id, "unchanged", run_id, 0, 0, 0, 0, 0, {},
        f"{path or source_id} is unchanged since run {run_id}; nothing to do.",
    )  # fmt: skip


def _new_run_id(source_id: str, started: datetime, sha: str) -> str:
    return f"{source_id}-{started:%Y%m%dT%H%M%S%f}-{sha[:8]}"


def _present(batch: Batch) -> pa.Table:
    """Ids of every record the file holds (accepted, and rejected raw rows that are stored)."""
    return pa.table({"id": pa.array(batch.accepted_ids + _rejected_record_ids(batch), pa.string())})


def _to_retire(
    conn: duckdb.DuckDBPyConnection, batch: Batch, present: pa.Table
) -> tuple[list[str], int]:
    """Active records of this source missing from the file (``present``: its ids), and how many
    are active."""
    conn.register("present", present)
    try:
        missing, active = conn.execute(
            f"SELECT list(id) FILTER (WHERE id NOT IN (SELECT id FROM present)), count(*) "
            f'FROM "{batch.record_table}" WHERE source_id = ? AND retired_run_id IS NULL',
            [batch.source.id],
        ).fetchone()
    finally:
        conn.unregister("present")
    return sorted(missing or []), active


def high_water_mark(conn: duckdb.DuckDBPyConnection, source_id: str) -> int | None:
    """The most records the source has had active since retirements were last accepted, as
    its latest succeeded run recorded it (None: no run yet, or runs before revision 0012)."""
    row = conn.execute(
        "SELECT active_high_water FROM ingest_run WHERE source_id = ? AND status = 'succeeded' "
        "ORDER BY started_at DESC LIMIT 1",
        [source_id],
    ).fetchone()
    return None if row is None else row[0]


def refuse_mass_retirement(
    batch: Batch,
    n_retire: int,
    n_active: int,
    accept: bool,
    high_water: int | None = None,
    n_after: int | None = None,
) -> None:
    """Refuse a file that would retire more than ``max_retired_share`` of the active records
    (a truncated or header-only file), or leave ``n_after`` active records, fewer than
    ``1 - max_retired_share`` of the source's high-water mark (a second step of 18 %), unless
    the user accepted it."""
    share = batch.parameters.get("max_retired_share", INGEST.max_retired_share)
    if accept or n_retire == 0:
        return
    advice = (
        "so nothing of it was written; if the file is meant to lose them, run the ingest again "
        "with --accept-retirements"
    )
    where = batch.file_path or "The new version"
    if n_retire > share * n_active:
        raise RetirementRefusedError(
            f"{where} would retire {n_retire:,} of {n_active:,} active records "
            f"({n_retire / n_active:.0%}, more than the {share:.0%} allowed), {advice}"
        )
    if high_water and n_after is not None and n_after < (1 - share) * high_water:
        raise RetirementRefusedError(
            f"{where} would retire {n_retire:,} records and leave {n_after:,} of the "
            f"{high_water:,} its source has had active since retirements were last accepted "
            f"({1 - n_after / high_water:.0%} gone in all, more than the {share:.0%} allowed), "
            f"{advice}"
        )


def _next_high_water(
    conn: duckdb.DuckDBPyConnection, batch: Batch, before: int, accepted_loss: bool
) -> int:
    """The mark this run records: the records it leaves active when it retired records the
    user accepted, else the larger of the mark before and those records."""
    (active,) = conn.execute(
        f'SELECT count(*) FROM "{batch.record_table}" WHERE source_id = ? '
        "AND retired_run_id IS NULL",
        [batch.source.id],
    ).fetchone()
    return active if accepted_loss else max(before, active)


def _retire(
    conn: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, now: datetime, ids: list[str]
) -> int:
    """Mark records of this source missing from the new file version as retired, deprecate
    their active measurements and say so in the ledger."""
    if not ids:
        return 0
    table = batch.record_table
    conn.register("gone", pa.table({"id": pa.array(ids, pa.string())}))
    try:
        conn.execute(
            f'UPDATE "{table}" SET retired_run_id = ? WHERE id IN (SELECT id FROM gone)', [run_id]
        )
        conn.execute(
            "UPDATE measurement SET status = 'deprecated', deprecated_at = ?, "
            "deprecation_reason = ? WHERE origin_id IN (SELECT id FROM gone) "
            "AND status = 'active'",
            [now, RETIREMENT_REASON.format(path=batch.file_path, run_id=run_id)],
        )
    finally:
        conn.unregister("gone")
    reason = f"no longer in {batch.file_path}"
    _ledger(conn, batch, run_id, now, "retire", [(i, reason) for i in ids])
    return len(ids)


def _restore(
    conn: duckdb.DuckDBPyConnection, batch: Batch, present: pa.Table, run_id: str, now: datetime
) -> int:
    """Make records retired by an earlier run that are back in the file (``present``: its ids)
    active again: clear ``retired_run_id``, undo the deprecation retirement gave their
    measurements (a deprecation made by hand stays) and say so in the ledger."""
    table = batch.record_table
    conn.register("present", present)
    try:
        back = conn.execute(
            f'SELECT id, retired_run_id FROM "{table}" WHERE source_id = ? '
            "AND retired_run_id IS NOT NULL AND id IN (SELECT id FROM present) ORDER BY id",
            [batch.source.id],
        ).fetchall()
    finally:
        conn.unregister("present")
    if not back:
        return 0
    ids, retired_by = [row[0] for row in back], [row[1] for row in back]
    conn.register("back", pa.table({"id": ids, "retired_run_id": retired_by}))
    try:
        _restore_measurements(conn, batch)
        conn.execute(
            f'UPDATE "{table}" SET retired_run_id = NULL WHERE id IN (SELECT id FROM back)'
        )
    finally:
        conn.unregister("back")
    rows = [(i, f"back in {batch.file_path}; retired by ingest run {r}") for i, r in back]
    _ledger(conn, batch, run_id, now, "restore", rows)
    return len(ids)


def _restore_measurements(conn: duckdb.DuckDBPyConnection, batch: Batch) -> None:
    """The measurements of the records in ``back`` that retirement deprecated get the status
    and reason the file gives them now."""
    incoming = batch.tables.get("measurement")
    if incoming is None or incoming.num_rows == 0:
        return
    columns = incoming.column_names
    status = "i.status" if "status" in columns else "'active'"
    reason = "i.deprecation_reason" if "deprecation_reason" in columns else "NULL"
    conn.register("incoming_measurement", incoming)
    try:
        conn.execute(
            f"UPDATE measurement AS m SET status = {status}, deprecation_reason = {reason}, "
            "deprecated_at = NULL FROM incoming_measurement AS i, back AS b "
            "WHERE m.id = i.id AND m.origin_id = b.id AND m.status = 'deprecated' "
            "AND ends_with(m.deprecation_reason, ' in ingest run ' || b.retired_run_id)"
        )
    finally:
        conn.unregister("incoming_measurement")


def _follow_rejections(
    conn: duckdb.DuckDBPyConnection, batch: Batch, run_id: str, now: datetime
) -> None:
    """A raw row is kept whether it parses or not, so a row that the rules now reject (a T_c
    of 1e-300 loaded before the floor existed) would keep its old measurement active: that
    measurement is deprecated, and one deprecated so comes back when the row parses again."""
    if not batch.record_table.startswith("raw_"):
        return
    rejected = _rejected_record_ids(batch)
    if rejected:
        conn.register("now_rejected", pa.table({"id": pa.array(rejected, pa.string())}))
        try:
            ids = conn.execute(
                "UPDATE measurement SET status = 'deprecated', deprecated_at = ?, "
                "deprecation_reason = ? WHERE status = 'active' "
                "AND origin_id IN (SELECT id FROM now_rejected) RETURNING origin_id",
                [now, f"{REJECTED_REASON} {run_id} (see ingest_rejection)"],
            ).fetchall()
        finally:
            conn.unregister("now_rejected")
        reason = f"rejected by the rules of ingest run {run_id}"
        _ledger(conn, batch, run_id, now, "deprecate", [(i, reason) for (i,) in ids])
    incoming = batch.tables.get("measurement")
    if incoming is None or incoming.num_rows == 0:
        return
    conn.register("incoming_measurement", incoming)
    try:
        conn.execute(
            "UPDATE measurement AS m SET status = i.status, deprecation_reason = NULL, "
            "deprecated_at = NULL FROM incoming_measurement AS i WHERE m.id = i.id "
            "AND m.status = 'deprecated' AND starts_with(m.deprecation_reason, ?)",
            [REJECTED_REASON],
        )
    finally:
        conn.unregister("incoming_measurement")


def _ledger(
    conn: duckdb.DuckDBPyConnection,
    batch: Batch,
    run_id: str,
    now: datetime,
    action: str,
    subjects: list[tuple[str, str]],
) -> None:
    """One ``curation_ledger`` row (stage ``ingest``) per (record id, reason)."""
    parameters = json.dumps({"ingest_run_id": run_id, "source_id": batch.source.id})
    rows = [
        {
            "id": record_id("ledger", "ingest", action, run_id, subject),
            "curation_run_id": None,
            "stage": "ingest",
            "subject_table": batch.record_table,
            "subject_id": subject,
            "action": action,
            "reason": reason,
            "parameters_json": parameters,
            "created_at": now,
        }
        for subject, reason in subjects
    ]
    upsert(conn, "curation_ledger", rows_table(rows), refresh=False)


def _rejected_record_ids(batch: Batch) -> list[str]:
    """Raw rows are stored even when rejected; their ids must not be retired."""
    raw = batch.tables.get(batch.record_table)
    if raw is None or not batch.record_table.startswith("raw_") or "id" not in raw.column_names:
        return []  # an empty file gives a table without columns
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
    conn: duckdb.DuckDBPyConnection,
    batch: Batch,
    accept_retirements: bool = False,
    own_transaction: bool = True,
) -> IngestOutcome:
    """Write a parsed batch in one transaction; on any error the database is left as it was.

    A file that would retire more than ``max_retired_share`` of the source's active records is
    refused (``RetirementRefusedError``) unless ``accept_retirements``. With
    ``own_transaction=False`` the caller holds the transaction (to load several batches, or a
    batch and a file, all or nothing) and commits or rolls back itself."""
    now = utcnow()
    run_id = _new_run_id(batch.source.id, now, batch.file_sha256)
    previous = last_run(conn, batch.source.id)
    if own_transaction:
        conn.begin()
    try:
        present = _present(batch)  # the file's record ids, for retiring and restoring
        gone, n_active = _to_retire(conn, batch, present)
        mark = max(high_water_mark(conn, batch.source.id) or 0, n_active)
        n_after = len(set(present.column("id").to_pylist()))  # what is not present retires
        refuse_mass_retirement(batch, len(gone), n_active, accept_retirements, mark, n_after)
        known = existing_ids(conn, batch.record_table, batch.accepted_ids)
        upsert(conn, "source", _source_row(batch, now), refresh=True)
        insert_new_materials(conn, batch.compositions, now)
        stamps = {"ingest_run_id": run_id, "created_at": now}
        for table, rows in batch.tables.items():
            upsert(conn, table, rows, refresh=True, overrides=stamps)
        n_restored = _restore(conn, batch, present, run_id, now)
        _follow_rejections(conn, batch, run_id, now)
        n_retired = _retire(conn, batch, run_id, now, gone)
        for statement in batch.post_load:
            conn.execute(statement)
        upsert(conn, "ingest_rejection", _rejection_rows(batch, run_id, now), refresh=False)
        n_unchanged = len(known)
        n_loaded = len(batch.accepted_ids) - n_unchanged
        counts = Counter(r.rejection.reason_code for r in batch.rejected)
        restored = f" ({n_restored:,} restored)" if n_restored else ""
        message = (
            f"{n_loaded:,} new, {n_unchanged:,} unchanged{restored}, {len(batch.rejected):,} "
            f"rejected, {n_retired:,} retired of {batch.n_records:,} records"
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
            "active_high_water": _next_high_water(
                conn, batch, mark, accept_retirements and n_retired > 0
            ),
            "parameters_json": json.dumps(batch.parameters, sort_keys=True),
            "message": message,
            **provenance_stamp().columns(),
            "started_at": now,
            "finished_at": utcnow(),
        }
        upsert(conn, "ingest_run", rows_table([run]), refresh=False)
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
        n_restored,
    )
