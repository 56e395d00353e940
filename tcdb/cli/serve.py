"""``tcdb serve``: the database as an OPTIMADE v1 API over HTTP, until Ctrl-C.

The database is read once, read-only, when the server starts (``tcdb.api.catalogue``), and
closed: a training or an ingest can write to it while the server runs, and what they store is
served after a restart. Only 127.0.0.1 is bound unless --host says otherwise.
"""

from __future__ import annotations

import logging
import math
from typing import Annotated

import typer

from tcdb.api.parameters import HOST, PORT, ApiParameters
from tcdb.cli.context import settings_of

log = logging.getLogger(__name__)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 opens it to other machines")
    ] = HOST,
    port: Annotated[int, typer.Option(help="Port (0: any free port)", min=0, max=65535)] = PORT,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Cancel a request still running after this many seconds and answer it with "
            "an OPTIMADE error (503); 0 for no limit",
        ),
    ] = ApiParameters.query_timeout_s,
    max_page_limit: Annotated[
        int,
        typer.Option(help="Largest page_limit a client may ask for (more is answered 403)", min=1),
    ] = ApiParameters.max_page_limit,
) -> None:
    """Serve the structures, their T_c labels, literature values and the models' predictions,
    and the literature references, as an OPTIMADE v1 API (/v1/info, /v1/structures,
    /v1/references …) that any OPTIMADE client can query with filters. The database is read
    once, read-only, at the start and not held afterwards; restart to serve what was stored
    since. Stops with Ctrl-C."""
    from tcdb.api.catalogue import load_catalogue
    from tcdb.api.server import LOOPBACK, bound_socket, serve

    if not math.isfinite(timeout) or timeout < 0:
        raise typer.BadParameter(
            f"{timeout:g} is not a number of seconds (0 or more; 0 for no limit).",
            param_hint="'--timeout'",
        )
    parameters = ApiParameters(
        page_limit=min(ApiParameters.page_limit, max_page_limit),  # the default page fits
        max_page_limit=max_page_limit,
        query_timeout_s=timeout,
    )
    settings = settings_of(ctx)
    sock = bound_socket(host, port)  # a port in use is said before the database is read
    try:
        catalogue = load_catalogue(settings.db)
    except BaseException:
        sock.close()
        raise
    if host not in LOOPBACK:
        log.warning("listening on %s: other machines can reach the API", host)

    def ready(url: str) -> None:
        typer.echo(
            f"serving {catalogue.structures.count} structures and "
            f"{catalogue.references.count} references of {settings.db} at {url}/v1 "
            "(Ctrl-C to stop)"
        )

    try:
        serve(catalogue, sock, parameters, on_ready=ready)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a server is stopped
    finally:
        catalogue.close()
    typer.echo("stopped")
