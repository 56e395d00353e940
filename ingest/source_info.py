"""What the database records of a source: its id, kind, where it lives, citation and licence.

Each source module (``ingest/sources/``) declares one ``SourceInfo`` as its ``info``; the load
writes it to the ``source`` table."""

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
