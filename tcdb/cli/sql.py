"""``tcdb sql``: one statement typed by a user, read-only unless ``--write``.

Read-only is enforced by DuckDB, not by trust: see ``schema.sql_access``. With ``--write`` a
statement that can remove, replace or change data asks first on a terminal, and is refused
without one unless ``--yes`` is given. Every statement runs under a time limit
(``TCDB_SQL_TIMEOUT``, ``--timeout``), since a running query keeps every writer out of the file.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import settings_of
from tcdb.core.errors import TcdbError


def _confirmed(kind: str, db: Path, yes: bool) -> None:
    """Ask before a statement that can destroy or change data; refuse when nobody can be
    asked. ``kind`` names what makes it so, e.g. DELETE or CREATE OR REPLACE."""
    from tcdb.schema.sql_access import SqlRefused

    if yes:
        return
    if not sys.stdin.isatty():
        raise SqlRefused(
            f"The {kind} statement can remove or overwrite data in {db} and there is no terminal "
            "to confirm it; nothing was run, add --yes to run it anyway."
        )
    if not typer.confirm(f"This {kind} statement can remove or overwrite data in {db}. Run it?"):
        raise SqlRefused(f"The {kind} statement was not confirmed; nothing was run.")


def sql(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help="One SQL statement, e.g. SELECT * FROM ...", show_default=False)
    ],
    output: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Open the database for writing, with DuckDB's full power (files, ATTACH, "
            "extensions); default read-only",
        ),
    ] = False,
    read_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--read-files",
            metavar="DIR",
            help="Let a read-only query read files under DIR (e.g. read_csv); repeatable",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="With --write: run a DROP, DELETE, UPDATE, … without asking"),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Cancel the statement after this many seconds, 0 for no limit "
            "(default: TCDB_SQL_TIMEOUT, else 60)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run one SQL statement on the database and print the result. Read-only by default: one
    SELECT (or EXPLAIN), which cannot write, attach other databases, load extensions or read
    files (except under --read-files DIR). With --write, statements that can remove, replace or
    change data ask for confirmation (--yes skips it; without a terminal they need it). A
    statement still running after --timeout seconds is cancelled whole, as is one stopped with
    Ctrl-C (exit status 130)."""
    from tcdb.schema import sql_access
    from tcdb.schema.database import connect

    if output not in ("table", "csv", "json"):
        raise TcdbError(f"Unknown format {output!r}; use table, csv or json.")
    if write and read_files:
        raise TcdbError("--read-files limits read-only queries; with --write every file is open.")
    settings = settings_of(ctx)
    limit = _time_limit(timeout, settings.sql_timeout)
    db = settings.db
    with connect(db) if write else sql_access.open_read_only(db, read_files) as conn:
        checked = sql_access.one_statement(conn, query)
        if write and checked.destructive:
            _confirmed(checked.overwrite, db, yes)
        elif not write:
            sql_access.require_read_only(conn, checked)
        frame = sql_access.run(conn, checked, limit)
    _print(frame, output)


def _time_limit(flag: float | None, setting: float) -> float:
    """The statement's time limit in seconds: --timeout, else the TCDB_SQL_TIMEOUT setting."""
    if flag is None:
        return setting
    if not math.isfinite(flag) or flag < 0:
        raise typer.BadParameter(
            f"{flag:g} is not a number of seconds (0 or more; 0 for no limit).",
            param_hint="'--timeout'",
        )
    return flag


def _print(frame, output: str) -> None:
    if frame is None:
        typer.echo("done.")
    elif output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
    elif output == "json":
        typer.echo(frame.to_json(orient="records", date_format="iso", indent=2))
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.width", 200):
            typer.echo(frame.to_string(index=False))
