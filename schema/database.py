"""Opening the DuckDB database: engines, native connections and clear errors.

DuckDB allows one writing process per file, and a reading process excludes writers too. So
long commands never hold a connection while they compute: they carry a ``Database`` (a path)
and open it with ``reading()`` or ``writing()`` only around the moments they read their inputs
or write their results. A process that finds the file locked retries for a few seconds
(``TCDB_LOCK_WAIT``), so short write windows do not fail readers, and then gets
``DatabaseLockedError`` with one sentence naming the file and the process holding it. A path
that is a directory, not a DuckDB file, or cannot be created gets ``DatabasePathError``: one
sentence naming the path and the reason, never a driver traceback.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

from tcdb.core.errors import (
    DatabaseError,
    DatabaseLockedError,
    DatabaseMissingError,
    DatabasePathError,
)

if TYPE_CHECKING:  # SQLAlchemy is imported only where an engine is made (it is slow to load)
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

_LOCK_PATTERN = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)
_PID_PATTERN = re.compile(r"\(PID (\d+)\)")
# Driver messages about the path itself, and the reason each gives the user.
_PATH_PROBLEMS = (
    (re.compile(r"is a directory", re.IGNORECASE), "it is a directory, not a DuckDB file"),
    (re.compile(r"not a valid DuckDB database file", re.IGNORECASE), "it is not a DuckDB file"),
    (re.compile(r"permission denied", re.IGNORECASE), "permission denied"),
    (re.compile(r"read-only file system", re.IGNORECASE), "the file system is read-only"),
    (re.compile(r"not a directory", re.IGNORECASE), "a part of the path is not a folder"),
    (re.compile(r"Cannot open file|No such file or directory", re.IGNORECASE),
     "the file cannot be opened or created there"),
)  # fmt: skip
# The first bytes of every DuckDB file: 8 bytes of checksum, then the magic "DUCK".
_MAGIC, _MAGIC_OFFSET = b"DUCK", 8

T = TypeVar("T")


def database_url(path: Path) -> str:
    return f"duckdb:///{Path(path).resolve()}"


def _path_error(path: Path, reason: str) -> DatabasePathError:
    return DatabasePathError(
        f"The database {path} cannot be used: {reason}; give a DuckDB file with --db or TCDB_DB."
    )


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
    for pattern, reason in _PATH_PROBLEMS:
        if pattern.search(message):
            return _path_error(path, reason)
    return None


def check_path(path: Path, *, read_only: bool) -> None:
    """Refuse a path that cannot hold the database, before the driver fails on it: a folder, a
    file that is not DuckDB's, a missing file for a reader, a folder that cannot be made."""
    path = Path(path)
    if path.is_dir():
        raise _path_error(path, "it is a directory, not a DuckDB file")
    if path.is_file():
        try:
            with path.open("rb") as handle:
                head = handle.read(_MAGIC_OFFSET + len(_MAGIC))
        except OSError as exc:
            raise _path_error(path, exc.strerror or str(exc)) from None
        if head[_MAGIC_OFFSET:] != _MAGIC:  # DuckDB refuses an empty file too
            raise _path_error(path, "it is not a DuckDB file")
        return
    if read_only:
        raise DatabaseMissingError(
            f"There is no database at {path}; create it with 'tcdb db upgrade'."
        )
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise _path_error(path, f"{blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _path_error(path, f"its folder cannot be created ({exc.strerror or exc})") from None


def lock_wait() -> float:
    """Seconds to retry a locked file (the TCDB_LOCK_WAIT setting)."""
    from tcdb.core.settings import environment_settings

    return environment_settings().lock_wait


def _retrying(open_once: Callable[[], T], path: Path, wait: float | None) -> T:
    """Call ``open_once`` until it stops failing on a held lock or ``wait`` seconds pass; any
    failure comes out translated to one sentence when we know it."""
    deadline = time.monotonic() + (lock_wait() if wait is None else wait)
    delay = 0.05
    while True:
        try:
            return open_once()
        except duckdb.Error as exc:
            translated = translate_error(exc, path)
            remaining = deadline - time.monotonic()
            if isinstance(translated, DatabaseLockedError) and remaining > 0:
                log.debug("%s is locked; retrying for %.1f s more", path, remaining)
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, 0.5)
                continue
            if translated is not None:
                raise translated from None
            raise


def connect(
    path: Path, *, read_only: bool = False, wait: float | None = None, config: dict | None = None
) -> duckdb.DuckDBPyConnection:
    """A native DuckDB connection (for bulk loads and SQL); a locked file is retried for
    ``wait`` seconds (default TCDB_LOCK_WAIT) and errors come out as one sentence."""
    path = Path(path)
    check_path(path, read_only=read_only)
    return _retrying(
        lambda: duckdb.connect(str(path), read_only=read_only, config=config or {}), path, wait
    )


def make_engine(path: Path, *, read_only: bool = False, wait: float | None = None) -> Engine:
    """A SQLAlchemy engine on the file; the first connection is opened here so that a lock
    or an unusable path is reported at once."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    path = Path(path)
    check_path(path, read_only=read_only)
    engine = create_engine(
        database_url(path),
        connect_args={"read_only": read_only},
    )

    def first_connection() -> None:
        try:
            with engine.connect():
                pass
        except DBAPIError as exc:
            engine.dispose()
            if isinstance(exc.orig, duckdb.Error):
                raise exc.orig from None
            raise

    _retrying(first_connection, path, wait)
    return engine


@contextmanager
def open_engine(path: Path, *, read_only: bool = False) -> Iterator[Engine]:
    """An engine that is disposed (releasing the file lock) when the block ends."""
    engine = make_engine(path, read_only=read_only)
    try:
        yield engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Database:
    """A database file that long commands carry instead of an open connection, so that the
    lock is held only while they read inputs or write results, never while they compute."""

    path: Path

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, closed (and the file released) when the block ends."""
        conn = connect(self.path, read_only=True)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def writing(self, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection, closed (and the lock released) when the block ends; a held lock
        is retried for ``wait`` seconds (default TCDB_LOCK_WAIT)."""
        conn = connect(self.path, wait=wait)
        try:
            yield conn
        finally:
            conn.close()


# What the functions that read or write results accept: a Database they open briefly, or a
# connection the caller already holds (and keeps; tests and bulk jobs pass one).
Target = Database | duckdb.DuckDBPyConnection


@contextmanager
def reading(target: Target) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to read from ``target``: opened read-only and closed for a Database, the
    caller's own connection otherwise."""
    if isinstance(target, Database):
        with target.reading() as conn:
            yield conn
    else:
        yield target


@contextmanager
def writing(target: Target) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to write to ``target``: opened and closed for a Database, the caller's
    own connection otherwise."""
    if isinstance(target, Database):
        with target.writing() as conn:
            yield conn
    else:
        yield target


def results_lock_wait() -> float:
    """Seconds results of a long computation wait for the write lock (TCDB_RESULTS_LOCK_WAIT)."""
    from tcdb.core.settings import environment_settings

    return environment_settings().results_lock_wait


@contextmanager
def storing(target: Target, what: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """One write transaction for the results of a long computation (a training, a screening):
    they land whole or not at all. A held lock is waited for longer than usual
    (TCDB_RESULTS_LOCK_WAIT), since giving up throws the computed work away; if it is still
    held, the error says what was not stored."""
    with ExitStack() as stack:
        if isinstance(target, Database):
            try:
                conn = stack.enter_context(target.writing(wait=results_lock_wait()))
            except DatabaseLockedError as exc:
                raise DatabaseLockedError(f"{exc} The results of {what} were not stored.") from None
        else:
            conn = target
        conn.begin()
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


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
