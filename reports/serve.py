"""Serve the report's folder on this machine for a browser (``tcdb report --serve``).

Why a server at all when the site opens from ``file://``: some browsers restrict what a page
opened from a file may load, and a URL can be opened from another program on the machine.
Only 127.0.0.1 is bound, so nothing outside the machine reaches it.
"""

from __future__ import annotations

import logging
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from core.errors import TcdbError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    """Files of the site folder; each request logged at debug level, not printed."""

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _SiteServer(ThreadingHTTPServer):
    """A browser that leaves a page while a file is still coming (plotly.min.js) closes the
    connection; that is logged at debug level, not printed as a traceback."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("%s left before its file was sent", client_address[0])
            return
        super().handle_error(request, client_address)


def site_server(folder: Path, port: int) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``folder`` on 127.0.0.1 (port 0: any free port); the caller
    runs ``serve_forever`` and closes it."""
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise TcdbError(f"There is no report site in {folder}: run 'tcdb report' first.")
    handler = partial(_QuietHandler, directory=str(folder))
    try:
        return _SiteServer((HOST, port), handler)
    except OSError as exc:
        raise TcdbError(f"Cannot serve the report on {HOST}:{port} ({exc}).") from None


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
