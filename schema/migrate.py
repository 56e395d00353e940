"""Creating and migrating the database file: upgrade, downgrade, status and drift.

A migration of an existing file never loses data silently:

- it is first tried on a copy of the file (a dry run), and the copy is compared with the file:
  tables gone or with fewer rows, columns gone or with fewer non-null values. Such a loss is
  refused (``DataLossError``, naming every table and column with its count) unless the caller
  allows it (``tcdb db upgrade/downgrade --yes``). The comparison is generic: it needs nothing
  from the revision files, so a new migration is covered without changes here;
- DuckDB's DDL through Alembic cannot be rolled back as a whole, so the file is then copied to
  a timestamped backup (``<file>.backup-YYYYmmddTHHMMSSZ``, never overwritten; the newest
  ``KEEP_BACKUPS`` are kept) and a failed migration restores that very copy and says so.
- The trial copy lives in a hidden folder beside the file named after the migrating process
  (``.<file>.trial-<pid>-<random>``), and a backup is copied under such a name
  (``.<file>.backup-partial-<pid>-…``) before it is renamed into place. A migration killed with
  ``kill -9`` leaves them behind (as large as the database); the next migration of the file
  removes every one whose process has ended, and ``status`` lists them (``core.leftovers``).
  Folders of the earlier name ``.<file>.dry-run-<random>`` record no process and are removed
  too.

Alembic is imported only by the commands that migrate; ``status`` reads the revision files
directly (``schema.revisions``) so that it answers quickly.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tcdb.core.errors import DatabaseError, DataLossError, MigrationError
from tcdb.core.leftovers import Temporary, owned_prefix, remove_leftovers, temporaries
from tcdb.schema import revisions
from tcdb.schema.database import connect, database_url, open_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

KEEP_BACKUPS = 5
"""How many timestamped backups of a database file migrations keep (the newest ones)."""

BACKUP_STAMP = "%Y%m%dT%H%M%SZ"
_BACKUP_SUFFIX = re.compile(r"\.backup-(\d{8}T\d{6}Z)(?:-(\d+))?$")


@dataclass
class DatabaseStatus:
    path: Path
    exists: bool
    current: str | None
    head: str
    pending: list[revisions.Revision] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)  # oldest first
    trial_copies: list[Temporary] = field(default_factory=list)  # beside the file


def _current_revision(conn) -> str | None:
    tables = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "alembic_version" not in tables:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _pending(path: Path, current: str | None) -> list[revisions.Revision]:
    try:
        return revisions.pending(current)
    except ValueError as exc:
        raise DatabaseError(f"{path}: {exc}; update the code or use another database.") from None


def status(path: Path) -> DatabaseStatus:
    """Revision, pending migrations and row counts, read without taking the write lock."""
    path = Path(path)
    head = revisions.head()
    if not path.exists():
        return DatabaseStatus(
            path, False, None, head, _pending(path, None), backups=backups(path),
            trial_copies=trial_copies(path),
        )  # fmt: skip
    conn = connect(path, read_only=True)
    try:
        current = _current_revision(conn)
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name <> 'alembic_version' "
                "ORDER BY table_name"
            ).fetchall()
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        views = [
            r[0]
            for r in conn.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name"
            ).fetchall()
        ]
    finally:
        conn.close()
    return DatabaseStatus(
        path, True, current, head, _pending(path, current), counts, views, backups(path),
        trial_copies(path),
    )  # fmt: skip


def require_head(path: Path) -> None:
    """Refuse to work on a database that is missing or not migrated to this code's head."""
    current = status(path)
    if not current.exists:
        raise DatabaseError(f"There is no database at {path}; create it with 'tcdb db upgrade'.")
    if current.pending:
        raise DatabaseError(
            f"The database {path} is at revision {current.current or 'base'} but this code needs "
            f"{current.head}; run 'tcdb db upgrade' first."
        )


def alembic_config(path: Path):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url(path))
    return config


def drift(path: Path) -> list:
    """What autogenerate would change to make the database match the models (empty = none)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import tcdb.schema.models  # noqa: F401  (registers the tables)
    from tcdb.schema.alembic_support import MIGRATION_OPTIONS

    with open_engine(path, read_only=True) as engine, engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=dict(MIGRATION_OPTIONS))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*reflection on indices.*")
            return compare_metadata(context, SQLModel.metadata)


# ------------------------------------------------------------------------------ backups


def backups(path: Path) -> list[Path]:
    """The timestamped backups of ``path`` that migrations made, oldest first."""
    path = Path(path)
    found = []
    for candidate in path.parent.glob(f"{glob.escape(path.name)}.backup-*"):
        match = _BACKUP_SUFFIX.search(candidate.name)
        if match and candidate.name[: match.start()] == path.name:
            found.append(((match.group(1), int(match.group(2) or 0)), candidate))
    return [candidate for _, candidate in sorted(found)]


def _backup(path: Path, keep: int) -> Path:
    """Copy the file to a new timestamped backup, then drop all but the newest ``keep``."""
    stamp = datetime.now(UTC).strftime(BACKUP_STAMP)
    stem = f"{path.name}.backup-{stamp}"
    # Migrations in the same second count on from the highest number of that second still on
    # disk, so a name freed by pruning is never reused and the names stay in time order.
    same_second = [
        int(m.group(2) or 1)
        for b in backups(path)
        if (m := _BACKUP_SUFFIX.search(b.name)) and m.group(1) == stamp
    ]
    n = max(same_second, default=0) + 1
    target = path.with_name(stem if n == 1 else f"{stem}-{n}")
    while target.exists():  # never overwrite, whatever else is in the folder
        n += 1
        target = path.with_name(f"{stem}-{n}")
    # Copied under a name of this process first, so a kill mid-copy leaves no truncated file
    # that looks like a backup; the next migration removes the partial copy.
    partial = path.with_name(owned_prefix(_trial_prefixes(path)[2]) + stamp)
    shutil.copy2(path, partial)
    os.replace(partial, target)
    log.info("Backed up %s to %s before migrating", path, target)
    for old in backups(path)[: -max(1, keep)]:
        old.unlink(missing_ok=True)
        log.info("Removed the old backup %s (keeping the newest %d)", old, keep)
    return target


def _restore(path: Path, backup: Path | None) -> None:
    if backup is None:
        path.unlink(missing_ok=True)
    else:
        shutil.copy2(backup, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


# ------------------------------------------------------------------------------ trial copies


def _trial_prefixes(path: Path) -> tuple[str, str, str]:
    """Name prefixes of what a migration writes beside ``path`` for a while: the trial-copy
    folder (followed by the migrating process's pid), its earlier name that records no process,
    and a backup being copied (pid too)."""
    return f".{path.name}.trial-", f".{path.name}.dry-run-", f".{path.name}.backup-partial-"


def trial_copies(path: Path) -> list[Temporary]:
    """The trial-copy folders of migrations of ``path`` on disk: a running migration's, or
    what a killed one left (removed by the next migration)."""
    path = Path(path)
    return [t for prefix in _trial_prefixes(path) for t in temporaries(path.parent, prefix)]


def remove_stale_trial_copies(path: Path) -> list[Temporary]:
    """Delete the trial copies whose migration's process has ended; the ones deleted."""
    path = Path(path)
    return [t for prefix in _trial_prefixes(path) for t in remove_leftovers(path.parent, prefix)]


# ------------------------------------------------------------------------------ data loss


@dataclass(frozen=True)
class Loss:
    """Data a migration would remove: a table's rows (``column`` None) or a column's values."""

    table: str
    column: str | None
    count: int

    def describe(self) -> str:
        if self.column is None:
            return f"table {self.table} ({self.count:,} row{'s' * (self.count != 1)})"
        return f"{self.table}.{self.column} ({self.count:,} value{'s' * (self.count != 1)})"


Contents = dict[str, tuple[int, dict[str, int]]]
"""Table -> (row count, column -> non-null count)."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def contents(connection) -> Contents:
    """Row and non-null counts of every table (but alembic_version) over a SQLAlchemy connection."""
    tables = connection.exec_driver_sql(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE table_name <> 'alembic_version' AND database_name = current_database() "
        "ORDER BY schema_name, table_name"
    ).fetchall()
    counts: Contents = {}
    for schema_name, table in tables:
        columns = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                (schema_name, table),
            ).fetchall()
        ]
        selected = ", ".join(["count(*)", *(f"count({_quote(c)})" for c in columns)])
        row = connection.exec_driver_sql(
            f"SELECT {selected} FROM {_quote(schema_name)}.{_quote(table)}"
        ).fetchone()
        name = table if schema_name == "main" else f"{schema_name}.{table}"
        counts[name] = (row[0], dict(zip(columns, row[1:], strict=True)))
    return counts


def losses(before: Contents, after: Contents) -> list[Loss]:
    """What is in ``before`` and no longer in ``after``: rows of a table, values of a column."""
    found = []
    for table, (rows, columns) in before.items():
        if table not in after:
            if rows:
                found.append(Loss(table, None, rows))
            continue
        rows_after, columns_after = after[table]
        if rows_after < rows:
            found.append(Loss(table, None, rows - rows_after))
            continue  # fewer rows: fewer values in its columns too
        for column, values in columns.items():
            lost = values - columns_after.get(column, 0)
            if lost > 0:
                found.append(Loss(table, column, lost))
    return found


def _dry_run(engine, path: Path, action: str, target: str) -> list[Loss]:
    """The data the migration would remove, found by running it on a copy of the file."""
    with engine.connect() as connection:
        before = contents(connection)
    prefix = owned_prefix(_trial_prefixes(path)[0])
    with tempfile.TemporaryDirectory(prefix=prefix, dir=path.parent) as folder:
        trial = Path(folder) / path.name
        shutil.copy2(path, trial)
        try:
            with open_engine(trial) as trial_engine:
                _migrate(trial_engine, trial, action, target)
                with trial_engine.connect() as connection:
                    after = contents(connection)
        except DatabaseError:
            raise
        except Exception as exc:
            raise MigrationError(
                f"Migration {action} to {target} of {path} fails on a trial copy ({exc}); "
                "the file was not changed."
            ) from exc
    return losses(before, after)


# ------------------------------------------------------------------------------ migrating


def _migrate(engine, path: Path, action: str, target: str) -> None:
    from alembic import command

    config = alembic_config(path)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)


def _run(path: Path, action: str, target: str, allow_loss: bool, keep: int) -> None:
    path = Path(path)
    existed = path.exists()
    with open_engine(path) as engine:  # takes the write lock first: a locked file fails here
        backup = None
        remove_stale_trial_copies(path)
        if existed:
            with engine.connect() as connection:
                connection.exec_driver_sql("CHECKPOINT")  # copies must hold everything
            lost = _dry_run(engine, path, action, target)
            if lost and not allow_loss:
                raise DataLossError(
                    f"Migration {action} to {target} of {path} would delete "
                    f"{', '.join(loss.describe() for loss in lost)}; nothing was changed "
                    "(add --yes to do it anyway, after a backup of the file)."
                )
            for loss in lost:
                log.warning("Migration %s to %s deletes %s", action, target, loss.describe())
            backup = _backup(path, keep)
        try:
            _migrate(engine, path, action, target)
        except DatabaseError:
            raise
        except KeyboardInterrupt:  # a half-done migration must not stay behind either
            engine.dispose()
            _restore(path, backup)
            log.warning("Migration interrupted; %s was restored from %s", path, backup)
            raise
        except Exception as exc:
            engine.dispose()
            _restore(path, backup)
            restored = f"restored from {backup}" if backup else "removed"
            raise MigrationError(
                f"Migration {action} to {target} of {path} failed ({exc}); the file was {restored}."
            ) from exc


def upgrade(
    path: Path, target: str = "head", *, allow_loss: bool = False, keep: int = KEEP_BACKUPS
) -> None:
    """Create the file if needed and apply migrations up to ``target``.

    Refuses (``DataLossError``) a step that would delete rows or values unless ``allow_loss``.
    """
    _run(path, "upgrade", target, allow_loss, keep)


def downgrade(
    path: Path, target: str, *, allow_loss: bool = False, keep: int = KEEP_BACKUPS
) -> None:
    """Revert migrations down to ``target`` (a revision id, ``-1`` or ``base``).

    Refuses (``DataLossError``) what would delete rows or values unless ``allow_loss``.
    """
    if not Path(path).exists():
        raise DatabaseError(f"There is no database at {path} to downgrade.")
    _run(path, "downgrade", target, allow_loss, keep)
