"""``tcdb report``: the papers' tables and figures beside ours, as a small site."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of
from tcdb.reports.parameters import REPORT_SERVE_PORT


def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output folder (default TCDB_REPORTS, else reports/out in this repository)"
        ),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="After building, serve the site on 127.0.0.1 until Ctrl-C"),
    ] = False,
    port: Annotated[
        int,
        typer.Option(help="Port for --serve (0: any free port)", min=0, max=65535),
    ] = REPORT_SERVE_PORT,
) -> None:
    """Rebuild the papers' tables and figures from the database and model runs, beside the
    papers' numbers: CSV, Markdown and PNG files and a small site (index.html and a page per
    topic: data and curation, hydride, structural and composition models, morphs, runs and
    snapshots) with sortable tables, interactive figures and a CIF per linked structure.
    Prints where the site is; --serve then serves it on 127.0.0.1."""
    from tcdb.core.output_paths import protected_paths
    from tcdb.reports.build import build_report
    from tcdb.reports.structure_files import FOLDER as STRUCTURES

    settings = settings_of(ctx)
    folder = out or settings.reports
    protected = protected_paths(settings)  # checked before any work: a refusal costs nothing
    protected.check_folder(folder / STRUCTURES)  # the CIFs the site links to
    folder = protected.check_folder(folder)
    outcome = build_report(database(ctx), settings.sources / "reference", folder)
    typer.echo(
        f"{len(outcome.tables)} tables, {len(outcome.figures)} figures and "
        f"{len(outcome.interactive)} interactive figures on {len(outcome.pages)} pages"
    )
    for name, why in outcome.missing.items():
        typer.echo(f"not in the report: {name}: {why}")
    typer.echo(f"site: {outcome.index.resolve()}")
    if serve:
        _serve(outcome.out_dir, port)


def _serve(folder: Path, port: int) -> None:
    from tcdb.reports.serve import site_server, url_of

    server = site_server(folder, port)
    typer.echo(f"serving {folder} at {url_of(server)} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()
