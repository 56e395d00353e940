"""Hydride data points added by hand (``tcdb curate add-entry``), replayed after a rebuild."""

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
    id="curated_entries",
    kind="curated",
    title="Hydride data points added by hand with 'tcdb curate add-entry'",
    path="literature_entries.csv",
    citation="each row carries its own reference and DOI",
    licence="facts from the cited papers",
)


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """The curated CSV, read by the literature parser, as a batch of literature entries."""
    from tcdb.ingest.literature import build_literature_batch

    return build_literature_batch(path, info, params, fingerprint)
