"""The contract every source keeps, so that the pipeline knows none of them by name.

A source is a module of ``ingest/sources/`` that declares:

- ``info``: its ``SourceInfo`` (id, kind, title, path, citation, licence);
- ``fingerprint(path)``: the content hash of its file or folder. The pipeline computes it once
  per run, skips the source when the hash and parameters equal those of its last run, and
  hands the hash to ``build``: nothing hashes the file again;
- ``build(path, params, fingerprint)``: read and parse, no database; the ``Batch`` it returns
  carries the fingerprint as ``file_sha256`` and is written by ``ingest.runs.load_batch``.

Where the file lives follows from ``info``: ``path`` under TCDB_SOURCES, or under TCDB_CURATED
for ``kind == "curated"`` (skipped while nothing has been added by hand). A service reached
over the network (``kind == "api"``) is a ``LiveSource``: ``connect`` gives a ``Source`` bound
to the service, or None when it cannot be reached. The pipeline finds the sources in
``ingest/registry.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import duckdb

    from tcdb.core.parameters import IngestParameters
    from tcdb.ingest.runs import Batch
    from tcdb.ingest.source_info import SourceInfo


class Source(Protocol):
    """A file or folder turned into one batch."""

    info: SourceInfo

    def fingerprint(self, path: Path) -> str: ...

    def build(self, path: Path, params: IngestParameters, fingerprint: str) -> Batch: ...


class LiveSource(Protocol):
    """A service: ``connect`` gives the source to ingest, or None (with a warning) when the
    service cannot be reached."""

    info: SourceInfo

    def connect(self, api_key: str, conn: duckdb.DuckDBPyConnection) -> Source | None: ...
