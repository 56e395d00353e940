"""Running the application under uvicorn on a socket bound here.

Why bind the socket ourselves: a port in use or a host that cannot be bound is then one
sentence before anything is served (uvicorn would log it and exit), port 0 takes a free port
whose number is known before the first request, and the tests start the same server on a
free port in a thread.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

from tcdb.api.app import create_app
from tcdb.api.catalogue import Catalogue
from tcdb.api.parameters import ApiParameters
from tcdb.core.errors import TcdbError

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def bound_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port), or one sentence."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TcdbError(f"Cannot serve on {host}:{port}: the host is unknown ({exc}).") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise TcdbError(
            f"Cannot serve on {host}:{port} ({exc.strerror or exc}); give another --port."
        ) from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"


def uvicorn_server(catalogue: Catalogue, parameters: ApiParameters | None = None):
    """A uvicorn server for the catalogue, to be run on a socket from ``bound_socket``; its
    access log goes to tcdb's logging at debug level rather than to the terminal."""
    import uvicorn

    # uvicorn's own lines (started, shutting down) are of no use beside tcdb's; its errors stay
    if logging.getLogger("uvicorn.error").level == logging.NOTSET:
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    config = uvicorn.Config(
        create_app(catalogue, parameters),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    return uvicorn.Server(config)


def serve(
    catalogue: Catalogue,
    sock: socket.socket,
    parameters: ApiParameters | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), then close the socket; uvicorn raises the
    signal again once it has shut down, so Ctrl-C ends in KeyboardInterrupt."""
    server = uvicorn_server(catalogue, parameters)
    if on_ready is not None:
        on_ready(url_of(sock))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
