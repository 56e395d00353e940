"""``tcdb db``: create, migrate and inspect the database file."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import settings_of

app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)


YesOption = Annotated[
    bool,
    typer.Option(
        "--yes", help="Allow a migration that deletes rows or column values (they are listed)."
    ),
]


def _remove_stale_trial_copies(path) -> None:
    """Delete what killed migrations of ``path`` left, saying what (even with nothing to
    migrate: a trial copy is as large as the database)."""
    from tcdb.schema import migrate

    for trial in migrate.remove_stale_trial_copies(path):
        typer.echo(f"removed the trial copy a killed migration left: {trial.describe()}")


@app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    yes: YesOption = False,
) -> None:
    """Create the database if needed and apply pending migrations (tried on a copy first,
    refused if they would delete data unless --yes; the file is backed up first)."""
    from tcdb.schema import migrate

    path = settings_of(ctx).db
    _remove_stale_trial_copies(path)
    before = migrate.status(path)
    if before.exists and not before.pending and revision == "head":
        typer.echo(f"{path} is at revision {before.current} (head); nothing to do.")
        return
    migrate.upgrade(path, revision, allow_loss=yes)
    after = migrate.status(path)
    typer.echo(f"{path} upgraded from {before.current or 'base (empty)'} to {after.current}.")


@app.command("downgrade", context_settings={"ignore_unknown_options": True})
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base.")],
    yes: YesOption = False,
) -> None:
    """Revert migrations down to REVISION (tried on a copy first, refused if they would delete
    data unless --yes; the file is backed up first)."""
    from tcdb.schema import migrate

    path = settings_of(ctx).db
    _remove_stale_trial_copies(path)
    before = migrate.status(path)
    migrate.downgrade(path, revision, allow_loss=yes)
    after = migrate.status(path)
    typer.echo(f"{path} downgraded from {before.current} to {after.current or 'base'}.")


@app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Current revision, pending migrations, the row count of every table, the backups and any
    trial copy a killed migration left."""
    from tcdb.schema import migrate

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
    if status.backups:
        typer.echo(f"backups   {len(status.backups)}, oldest first:")
        for backup in status.backups:
            typer.echo(f"  {backup}")
    else:
        typer.echo("backups   none")
    if status.trial_copies:
        typer.echo(
            f"trial copies  {len(status.trial_copies)} (the next migration removes those whose "
            "process is gone):"
        )
        for trial in status.trial_copies:
            typer.echo(f"  {trial.describe()}")


@app.command("check")
def db_check(ctx: typer.Context) -> None:
    """Check that the schema matches the models and that keys and references hold."""
    from tcdb.schema import integrity, migrate
    from tcdb.schema.database import connect

    path = settings_of(ctx).db
    problems = [f"schema drift: {diff}" for diff in migrate.drift(path)]
    with connect(path, read_only=True) as conn:
        problems += [str(v) for v in integrity.find_violations(conn)]
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: schema matches the models; keys unique and references resolve.")
