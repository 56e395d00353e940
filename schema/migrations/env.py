"""Alembic environment: DuckDB through duckdb-engine, target metadata from tcdb.schema.models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import tcdb.schema.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from tcdb.schema.alembic_support import MIGRATION_OPTIONS
from tcdb.schema.database import database_url

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    """The URL set by tcdb's migration runner, else the database the settings name."""
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from tcdb.core.settings import environment_settings

    return database_url(environment_settings().db)


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        **MIGRATION_OPTIONS,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
