"""The catalogue of sources: what each file or service is, its citation and its licence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceInfo:
    id: str
    kind: str  # dataset | api | curated
    title: str
    path: str | None  # relative to TCDB_SOURCES; for curated sources, to TCDB_CURATED
    citation: str
    licence: str
    doi: str | None = None
    url: str | None = None


NIMS_SUPERCON = SourceInfo(
    id="nims_supercon",
    kind="dataset",
    title='NIMS SuperCon "OXIDEMETALLIC" export',
    path="supercon/nims_supercon_oxide_metallic.tsv",
    citation="NIMS SuperCon, NIMS Materials Data Repository; republished in "
    "github jamesconde/superconductor-vae",
    licence="CC BY 4.0",
    doi="10.48505/nims.3739",
)
STANEV_SUPERCON = SourceInfo(
    id="stanev_supercon",
    kind="dataset",
    title="Stanev et al. cleaned SuperCon",
    path="supercon/stanev2018_supercon.csv",
    citation="Stanev et al., npj Comput. Mater. 4, 29 (2018); as shipped by 3DSC",
    licence="CC BY 4.0",
    doi="10.1038/s41524-018-0085-8",
)
MP_MIRROR = SourceInfo(
    id="mp_mirror",
    kind="dataset",
    title="Materials Project structures (offline mirror of SuperCon compositions)",
    path="materials_project/mp_structures.tar.gz",
    citation="Jain et al., APL Mater. 1, 011002 (2013); selection from 3DSC "
    "(Sommer et al., Sci. Data 10, 816 (2023))",
    licence="CC BY 4.0",
    doi="10.1063/1.4812323",
)
MP_API = SourceInfo(
    id="mp_api",
    kind="api",
    title="Materials Project database via mp-api",
    path=None,
    citation="Jain et al., APL Mater. 1, 011002 (2013)",
    licence="CC BY 4.0",
    doi="10.1063/1.4812323",
    url="https://materialsproject.org",
)
LITERATURE_HYDRIDES = SourceInfo(
    id="literature_hydrides",
    kind="dataset",
    title="Hydride superconductors from the literature (one row per material, phase, pressure)",
    path="literature/hydrides_literature.csv",
    citation="facts from the cited papers; each row carries its own reference and DOI",
    licence="facts from the cited papers",
)
LITERATURE_STRUCTURES = SourceInfo(
    id="literature_structures",
    kind="dataset",
    title="Structures of binary hydrides (Shipley et al. 2021) and CSH7",
    path="literature/structures",
    citation="Shipley et al., PRB 104, 054501 (2021); Novakovic et al., PRB 105, 024512 (2022); "
    "from github LazarNov/superconductor-predict",
    licence="as published with the cited papers",
)
REFERENCE_STRUCTURES = SourceInfo(
    id="reference_structures",
    kind="dataset",
    title="Base structures of the morphisms of Novakovic et al. (2023): H3S, MgH13, Li2MgH16, "
    "SeH3, CSH7 and four Fd-3m morphs (site labels X*/Y* mark the varied sites)",
    path="reference/structures",
    citation="Novakovic, Salamat, Lawler, arXiv:2301.10474 (2023); from github "
    "LazarNov/superconductor-predict",
    licence="as published with the cited papers",
)

CURATED_ENTRIES = SourceInfo(
    id="curated_entries",
    kind="curated",
    title="Hydride data points added by hand with 'tcdb curate add-entry'",
    path="literature_entries.csv",
    citation="each row carries its own reference and DOI",
    licence="facts from the cited papers",
)
CURATED_STRUCTURES = SourceInfo(
    id="curated_structures",
    kind="curated",
    title="CIFs added by hand with 'tcdb curate add-entry --cif'",
    path="structures",
    citation="each structure's entry carries its reference",
    licence="as published with the cited papers",
)

SOURCES: dict[str, SourceInfo] = {
    s.id: s
    for s in (
        NIMS_SUPERCON,
        STANEV_SUPERCON,
        MP_MIRROR,
        MP_API,
        LITERATURE_HYDRIDES,
        LITERATURE_STRUCTURES,
        REFERENCE_STRUCTURES,
        CURATED_ENTRIES,
        CURATED_STRUCTURES,
    )
}
