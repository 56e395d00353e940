"""The API's tests serve the report's database: the session's small real database that holds
every kind of row the API reads (structures of the three sources, SuperCon labels, literature
entries with DOIs, both snapshots, and predictions of the cvcnn, composition and hydride runs).
It is built once per session for the report's tests too; here it is copied, read into one
catalogue per session, and served by one live uvicorn server per test module."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tcdb.api.catalogue import Catalogue, load_catalogue
from tcdb.api.parameters import ApiParameters
from tests.reports.conftest import report_db  # noqa: F401  (the session's fixture, shared)


@pytest.fixture(scope="session")
def api_db(report_db, tmp_path_factory) -> Path:  # noqa: F811  (the fixture imported above)
    """A copy of the report's database, so that a test may also open it for writing."""
    copy = tmp_path_factory.mktemp("api") / "tcdb.duckdb"
    shutil.copy(report_db, copy)
    return copy


@pytest.fixture(scope="session")
def catalogue(api_db: Path) -> Iterator[Catalogue]:
    found = load_catalogue(api_db)
    yield found
    found.close()


@dataclass(frozen=True)
class LiveServer:
    """A uvicorn server in a thread of the test process, on a free port of 127.0.0.1."""

    url: str  # the unversioned base URL
    catalogue: Catalogue

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"


def start_server(catalogue: Catalogue, parameters: ApiParameters | None = None):
    """A running server and a function that stops it."""
    from tcdb.api.server import bound_socket, url_of, uvicorn_server

    sock = bound_socket("127.0.0.1", 0)
    server = uvicorn_server(catalogue, parameters)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):  # ready within a second or two
        if server.started:
            break
        thread.join(0.02)
    assert server.started, "the test server did not start"

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return url_of(sock), stop


@pytest.fixture(scope="module")
def live_server(catalogue: Catalogue) -> Iterator[LiveServer]:
    url, stop = start_server(catalogue)
    try:
        yield LiveServer(url, catalogue)
    finally:
        stop()


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict:
        import json

        return json.loads(self.body)


def fetch(url: str, method: str = "GET") -> Answer:
    """One request, whatever its status (urllib would raise on an error status)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target)
        response = conn.getresponse()
        return Answer(response.status, response.getheader("content-type", ""), response.read())
    finally:
        conn.close()


def structures_url(server: LiveServer, **params) -> str:
    from urllib.parse import urlencode

    return f"{server.v1}/structures?{urlencode(params)}"
