"""One module per source, each keeping the contract of ``ingest/contract.py`` (``info``,
``fingerprint``, ``build``; ``connect`` for a service). ``ingest/registry.py`` lists them.

The names below give each source's ``info`` under the name code outside ``ingest/`` imports.
"""

from __future__ import annotations

from ingest.source_info import SourceInfo
from ingest.sources import (
    curated_entries,
    curated_structures,
    literature_hydrides,
    literature_structures,
    mp_api,
    mp_mirror,
    nims_supercon,
    reference_structures,
    stanev_supercon,
)

__all__ = [
    "CURATED_ENTRIES",
    "CURATED_STRUCTURES",
    "LITERATURE_HYDRIDES",
    "LITERATURE_STRUCTURES",
    "MP_API",
    "MP_MIRROR",
    "NIMS_SUPERCON",
    "REFERENCE_STRUCTURES",
    "STANEV_SUPERCON",
    "SourceInfo",
]

NIMS_SUPERCON = nims_supercon.info
STANEV_SUPERCON = stanev_supercon.info
MP_MIRROR = mp_mirror.info
MP_API = mp_api.info
LITERATURE_HYDRIDES = literature_hydrides.info
LITERATURE_STRUCTURES = literature_structures.info
REFERENCE_STRUCTURES = reference_structures.info
CURATED_ENTRIES = curated_entries.info
CURATED_STRUCTURES = curated_structures.info
