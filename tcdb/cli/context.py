"""What every ``tcdb`` command module needs from the command line: settings and connections."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tcdb.core.errors import TcdbError

if TYPE_CHECKING:
    from tcdb.core.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    """The settings of the command: the environment's with the root command's flags on top.

    The root command leaves its flags in ``obj``; they become the settings here, on first use,
    so that a ``--help`` (and a command that needs none) never imports pydantic-settings nor
    reads the environment. An unusable ``TCDB_`` variable is refused here, before the command
    does anything with the settings."""
    root = ctx.find_root()
    if root.obj is None or isinstance(root.obj, dict):
        from tcdb.core.settings import environment_settings

        root.obj = environment_settings().model_copy(update=root.obj or {})
    return root.obj


def writer(ctx: typer.Context):
    """A write connection to a migrated database, for a ``with`` block that closes it."""
    from tcdb.schema.database import connect
    from tcdb.schema.migrate import require_head

    settings = settings_of(ctx)
    require_head(settings.db)
    return connect(settings.db)


def database(ctx: typer.Context, *, write: bool = False):
    """The database as a handle that long commands open only around their reads and writes
    (``Database.reading()``/``writing()``); one that will be written must be migrated."""
    from tcdb.schema.database import Database, check_path
    from tcdb.schema.migrate import require_head

    settings = settings_of(ctx)
    if write:
        require_head(settings.db)
    else:
        check_path(settings.db, read_only=True)  # a missing or unusable file is said at once
    return Database(settings.db)


def reader(ctx: typer.Context):
    """A read-only connection, for a ``with`` block that closes it."""
    from tcdb.schema.database import connect

    return connect(settings_of(ctx).db, read_only=True)


def profile_settings(profiles: dict[str, dict], profile: str, **overrides) -> dict:
    """A profile's settings, with the options the user gave on top."""
    if profile not in profiles:
        raise TcdbError(f"Unknown profile {profile!r}; choose {', '.join(profiles)}.")
    return profiles[profile] | {k: v for k, v in overrides.items() if v is not None}
