"""SQL typed by a user (``tcdb sql``): what a read-only query may touch, and which statements
a write must confirm.

A read-only query is one statement of an allowed kind (a SELECT, or EXPLAIN of one), run on a
read-only connection where DuckDB itself forbids files, network, ATTACH and extensions
(``enable_external_access`` off, no extension autoloading, the configuration locked so the
query cannot switch them back). Reading local files is allowed only under folders the user
names, and never writing: COPY and EXPORT are not an allowed kind. Checks go through DuckDB's
own parser (``extract_statements``), never through pattern matching of the text alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.errors import TcdbError
from schema.database import connect

ST = duckdb.StatementType
# Statements a write may run without asking: they add, but cannot remove or overwrite.
ADDING_KINDS = frozenset({ST.SELECT, ST.EXPLAIN, ST.INSERT, ST.CREATE})
_OR_REPLACE = re.compile(r"\bOR\s+REPLACE\b", re.IGNORECASE)
_EXPLAIN_PREFIX = re.compile(r"^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?:\([^)]*\)\s*)?", re.IGNORECASE)
# DuckDB settings of a read-only query's connection, set before the database starts.
_STARTUP = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,  # no scanning of the command's own Python variables
}


class SqlRefused(TcdbError):
    """A statement ``tcdb sql`` will not run as asked; nothing was executed."""


class SqlFailed(TcdbError):
    """DuckDB rejected or failed the statement."""


@dataclass(frozen=True)
class Checked:
    """The one statement to run, as DuckDB parsed it."""

    statement: duckdb.Statement
    kind: str  # e.g. SELECT, DELETE

    @property
    def destructive(self) -> bool:
        """Whether it can remove or overwrite data (DROP, DELETE, UPDATE, ALTER, COPY, ATTACH,
        CREATE OR REPLACE, …): anything but a plain SELECT, INSERT or CREATE."""
        return (
            self.statement.type not in ADDING_KINDS
            or _OR_REPLACE.search(self.statement.query) is not None
        )


def _failure(exc: duckdb.Error) -> SqlFailed:
    return SqlFailed(f"SQL failed: {str(exc).splitlines()[0]}")


def one_statement(conn: duckdb.DuckDBPyConnection, query: str) -> Checked:
    """The single statement in ``query``; several (or none) are refused before any runs."""
    try:
        statements = conn.extract_statements(query)
    except duckdb.Error as exc:
        raise _failure(exc) from None
    if len(statements) != 1:
        raise SqlRefused(
            f"tcdb sql runs exactly one statement and this text holds {len(statements)}; "
            "nothing was run, give them one at a time."
        )
    statement = statements[0]
    return Checked(statement, statement.type.name)


def _explained(conn: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> duckdb.Statement:
    """The statement an EXPLAIN wraps (EXPLAIN ANALYZE runs it)."""
    inner = _EXPLAIN_PREFIX.sub("", statement.query, count=1)
    try:
        statements = conn.extract_statements(inner)
    except duckdb.Error as exc:
        raise _failure(exc) from None
    if len(statements) != 1:
        raise SqlRefused("Only EXPLAIN of one SELECT can run read-only; nothing was run.")
    return statements[0]


def _kind_name(statement: duckdb.Statement) -> str:
    """The statement's kind as the user wrote it (DuckDB files INSTALL under LOAD)."""
    first = statement.query.split(maxsplit=1)[:1]
    if statement.type == ST.LOAD and first and first[0].upper() in ("INSTALL", "FORCE"):
        return "INSTALL"
    return statement.type.name


def require_read_only(conn: duckdb.DuckDBPyConnection, checked: Checked) -> None:
    """Refuse anything but a SELECT (or EXPLAIN of one) on a read-only query."""
    statement = checked.statement
    if statement.type == ST.EXPLAIN:
        statement = _explained(conn, statement)
    if statement.type != ST.SELECT:
        raise SqlRefused(
            f"{_kind_name(statement)} statements are not allowed read-only (only SELECT and "
            "EXPLAIN); nothing was run, add --write to change the database."
        )


def _sql_list(folders: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in folders) + "]"


def readable_folder(folder: Path) -> str:
    """A folder given to --read-files, resolved, as the prefix DuckDB matches (trailing /)."""
    resolved = Path(folder).expanduser().resolve()
    if not resolved.is_dir():
        raise SqlRefused(f"--read-files {folder}: there is no folder there.")
    return str(resolved).rstrip("/") + "/"


def open_read_only(path: Path, read_files: list[Path] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot reach files (except under ``read_files``, for
    reading), the network, other databases or extensions, and cannot be reconfigured."""
    folders = [readable_folder(f) for f in read_files or []]
    conn = connect(path, read_only=True, config=dict(_STARTUP))
    try:
        if folders:
            temp = conn.execute("SELECT current_setting('temp_directory')").fetchone()[0]
            keep = [str(temp).rstrip("/") + "/"] if temp else []
            conn.execute(f"SET allowed_directories = {_sql_list(folders + keep)}")
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


def run(conn: duckdb.DuckDBPyConnection, checked: Checked):
    """Execute the checked statement: a DataFrame when it returns rows, else None."""
    try:
        result = conn.execute(checked.statement)
        return result.df() if result.description else None
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if "read-only" in message.lower():
            message += " (add --write to change the database)"
        elif "disabled by configuration" in message.lower():
            message += " (a read-only query reads files only under --read-files DIR)"
        raise SqlFailed(f"SQL failed: {message}") from None
