"""The offline Materials Project mirror: CIFs read straight from a .tar.gz, never extracted."""

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
    id="mp_mirror",
    kind="dataset",
    title="Materials Project structures (offline mirror of SuperCon compositions)",
    path="materials_project/mp_structures.tar.gz",
    citation="Jain et al., APL Mater. 1, 011002 (2013); selection from 3DSC "
    "(Sommer et al., Sci. Data 10, 816 (2023))",
    licence="CC BY 4.0",
    doi="10.1063/1.4812323",
)


def build(path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
    """The archive's CIFs as a batch of structures with their Materials Project ids."""
    from tcdb.core.structures import iter_tar_cifs
    from tcdb.ingest.materials_project import mp_structure_id, structure_batch

    return structure_batch(
        iter_tar_cifs(path, params),
        info,
        str(path),
        params,
        structure_id_of=mp_structure_id,
        database_version="offline mirror",
        fingerprint=fingerprint,
    )
