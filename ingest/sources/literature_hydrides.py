"""Hydride superconductors from the literature, one row per material, phase and pressure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tcdb.core.hashing import file_sha256 as fingerprint
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.ingest.source_info import SourceInfo

if TYPE_CHECKING:
    from tcdb.ingest.runs import Batch

__all__ = ["build", "fingerprint", "info"]

info = SourceInfo(
    id="literature_hydrides",
    kind="dataset",
    title="Hydride superconductors from the literature (one row per material, phase, pressure)",
    path="literature/hydrides_literature.csv",
    citation="facts from the cited papers; each row carries its own reference and DOI",
    licence="facts from the cited papers",
)


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """The CSV as a batch of literature entries (ingest/literature.py)."""
    from tcdb.ingest.literature import build_literature_batch

    return build_literature_batch(path, info, params, fingerprint)
