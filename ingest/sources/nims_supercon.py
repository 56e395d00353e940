"""The NIMS SuperCon export, every row kept verbatim in ``raw_nims_supercon``."""

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
    id="nims_supercon",
    kind="dataset",
    title='NIMS SuperCon "OXIDEMETALLIC" export',
    path="supercon/nims_supercon_oxide_metallic.tsv",
    citation="NIMS SuperCon, NIMS Materials Data Repository; republished in "
    "github jamesconde/superconductor-vae",
    licence="CC BY 4.0",
    doi="10.48505/nims.3739",
)


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """The file as a batch; ``fingerprint`` is its hash from the pipeline (empty when the batch
    is only looked at, never loaded)."""
    from tcdb.ingest.supercon import build_nims_batch

    return build_nims_batch(path, info, params, fingerprint)
