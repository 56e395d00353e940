"""The live Materials Project through mp-api, used when MP_API_KEY is set and the network answers.

It asks for the structures of the compositions present in SuperCon, in chunks, records the
database version the service reports, and feeds the CIFs through the same parse and load path
as the offline mirror. The client sits behind ``StructureClient`` so that tests use a fake one
and never touch the network.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import duckdb

from core.parameters import INGEST, IngestParameters
from ingest.materials_project import structure_batch
from ingest.pipeline import Job
from ingest.runs import Batch
from ingest.sources import MP_API

log = logging.getLogger(__name__)


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


def online_job(
    api_key: str,
    conn: duckdb.DuckDBPyConnection,
    client_factory: Callable[[str], StructureClient] = MPRestClient,
) -> Job | None:
    """A job querying the live service, or None (with a warning) when it cannot be reached."""
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
    fingerprint = hashlib.sha256(("\n".join([version, *formulas])).encode()).hexdigest()

    def build(_path: Path, params: IngestParameters = INGEST) -> Batch:
        items = fetch(client, formulas, params.mp_chunk_size)
        batch = structure_batch(
            items,
            MP_API,
            None,
            params,
            structure_id_of=lambda ref: ref,
            database_version=version,
        )
        batch.file_sha256 = fingerprint
        return batch

    log.info("Materials Project database %s: %d SuperCon formulas to query", version, len(formulas))
    return Job(MP_API, lambda _path: fingerprint, build)
