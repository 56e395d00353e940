"""Ingest one group of sources or all of them, skipping files already ingested unchanged.

The pipeline knows sources only through their contract (``ingest/contract.py``) and the
registry (``ingest/registry.py``): for each registered source it finds the file, computes the
fingerprint once, skips the source when that file was already ingested with the same
parameters, and otherwise builds the batch and loads it (``ingest.runs.load_batch``). Given a
``Database`` rather than a connection, it opens the file only for those checks and loads, never
while a source is hashed, read or parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.safe_reads import FileRefusedError
from tcdb.ingest.registry import REGISTRY, Registered, Registry
from tcdb.ingest.runs import (
    IngestOutcome,
    SourceFileError,
    SourceRefusedError,
    is_unchanged,
    load_batch,
    refused_outcome,
    unchanged_outcome,
)
from tcdb.ingest.source_info import SourceInfo
from tcdb.schema.database import Database, Target, reading, results_lock_wait

if TYPE_CHECKING:
    from tcdb.ingest.contract import LiveSource, Source

log = logging.getLogger(__name__)


def source_path(sources_root: Path, source: SourceInfo) -> Path:
    path = Path(sources_root) / (source.path or "")
    if not path.exists():
        raise SourceFileError(
            f"Source {source.id} not found at {path}; point TCDB_SOURCES (or --sources) at the "
            f"folder holding {source.path}"
        )
    return path


def _path_of(
    info: SourceInfo, sources_root: Path, curated_root: Path | None, optional: bool
) -> Path | None:
    """Where a source's file is, or None when it is to be skipped: a curated source that does
    not exist yet (nothing added by hand), or an optional one the sources folder lacks."""
    if info.kind == "curated":
        path = Path(curated_root) / (info.path or "") if curated_root is not None else None
        return path if path is not None and path.exists() else None
    try:
        return source_path(sources_root, info)
    except SourceFileError:
        if not optional:
            raise
        log.warning("%s: not in %s; skipped", info.id, sources_root)
        return None


def run_job(
    target: Target,
    source: Source,
    sources_root: Path,
    params: IngestParameters = INGEST,
    force: bool = False,
    curated_root: Path | None = None,
    accept_retirements: bool = False,
    optional: bool = False,
) -> IngestOutcome | None:
    """Ingest one source unless the same file was already ingested with the same parameters;
    None for a source skipped (a curated one that does not exist, an optional one that is
    absent). A file refused as a whole (a wrong header, too many retirements, a FIFO or a
    device, too large, a damaged archive) gives a ``refused`` outcome and writes nothing.

    Given a ``Database``, the file is opened only for the unchanged check and for the load:
    hashing, reading and parsing the source hold no connection, so nothing a file does can
    keep the database locked (given a connection, the caller holds it throughout)."""
    info = source.info
    path = _path_of(info, sources_root, curated_root, optional)
    if path is None:
        return None
    try:
        sha = source.fingerprint(path)
        with reading(target) as conn:
            previous = None if force else is_unchanged(conn, info.id, sha, params.as_dict())
        if previous:
            outcome = unchanged_outcome(info.id, previous, str(path))
            log.info("%s: %s", info.id, outcome.message)
            return outcome
        log.info("%s: reading %s", info.id, path)
        batch = source.build(path, params, sha)
        with _loading(target) as conn:
            outcome = load_batch(conn, batch, accept_retirements)
    except (SourceRefusedError, FileRefusedError) as exc:
        log.error("%s: %s", info.id, exc)
        return refused_outcome(info.id, exc)
    log.info("%s: %s", info.id, outcome.message)
    return outcome


@contextmanager
def _loading(target: Target) -> Iterator[duckdb.DuckDBPyConnection]:
    """The connection a batch is loaded through: a Database is opened for writing, waiting
    for a held lock as long as other computed results do (the batch took time to parse)."""
    if isinstance(target, Database):
        with target.writing(wait=results_lock_wait()) as conn:
            yield conn
    else:
        yield target


def sources_for(
    group: str,
    mp_api_key: str | None = None,
    conn: Target | None = None,
    registry: Registry = REGISTRY,
) -> list[tuple[Source, Registered]]:
    """The sources one group (not ``all``) ingests, each with its registry line. A live source
    is connected here, just before its group runs: given a key and an answer, it runs instead
    of the source it replaces; otherwise it is left out. ``conn`` is a connection or a
    ``Database`` (opened read-only while the live source is connected)."""
    chosen: list[tuple[Source, Registered]] = []
    replaced: set[str] = set()
    for line in registry.lines(group):
        if line.source.info.id in replaced:
            continue
        if line.source.info.kind != "api":
            chosen.append((line.source, line))
            continue
        live = _connect(line.source, mp_api_key, conn) if mp_api_key and conn is not None else None
        if live is not None:
            chosen.append((live, line))
            if line.instead_of:
                replaced.add(line.instead_of)
    return chosen


def _connect(source: LiveSource, api_key: str, target: Target) -> Source | None:
    with reading(target) as conn:
        return source.connect(api_key, conn)


def ingest(
    target: Target,
    group: str,
    sources_root: Path,
    params: IngestParameters = INGEST,
    force: bool = False,
    mp_api_key: str | None = None,
    curated_root: Path | None = None,
    accept_retirements: bool = False,
    registry: Registry = REGISTRY,
) -> list[IngestOutcome]:
    """Ingest a group of sources (``all``: every group, in the registry's order), each file in
    its own transaction; a refused file does not stop the others (its outcome says
    ``refused``). ``target`` is a connection the caller holds, or a ``Database`` opened only
    around each source's unchanged check and load (``run_job``)."""
    outcomes = []
    for name in registry.expand(group):
        for source, line in sources_for(name, mp_api_key, target, registry):
            outcome = run_job(
                target, source, sources_root, params, force, curated_root, accept_retirements,
                line.optional,
            )  # fmt: skip
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes
