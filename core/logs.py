"""Logging to stderr with rich formatting; results go to stdout, messages to stderr."""

from __future__ import annotations

import logging


def configure(level: str = "INFO") -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True),
        show_path=False,
        show_time=False,
        rich_tracebacks=False,
    )
    logging.basicConfig(level=level.upper(), format="%(message)s", handlers=[handler], force=True)
    quiet = max(logging.WARNING, logging.getLogger().level)
    for noisy in ("alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(quiet)
