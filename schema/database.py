"""Opening the DuckDB database: engines, native connections and clear errors when it is locked.

DuckDB allows one writing process per file. Readers open the file read-only; a process that
finds the file locked gets ``DatabaseLockedError`` with one sentence naming the file and the
process holding it, never a driver traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from tcdb.errors import DatabaseError, DatabaseLockedError, DatabaseMissingError

if TYPE_CHECKING:  # SQLAlchemy is imported only where an engine is made (it is slow to load)
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

_LOCK_PATTERN = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)
_PID_PATTERN = re.compile(r"\(PID (\d+)\)")


def database_url(path: Path) -> str:
    return f"duckdb:///{Path(path).resolve()}"


def translate_error(exc: BaseException, path: Path) -> DatabaseError | None:
    """The user-facing error for a driver exception, or None when it is not one we know."""
    message = str(exc)
    if _LOCK_PATTERN.search(message):
        pid = _PID_PATTERN.search(message)
        holder = f"another process (PID {pid.group(1)})" if pid else "another process"
        return DatabaseLockedError(
            f"The database {path} is in use by {holder}; wait for it to finish, "
            f"or give another file with --db or TCDB_DB."
        )
    if "database does not exist" in message.lower() or (
        "cannot open database" in message.lower() and "read-only" in message.lower()
    ):
        return DatabaseMissingError(
            f"There is no database at {path}; create it with 'tcdb db upgrade'."
        )
    return None


def _check_readable(path: Path, read_only: bool) -> None:
    if read_only and not Path(path).exists():
        raise DatabaseMissingError(
            f"There is no database at {path}; create it with 'tcdb db upgrade'."
        )


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A native DuckDB connection (for bulk loads and SQL), with lock errors translated."""
    path = Path(path)
    _check_readable(path, read_only)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        translated = translate_error(exc, path)
        if translated is not None:
            raise translated from exc
        raise


def make_engine(path: Path, *, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine on the file; the first connection is opened here so that a lock
    or a missing file is reported at once."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    path = Path(path)
    _check_readable(path, read_only)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        database_url(path),
        connect_args={"read_only": read_only},
    )
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        translated = translate_error(exc.orig or exc, path)
        if translated is not None:
            raise translated from None
        raise
    return engine


@contextmanager
def open_engine(path: Path, *, read_only: bool = False) -> Iterator[Engine]:
    """An engine that is disposed (releasing the file lock) when the block ends."""
    engine = make_engine(path, read_only=read_only)
    try:
        yield engine
    finally:
        engine.dispose()


def native(connection) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection under a SQLAlchemy connection, for Arrow/DataFrame bulk work."""
    return connection.connection.driver_connection


def insert_new_rows(conn: duckdb.DuckDBPyConnection, table: str, rows) -> int:
    """Bulk-insert an Arrow table into ``table``; rows whose ``id`` is already there are kept
    as they are (so writing the same rows twice adds nothing). Returns the rows offered."""
    if rows.num_rows == 0:
        return 0
    columns = ", ".join(f'"{c}"' for c in rows.column_names)
    conn.register("incoming_rows", rows)
    try:
        conn.execute(
            f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM incoming_rows '
            "ON CONFLICT (id) DO NOTHING"
        )
    finally:
        conn.unregister("incoming_rows")
    return rows.num_rows
