"""Errors a user can act on: each carries one sentence saying what and where."""

from __future__ import annotations


class TcdbError(Exception):
    """Base of the errors the command line reports as one sentence, without a traceback."""

    exit_code = 1


class DatabaseError(TcdbError):
    """The database file cannot be used as asked."""


class DatabaseLockedError(DatabaseError):
    """Another process holds the write lock of the database file."""

    exit_code = 3


class DatabaseMissingError(DatabaseError):
    """A read-only command was pointed at a database file that does not exist."""


class DatabasePathError(DatabaseError):
    """The database path is a directory, not a DuckDB file, or cannot be opened or created."""


class DataLossError(DatabaseError):
    """A migration would delete rows or values and was not allowed to; nothing was changed."""


class MigrationError(DatabaseError):
    """A migration failed; the database was restored from its backup."""


class OutputPathError(TcdbError):
    """A file or folder named for output would overwrite the database, a file beside it, or a
    folder tcdb keeps, or cannot be written; nothing was written."""
