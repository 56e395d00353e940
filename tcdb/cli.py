"""The ``tcdb`` command: one entry point whose groups mirror the layers of the platform.

Heavy libraries (SQLAlchemy, Alembic, pymatgen, TensorFlow) are imported inside the commands
that need them, so ``tcdb --help`` starts quickly.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from tcdb.errors import TcdbError
from tcdb.settings import Settings, environment_settings

log = logging.getLogger("tcdb")

app = typer.Typer(
    name="tcdb",
    help="Superconductor data and machine learning on an embedded DuckDB database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


ingest_app = typer.Typer(
    help="Load the sources (SuperCon, Materials Project, literature) into the database.",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.find_root().obj


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
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (env TCDB_LOG_LEVEL).")
    ] = None,
) -> None:
    """Command-line flags override the environment (TCDB_DB, TCDB_SOURCES, MP_API_KEY)."""
    overrides = {
        k: v for k, v in {"db": db, "sources": sources, "log_level": log_level}.items() if v
    }
    settings = environment_settings().model_copy(update=overrides)
    ctx.obj = settings
    from tcdb.logs import configure

    configure(settings.log_level)


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Show the settings in effect (the API key only as set / not set)."""
    for name, value in settings_of(ctx).describe().items():
        typer.echo(f"{name:<11} {value}")


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create the database if needed and apply pending migrations (backing the file up first)."""
    from schema import migrate

    path = settings_of(ctx).db
    before = migrate.status(path)
    if before.exists and not before.pending and revision == "head":
        typer.echo(f"{path} is at revision {before.current} (head); nothing to do.")
        return
    migrate.upgrade(path, revision)
    after = migrate.status(path)
    typer.echo(f"{path} upgraded from {before.current or 'base (empty)'} to {after.current}.")


@db_app.command("downgrade", context_settings={"ignore_unknown_options": True})
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Allow going to base, which drops tables holding rows.")
    ] = False,
) -> None:
    """Revert migrations down to REVISION (the file is backed up first)."""
    from schema import migrate

    path = settings_of(ctx).db
    before = migrate.status(path)
    rows = sum(before.row_counts.values())
    if revision == "base" and rows and not yes:
        raise TcdbError(
            f"Downgrading {path} to base drops every table and their {rows:,} rows; "
            f"add --yes to do it anyway (a copy is kept in {migrate.backup_path(path)})."
        )
    migrate.downgrade(path, revision)
    after = migrate.status(path)
    typer.echo(f"{path} downgraded from {before.current} to {after.current or 'base'}.")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Current revision, pending migrations and the row count of every table."""
    from schema import migrate

    status = migrate.status(settings_of(ctx).db)
    typer.echo(f"database  {status.path}{'' if status.exists else ' (does not exist yet)'}")
    typer.echo(f"revision  {status.current or 'none'} (head {status.head})")
    if status.pending:
        typer.echo(f"pending   {len(status.pending)} migration(s):")
        for rev in status.pending:
            typer.echo(f"  {rev.revision}  {rev.message}")
    else:
        typer.echo("pending   none")
    if status.row_counts:
        typer.echo("tables")
        width = max(len(name) for name in status.row_counts)
        for name, count in status.row_counts.items():
            typer.echo(f"  {name:<{width}}  {count:>9,}")
    if status.views:
        typer.echo(f"views     {', '.join(status.views)}")


@db_app.command("check")
def db_check(ctx: typer.Context) -> None:
    """Check that the schema matches the models and that keys and references hold."""
    from schema import integrity, migrate
    from schema.database import connect

    path = settings_of(ctx).db
    problems = [f"schema drift: {diff}" for diff in migrate.drift(path)]
    conn = connect(path, read_only=True)
    try:
        problems += [str(v) for v in integrity.find_violations(conn)]
    finally:
        conn.close()
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: schema matches the models; keys unique and references resolve.")


def _ingest(ctx: typer.Context, group: str, force: bool, report: bool) -> None:
    from ingest.pipeline import ingest
    from ingest.report import format_reports, latest_reports
    from schema.database import connect
    from schema.migrate import require_head

    settings = settings_of(ctx)
    require_head(settings.db)
    key = settings.mp_api_key.get_secret_value() if settings.mp_api_key else None
    conn = connect(settings.db)
    try:
        outcomes = ingest(conn, group, settings.sources, force=force, mp_api_key=key)
        for outcome in outcomes:
            typer.echo(f"{outcome.source_id:<22} {outcome.message}")
        if report:
            typer.echo("")
            typer.echo(format_reports(latest_reports(conn)))
    finally:
        conn.close()


ForceOption = Annotated[
    bool, typer.Option("--force", help="Ingest again even if the file is unchanged.")
]
ReportOption = Annotated[
    bool,
    typer.Option("--report", help="Print counts per source and rejection reasons afterwards."),
]


@ingest_app.command("supercon")
def ingest_supercon(ctx: typer.Context, force: ForceOption = False, report: ReportOption = False):
    """The NIMS SuperCon export and Stanev et al.'s cleaned table."""
    _ingest(ctx, "supercon", force, report)


@ingest_app.command("materials-project")
def ingest_materials_project(
    ctx: typer.Context, force: ForceOption = False, report: ReportOption = False
):
    """Materials Project structures: live through mp-api when MP_API_KEY is set and the
    network answers, otherwise the offline mirror."""
    _ingest(ctx, "materials-project", force, report)


@ingest_app.command("literature")
def ingest_literature(ctx: typer.Context, force: ForceOption = False, report: ReportOption = False):
    """Literature hydrides and the CIFs of literature/structures."""
    _ingest(ctx, "literature", force, report)


@ingest_app.command("all")
def ingest_all(ctx: typer.Context, force: ForceOption = False, report: ReportOption = False):
    """Every source, in an order that lets links resolve."""
    _ingest(ctx, "all", force, report)


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


if __name__ == "__main__":
    main()
