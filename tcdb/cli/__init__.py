"""The ``tcdb`` command: one entry point whose groups mirror the layers of the platform.

This package is the top floor: the only place that wires the layers together. Each command
group lives in its own module (``tcdb/cli/db.py``, ``ingest.py``, ``curate.py`` …); this module
assembles them under one root with the global options.

Heavy libraries (SQLAlchemy, Alembic, pymatgen, TensorFlow) are imported inside the commands
that need them, so ``tcdb --help`` starts quickly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli import (
    curate,
    db,
    discovery,
    evaluate,
    ingest,
    pipeline,
    prune,
    report,
    runs,
    screen,
    serve,
    snapshot,
    sql,
    train,
)
from tcdb.cli.context import settings_of
from tcdb.core.errors import TcdbError

app = typer.Typer(
    name="tcdb",
    help="Superconductor data and machine learning on an embedded DuckDB database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(ingest.app, name="ingest")
app.add_typer(curate.app, name="curate")
app.add_typer(snapshot.app, name="snapshot")
app.command("train", no_args_is_help=True, context_settings=train.COMMAND_SETTINGS)(train.train)
app.add_typer(screen.app, name="screen")
app.add_typer(
    discovery.predict_app,
    name="predict",
    short_help="Predict T_c of structure files (default) or of hydrides EH_n with a trained run.",
)
app.add_typer(discovery.morph_app, name="morph")
app.command(
    "evaluate",
    no_args_is_help=True,
    short_help="Score a structure-model run on labelled structures: r², RMSE, MAE per T_c band.",
)(evaluate.evaluate)
app.command("sql", short_help="Run one SQL statement; read-only unless --write.")(sql.sql)
app.command(
    "report", short_help="Rebuild the papers' tables and figures beside ours (reports/out)."
)(report.report)
app.command("prune", short_help="Remove failed and old model runs and unused feature caches.")(
    prune.prune
)
app.command("serve", short_help="Serve structures, T_c labels and predictions as an OPTIMADE API.")(
    serve.serve
)
app.add_typer(runs.app, name="runs")
app.command(
    "pipeline",
    short_help="The main job (make run), step by step, with a table of times and figures.",
)(pipeline.pipeline)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None, typer.Option(help="DuckDB database file (env TCDB_DB).", show_default=False)
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(help="Folder of the raw source files (env TCDB_SOURCES).", show_default=False),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            help="DEBUG, INFO, WARNING or ERROR (env TCDB_LOG_LEVEL); only DEBUG shows what "
            "TensorFlow, absl and CUDA say when TensorFlow loads."
        ),
    ] = None,
) -> None:
    """Command-line flags override the environment (TCDB_DB, TCDB_SOURCES, MP_API_KEY)."""
    # the flags; tcdb.cli.context.settings_of puts them over the environment's settings when a
    # command first asks, so that a --help never loads pydantic-settings
    ctx.obj = {k: v for k, v in {"db": db, "sources": sources, "log_level": log_level}.items() if v}
    from tcdb.core.logs import configure

    configure(log_level or os.environ.get("TCDB_LOG_LEVEL") or "INFO")


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Show the settings in effect (the API key only as set / not set)."""
    for name, value in settings_of(ctx).describe().items():
        typer.echo(f"{name:<11} {value}")


def run_command(args: list[str]) -> int:
    """One command in this process, as the command line runs it: its exit status, a refusal
    printed as one sentence (``tcdb pipeline`` runs its steps so). An interrupt goes on to the
    caller."""
    try:
        app(args=args, prog_name="tcdb")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        typer.echo(exc.code, err=True)
        return 1
    except TcdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    return 0


def main() -> None:
    """Entry point: user errors become one sentence on stderr, never a traceback."""
    try:
        app()  # handles usage errors, --help and exit codes itself
    except TcdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
