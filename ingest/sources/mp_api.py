"""The live Materials Project through mp-api, used when MP_API_KEY is set and the network answers.

A live source (``ingest.contract.LiveSource``): ``connect`` reaches the service and gives the
source to ingest, or None so that the offline mirror is used. It asks for the structures of
the compositions present in SuperCon, in chunks, records the database version the service
reports, and feeds the CIFs through the same parse and load path as the offline mirror. The
client sits behind ``StructureClient`` so that tests use a fake one and never touch the network.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.ingest.source_info import SourceInfo

if TYPE_CHECKING:
    import duckdb

    from tcdb.ingest.runs import Batch

__all__ = ["connect", "info"]

log = logging.getLogger(__name__)

info = SourceInfo(
    id="mp_api",
    kind="api",
    title="Materials Project database via mp-api",
    path=None,
    citation="Jain et al., APL Mater. 1, 011002 (2013)",
    licence="CC BY 4.0",
    doi="10.1063/1.4812323",
    url="https://materialsproject.org",
)


class StructureClient(Protocol):
    """What the ingestor needs of the Materials Project."""

    def database_version(self) -> str: ...

    def structures(self, formulas: list[str]) -> list[tuple[str, str]]:
        """(material id, CIF text) of every structure of the given reduced formulas."""
        ...


class MPRestClient:
    """``StructureClient`` over mp-api's MPRester (constructing it contacts the service)."""

    def __init__(self, api_key: str) -> None:
        from mp_api.client import MPRester

        self._rester = MPRester(api_key, mute_progress_bars=True)

    def database_version(self) -> str:
        return str(self._rester.get_database_version())

    def structures(self, formulas: list[str]) -> list[tuple[str, str]]:
        from pymatgen.io.cif import CifWriter

        docs = self._rester.materials.summary.search(
            formula=formulas, fields=["material_id", "structure"]
        )
        return [(str(doc.material_id), str(CifWriter(doc.structure))) for doc in docs]


def supercon_formulas(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Reduced formulas of the materials measured in SuperCon (NIMS and Stanev)."""
    rows = conn.execute(
        """
        SELECT DISTINCT m.reduced_formula FROM material m
        JOIN measurement x ON x.material_id = m.id
        WHERE x.source_id IN ('nims_supercon', 'stanev_supercon')
        ORDER BY 1
        """
    ).fetchall()
    return [r[0] for r in rows]


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fetch(client: StructureClient, formulas: list[str], chunk_size: int) -> list[tuple[str, str]]:
    """Every (material id, CIF) for the formulas, one request per chunk, with progress."""
    from tqdm import tqdm

    found: list[tuple[str, str]] = []
    batches = list(chunks(formulas, chunk_size))
    for chunk in tqdm(batches, desc="Materials Project", unit="request", disable=None):
        found.extend(client.structures(chunk))
    return found


@dataclass(frozen=True)
class OnlineSource:
    """The service as a ``Source``: one client, the database version it reported and the
    formulas to ask for; its fingerprint is the hash of the version and the formulas."""

    client: StructureClient
    version: str
    formulas: list[str]
    info: SourceInfo = info

    def fingerprint(self, _path: Path) -> str:
        return hashlib.sha256(("\n".join([self.version, *self.formulas])).encode()).hexdigest()

    def build(self, _path: Path, params: IngestParameters = INGEST, fingerprint: str = "") -> Batch:
        from tcdb.ingest.materials_project import structure_batch

        items = fetch(self.client, self.formulas, params.mp_chunk_size)
        return structure_batch(
            items,
            self.info,
            None,
            params,
            structure_id_of=lambda ref: ref,
            database_version=self.version,
            fingerprint=fingerprint,
        )


def connect(
    api_key: str,
    conn: duckdb.DuckDBPyConnection,
    client_factory: Callable[[str], StructureClient] = MPRestClient,
) -> OnlineSource | None:
    """The source querying the live service, or None (with a warning) when it cannot be
    reached."""
    try:
        client = client_factory(api_key)
        version = client.database_version()
    except Exception as exc:  # no network: MPRester raises in its constructor
        log.warning(
            "The Materials Project could not be reached (%s); using the offline mirror.",
            type(exc).__name__,
        )
        return None
    formulas = supercon_formulas(conn)
    log.info("Materials Project database %s: %d SuperCon formulas to query", version, len(formulas))
    return OnlineSource(client, version, formulas)
