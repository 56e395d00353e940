"""Logging to stderr with rich formatting; results go to stdout, messages to stderr.

Libraries that talk a lot are held above the command's level: SQLAlchemy and Alembic to
warnings; TensorFlow's, tf-keras's and absl's Python loggers to errors (their warnings are
about tracing and deprecations, nothing a user acts on) unless the command logs at DEBUG. What
TensorFlow's C++ side writes is handled where it is imported (``tcdb.ml.tensorflow_runtime``).
"""

from __future__ import annotations

import logging

from tcdb.core.errors import TcdbError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")  # those the help names; CRITICAL is taken too
QUIET_TO_WARNINGS = ("alembic", "sqlalchemy")
QUIET_TO_ERRORS = ("tensorflow", "tf_keras", "absl")


def quiet_levels(level: int) -> dict[str, int]:
    """The level of each chatty library's logger when the command logs at ``level``."""
    errors_only = level if level <= logging.DEBUG else max(logging.ERROR, level)
    return {name: max(logging.WARNING, level) for name in QUIET_TO_WARNINGS} | {
        name: errors_only for name in QUIET_TO_ERRORS
    }


def configure(level: str = "INFO") -> None:
    """Rich log lines on stderr at ``level``, the chatty libraries held above it. A level
    logging does not know is one sentence, not the ``ValueError`` traceback of ``logging``."""
    if level.upper() not in logging.getLevelNamesMapping():
        raise TcdbError(
            f"The log level {level!r} (--log-level or TCDB_LOG_LEVEL) is not one of "
            f"{', '.join(LEVELS)}; nothing was run."
        )
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True),
        show_path=False,
        show_time=False,
        rich_tracebacks=False,
    )
    logging.basicConfig(level=level.upper(), format="%(message)s", handlers=[handler], force=True)
    for name, quiet in quiet_levels(logging.getLogger().level).items():
        logging.getLogger(name).setLevel(quiet)
