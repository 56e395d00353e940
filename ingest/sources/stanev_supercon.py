"""Stanev et al.'s cleaned SuperCon table (``name,Tc``), kept in ``raw_stanev_supercon``."""

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
    id="stanev_supercon",
    kind="dataset",
    title="Stanev et al. cleaned SuperCon",
    path="supercon/stanev2018_supercon.csv",
    citation="Stanev et al., npj Comput. Mater. 4, 29 (2018); as shipped by 3DSC",
    licence="CC BY 4.0",
    doi="10.1038/s41524-018-0085-8",
)


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """The file as a batch; ``fingerprint`` is its hash from the pipeline."""
    from tcdb.ingest.supercon import build_stanev_batch

    return build_stanev_batch(path, info, params, fingerprint)
