"""Ingest one group of sources or all of them, skipping files already ingested unchanged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.hashing import file_sha256, folder_sha256
from core.parameters import INGEST, IngestParameters
from ingest.runs import (
    Batch,
    IngestOutcome,
    SourceFileError,
    SourceRefusedError,
    is_unchanged,
    load_batch,
    refused_outcome,
    unchanged_outcome,
)
from ingest.sources import (
    CURATED_ENTRIES,
    CURATED_STRUCTURES,
    LITERATURE_HYDRIDES,
    LITERATURE_STRUCTURES,
    MP_MIRROR,
    NIMS_SUPERCON,
    REFERENCE_STRUCTURES,
    STANEV_SUPERCON,
    SourceInfo,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One source file (or folder) and how to turn it into a batch. Curated sources live in
    the repository (TCDB_CURATED) and may not exist yet: then they are skipped. An optional
    source (the reference structures, used only by the morphisms) is skipped with a warning
    when the sources folder lacks it."""

    source: SourceInfo
    fingerprint: Callable[[Path], str]
    build: Callable[[Path, IngestParameters], Batch]
    curated: bool = False
    optional: bool = False


def _nims(path: Path, params: IngestParameters) -> Batch:
    from ingest.supercon import build_nims_batch

    return build_nims_batch(path, params)


def _stanev(path: Path, params: IngestParameters) -> Batch:
    from ingest.supercon import build_stanev_batch

    return build_stanev_batch(path, params)


def _mp_mirror(path: Path, params: IngestParameters) -> Batch:
    from ingest.materials_project import build_mirror_batch

    return build_mirror_batch(path, params)


def _literature_structures(path: Path, params: IngestParameters) -> Batch:
    from ingest.materials_project import build_literature_structures_batch

    return build_literature_structures_batch(path, params)


def _reference_structures(path: Path, params: IngestParameters) -> Batch:
    from ingest.materials_project import build_literature_structures_batch

    return build_literature_structures_batch(path, params, source=REFERENCE_STRUCTURES)


def _literature(path: Path, params: IngestParameters) -> Batch:
    from ingest.literature import build_literature_batch

    return build_literature_batch(path, params)


def _curated_entries(path: Path, params: IngestParameters) -> Batch:
    from ingest.literature import build_literature_batch

    return build_literature_batch(path, params, source=CURATED_ENTRIES)


def _curated_structures(path: Path, params: IngestParameters) -> Batch:
    from ingest.materials_project import build_literature_structures_batch

    return build_literature_structures_batch(path, params, source=CURATED_STRUCTURES)


JOBS: dict[str, list[Job]] = {
    "supercon": [
        Job(NIMS_SUPERCON, file_sha256, _nims),
        Job(STANEV_SUPERCON, file_sha256, _stanev),
    ],
    "materials-project": [Job(MP_MIRROR, file_sha256, _mp_mirror)],
    "literature": [
        Job(LITERATURE_STRUCTURES, lambda p: folder_sha256(p, "*.cif"), _literature_structures),
        Job(LITERATURE_HYDRIDES, file_sha256, _literature),
        Job(
            REFERENCE_STRUCTURES,
            lambda p: folder_sha256(p, "*.cif"),
            _reference_structures,
            optional=True,
        ),
        Job(
            CURATED_STRUCTURES,
            lambda p: folder_sha256(p, "*.cif"),
            _curated_structures,
            curated=True,
        ),
        Job(CURATED_ENTRIES, file_sha256, _curated_entries, curated=True),
    ],
}
GROUPS = (*JOBS, "all")
# The order "all" ingests the groups in, so that links resolve (SuperCon before the Materials
# Project, whose online query asks for SuperCon's compositions).
ALL_ORDER = ("supercon", "materials-project", "literature")


def source_path(sources_root: Path, source: SourceInfo) -> Path:
    path = Path(sources_root) / (source.path or "")
    if not path.exists():
        raise SourceFileError(
            f"Source {source.id} not found at {path}; point TCDB_SOURCES (or --sources) at the "
            f"folder holding {source.path}"
        )
    return path


def run_job(
    conn: duckdb.DuckDBPyConnection,
    job: Job,
    sources_root: Path,
    params: IngestParameters = INGEST,
    force: bool = False,
    curated_root: Path | None = None,
    accept_retirements: bool = False,
) -> IngestOutcome | None:
    """Ingest one source unless the same file was already ingested with the same parameters;
    None for a curated source that does not exist (nothing has been added by hand). A file
    refused as a whole (a wrong header, too many retirements) gives a ``refused`` outcome and
    writes nothing."""
    if job.curated:
        if curated_root is None or not (Path(curated_root) / (job.source.path or "")).exists():
            return None
        path = Path(curated_root) / (job.source.path or "")
    else:
        try:
            path = source_path(sources_root, job.source)
        except SourceFileError:
            if not job.optional:
                raise
            log.warning("%s: not in %s; skipped", job.source.id, sources_root)
            return None
    sha = job.fingerprint(path)
    previous = None if force else is_unchanged(conn, job.source.id, sha, params.as_dict())
    if previous:
        outcome = unchanged_outcome(job.source.id, previous, str(path))
        log.info("%s: %s", job.source.id, outcome.message)
        return outcome
    log.info("%s: reading %s", job.source.id, path)
    try:
        batch = job.build(path, params)
        batch.file_sha256 = sha
        outcome = load_batch(conn, batch, accept_retirements)
    except SourceRefusedError as exc:
        log.error("%s: %s", job.source.id, exc)
        return refused_outcome(job.source.id, exc)
    log.info("%s: %s", job.source.id, outcome.message)
    return outcome


def jobs_for(
    group: str, mp_api_key: str | None = None, conn: duckdb.DuckDBPyConnection | None = None
) -> list[Job]:
    """The jobs of a group; those of 'all' in ``ALL_ORDER``."""
    if group == "all":
        return [job for name in ALL_ORDER for job in jobs_for(name, mp_api_key, conn)]
    if group == "materials-project" and mp_api_key and conn is not None:
        from ingest.mp_online import online_job

        online = online_job(mp_api_key, conn)
        if online is not None:
            return [online]
    if group not in JOBS:
        raise ValueError(f"unknown source group {group!r}; choose from {', '.join(GROUPS)}")
    return JOBS[group]


def ingest(
    conn: duckdb.DuckDBPyConnection,
    group: str,
    sources_root: Path,
    params: IngestParameters = INGEST,
    force: bool = False,
    mp_api_key: str | None = None,
    curated_root: Path | None = None,
    accept_retirements: bool = False,
) -> list[IngestOutcome]:
    """Ingest a group of sources, each file in its own transaction; a refused file does not
    stop the others (its outcome says ``refused``)."""
    if group == "all":
        return [
            outcome
            for name in ALL_ORDER
            for outcome in ingest(
                conn, name, sources_root, params, force, mp_api_key, curated_root,
                accept_retirements,
            )
        ]  # fmt: skip
    jobs = jobs_for(group, mp_api_key, conn)
    outcomes = [
        run_job(conn, job, sources_root, params, force, curated_root, accept_retirements)
        for job in jobs
    ]
    return [o for o in outcomes if o is not None]
