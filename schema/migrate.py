"""Creating and migrating the database file: upgrade, downgrade, status and drift.

DuckDB's DDL through Alembic cannot be rolled back as a whole, so every upgrade or downgrade
of an existing file first copies it to ``<file>.backup``; a failed migration restores that copy
and says so. Alembic is imported only by the commands that migrate; ``status`` reads the
revision files directly (``schema.revisions``) so that it answers quickly.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from schema import revisions
from schema.database import connect, database_url, open_engine
from tcdb.errors import DatabaseError, MigrationError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass
class DatabaseStatus:
    path: Path
    exists: bool
    current: str | None
    head: str
    pending: list[revisions.Revision] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    views: list[str] = field(default_factory=list)


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
        return DatabaseStatus(path, False, None, head, _pending(path, None))
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
    return DatabaseStatus(path, True, current, head, _pending(path, current), counts, views)


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

    import schema.models  # noqa: F401  (registers the tables)
    from schema.alembic_support import MIGRATION_OPTIONS

    with open_engine(path, read_only=True) as engine, engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=dict(MIGRATION_OPTIONS))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*reflection on indices.*")
            return compare_metadata(context, SQLModel.metadata)


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".backup")


def _backup(path: Path) -> Path:
    target = backup_path(path)
    shutil.copy2(path, target)
    log.info("Backed up %s to %s before migrating", path, target)
    return target


def _restore(path: Path, backup: Path | None) -> None:
    if backup is None:
        path.unlink(missing_ok=True)
    else:
        shutil.copy2(backup, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _run(path: Path, action: str, target: str) -> None:
    from alembic import command

    path = Path(path)
    existed = path.exists()
    with open_engine(path) as engine:  # takes the write lock first: a locked file fails here
        backup = None
        if existed:
            with engine.connect() as connection:
                connection.exec_driver_sql("CHECKPOINT")  # the backup must hold everything
            backup = _backup(path)
        config = alembic_config(path)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                getattr(command, action)(config, target)
        except DatabaseError:
            raise
        except Exception as exc:
            engine.dispose()
            _restore(path, backup)
            restored = f"restored from {backup}" if backup else "removed"
            raise MigrationError(
                f"Migration {action} to {target} of {path} failed ({exc}); the file was {restored}."
            ) from exc


def upgrade(path: Path, target: str = "head") -> None:
    """Create the file if needed and apply migrations up to ``target``."""
    _run(path, "upgrade", target)


def downgrade(path: Path, target: str) -> None:
    """Revert migrations down to ``target`` (a revision id, ``-1`` or ``base``)."""
    if not Path(path).exists():
        raise DatabaseError(f"There is no database at {path} to downgrade.")
    _run(path, "downgrade", target)
