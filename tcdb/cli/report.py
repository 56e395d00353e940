"""``tcdb report``: the papers' tables and figures beside ours."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of


def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default reports/out in this repository)"),
    ] = None,
) -> None:
    """Rebuild the papers' tables and figures from the database and model runs, beside the
    papers' numbers: CSV, Markdown and PNG files and an index.html."""
    from core.settings import project_root
    from reports.build import build_report

    settings = settings_of(ctx)
    folder = out or project_root() / "reports" / "out"
    outcome = build_report(database(ctx), settings.sources / "reference", folder)
    typer.echo(f"{len(outcome.tables)} tables and {len(outcome.figures)} figures in {folder}")
    for name, why in outcome.missing.items():
        typer.echo(f"not in the report: {name}: {why}")
    typer.echo(f"open {outcome.index}")
