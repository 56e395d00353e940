"""CIFs added by hand (``tcdb curate add-entry --cif``), linked to the curated entries."""

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
    id="curated_structures",
    kind="curated",
    title="CIFs added by hand with 'tcdb curate add-entry --cif'",
    path="structures",
    citation="each structure's entry carries its reference",
    licence="as published with the cited papers",
)


def fingerprint(path: Path) -> str:
    return folder_sha256(path, "*.cif")


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """Every CIF of the folder, ids ``curated_structures:<file stem>``."""
    from tcdb.ingest.literature import LINK_STRUCTURES_SQL
    from tcdb.ingest.materials_project import build_cif_folder_batch

    return build_cif_folder_batch(
        path, info, params, fingerprint, f"{info.id}:", (LINK_STRUCTURES_SQL,)
    )
