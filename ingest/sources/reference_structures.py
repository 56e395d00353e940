"""The base structures of the morphisms (``tcdb morph``); no entry points at them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tcdb.core.hashing import folder_sha256
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.ingest.source_info import SourceInfo

if TYPE_CHECKING:
    from tcdb.ingest.runs import Batch

__all__ = ["build", "fingerprint", "info"]

info = SourceInfo(
    id="reference_structures",
    kind="dataset",
    title="Base structures of the morphisms of Novakovic et al. (2023): H3S, MgH13, Li2MgH16, "
    "SeH3, CSH7 and four Fd-3m morphs (site labels X*/Y* mark the varied sites)",
    path="reference/structures",
    citation="Novakovic, Salamat, Lawler, arXiv:2301.10474 (2023); from github "
    "LazarNov/superconductor-predict",
    licence="as published with the cited papers",
)


def fingerprint(path: Path) -> str:
    return folder_sha256(path, "*.cif")


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """Every CIF of the folder, ids ``reference:<file stem>``, site labels kept."""
    from tcdb.ingest.materials_project import build_cif_folder_batch

    return build_cif_folder_batch(path, info, params, fingerprint, "reference:")
