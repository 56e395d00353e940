"""Serve the report's folder on this machine for a browser (``tcdb report --serve``).

Why a server at all when the site opens from ``file://``: some browsers restrict what a page
opened from a file may load, and a URL can be opened from another program on the machine.
Only 127.0.0.1 is bound, so nothing outside the machine reaches it.

Only regular files that really lie inside the site folder are served (``site_file``): the
requested path is resolved, links included, and compared with the folder. A link inside the
folder that resolves inside it is served (its bytes are the site's own); one that leads out,
a path with ``..``, a folder without ``index.html``, a FIFO or a device is answered 404, and a
path that cannot be a file name (a NUL byte, undecodable escapes) 400. Folders are never
listed. Each refusal is logged at debug level, never as a traceback.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat
import sys
import urllib.parse
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tcdb.core.errors import TcdbError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
INDEX = "index.html"


@dataclass(frozen=True)
class Answer:
    """What a request gets: a file to send, a redirect to the folder's slash form, or an error
    status with the reason logged."""

    status: HTTPStatus
    file: Path | None = None
    reason: str = ""


def _url_path(raw: str) -> str | None:
    """The decoded path of a request target (query and fragment dropped), or None when it
    cannot name a file (undecodable escapes, a NUL byte)."""
    path = raw.split("?", 1)[0].split("#", 1)[0]
    try:
        path = urllib.parse.unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in path else path


def _inside(path: Path, root: Path) -> Path | None:
    """``path`` with every link resolved, when that lies in ``root`` (itself resolved)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return None
    return resolved if resolved == root or resolved.is_relative_to(root) else None


def site_file(root: Path, raw: str) -> Answer:
    """Which regular file of the site folder ``root`` (resolved) a request target names."""
    path = _url_path(raw)
    if path is None:
        return Answer(HTTPStatus.BAD_REQUEST, reason="the path cannot be a file name")
    words = [w for w in posixpath.normpath(path).split("/") if w not in ("", ".")]
    if ".." in words:
        return Answer(HTTPStatus.NOT_FOUND, reason="the path climbs out of the site folder")
    target = _inside(root.joinpath(*words), root)
    if target is not None and target.is_dir():
        if not path.endswith("/"):
            return Answer(HTTPStatus.MOVED_PERMANENTLY)
        target = _inside(target / INDEX, root)
    if target is None:
        return Answer(HTTPStatus.NOT_FOUND, reason="it leads out of the site folder")
    if not target.is_file():
        return Answer(HTTPStatus.NOT_FOUND, reason="no regular file of the site has that path")
    return Answer(HTTPStatus.OK, target)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Regular files inside the site folder (``site_file``); each request logged at debug
    level, not printed."""

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def send_head(self):
        answer = site_file(Path(self.directory), self.path)
        if answer.status == HTTPStatus.MOVED_PERMANENTLY:
            return self._redirect_to_folder()
        if answer.file is None:
            log.debug("%r refused (%d): %s", self.path, answer.status, answer.reason)
            self.send_error(answer.status)
            return None
        return self._open(answer.file)

    def _redirect_to_folder(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", urllib.parse.urlunsplit(parts._replace(path=parts.path + "/")))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _open(self, path: Path):
        """The file opened without following a link swapped in since it was checked, or None
        (404) when it is no longer a regular file."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        handle = os.fdopen(fd, "rb")
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                handle.close()
                self.send_error(HTTPStatus.NOT_FOUND)
                return None
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-type", self.guess_type(str(path)))
            self.send_header("Content-Length", str(info.st_size))
            self.send_header("Last-Modified", self.date_time_string(info.st_mtime))
            self.end_headers()
        except BaseException:
            handle.close()
            raise
        return handle


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
    handler = partial(_QuietHandler, directory=str(folder.resolve()))
    try:
        return _SiteServer((HOST, port), handler)
    except OSError as exc:
        raise TcdbError(f"Cannot serve the report on {HOST}:{port} ({exc}).") from None


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
