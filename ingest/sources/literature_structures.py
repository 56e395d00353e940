"""The CIFs of binary hydrides from the literature, linked to their literature entries."""

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
    id="literature_structures",
    kind="dataset",
    title="Structures of binary hydrides (Shipley et al. 2021) and CSH7",
    path="literature/structures",
    citation="Shipley et al., PRB 104, 054501 (2021); Novakovic et al., PRB 105, 024512 (2022); "
    "from github LazarNov/superconductor-predict",
    licence="as published with the cited papers",
)


def fingerprint(path: Path) -> str:
    return folder_sha256(path, "*.cif")


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """Every CIF of the folder, ids ``literature:<file stem>``; entries are linked to them."""
    from tcdb.ingest.literature import LINK_STRUCTURES_SQL
    from tcdb.ingest.materials_project import build_cif_folder_batch

    return build_cif_folder_batch(
        path, info, params, fingerprint, "literature:", (LINK_STRUCTURES_SQL,)
    )
