"""Running ``tcdb`` as a user would, in this process or in a fresh one.

Most command tests are about what a command prints, writes and exits with; starting a new
Python for each costs about two seconds of imports, so they call the entry point ``main()`` in
this process with the argv, environment, working directory and standard streams a fresh
process would have. A fresh process is kept where the process is what is tested: the installed
script, signals, locks held while another process computes, worker processes and a terminal.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# what a test sets for the command; everything else of tcdb's is removed from its environment
_USER_VARIABLES = ("MP_API_KEY",)
_QUIETED_LOGGERS = ("alembic", "sqlalchemy")


@dataclass(frozen=True)
class Outcome:
    """What a command did, with the names of ``subprocess.CompletedProcess``."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _clean_environment(env: dict[str, str] | None) -> dict[str, str | None]:
    """The overrides that give a command the environment a test's fresh process would get."""
    removed = {k: None for k in os.environ if k.startswith("TCDB_") or k in _USER_VARIABLES}
    return removed | dict(env or {})


def _exit_status(exc: SystemExit) -> int:
    """The status a process exiting with ``exc`` would have (``sys.exit("text")`` is 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


class _LoggingState:
    """The root logger's handlers and levels, restored after a command configured its own."""

    def __init__(self) -> None:
        root = logging.getLogger()
        self.handlers = list(root.handlers)
        self.levels = {name: logging.getLogger(name).level for name in ("", *_QUIETED_LOGGERS)}

    def restore(self) -> None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if handler not in self.handlers:
                root.removeHandler(handler)
        for handler in self.handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)


class CommandCrashed(AssertionError):
    """A command let an exception escape: a crash, which no test may take for a refusal."""


def invoke_tcdb(*args: str, env: dict[str, str] | None = None, crash_ok: bool = False) -> Outcome:
    """Run ``tcdb ARGS`` through its entry point in this process, as a fresh process would.

    The settings are read again from the given environment (their cache is cleared), logging is
    configured by the command and put back afterwards. An exception that escapes ``main()`` is
    a crash: it fails the test whatever exit status the test expects (a process would exit 1
    with a traceback, which an "exit 1 and a word in stderr" assertion would take for a
    refusal). ``crash_ok`` returns it as that status 1 and traceback instead, for the few tests
    about the traceback itself."""
    from click.testing import CliRunner

    from tcdb.cli import main
    from tcdb.core.settings import environment_settings

    logging_state = _LoggingState()
    argv, cwd = sys.argv, Path.cwd()
    environment_settings.cache_clear()
    with CliRunner().isolation(env=_clean_environment(env)) as (stdout, stderr, _mixed):
        sys.argv = ["tcdb", *args]
        os.chdir(REPO)
        crashed = False
        try:
            main()
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc)
        except Exception:  # shown as the traceback a process would show
            traceback.print_exc()
            status, crashed = 1, True
        finally:
            sys.argv = argv
            os.chdir(cwd)
            sys.stdout.flush()
            sys.stderr.flush()
        out, err = stdout.getvalue(), stderr.getvalue()
    environment_settings.cache_clear()
    logging_state.restore()
    outcome = Outcome(tuple(args), status, out.decode(), err.decode("utf-8", "backslashreplace"))
    if crashed and not crash_ok:
        raise CommandCrashed(f"tcdb {' '.join(args)} crashed:\n{outcome.stderr}")
    return outcome


def run_tcdb(
    *args: str, env: dict[str, str] | None = None, check: bool = False, crash_ok: bool = False
):
    """Run ``python -m tcdb.cli ARGS`` in a fresh process, for tests of the process itself.

    A Python traceback on its stderr is a crash and fails the test (see ``invoke_tcdb``)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    full_env.pop("MP_API_KEY", None)
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "tcdb.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        check=check,
        timeout=120,
    )
    if not crash_ok and "Traceback (most recent call last)" in result.stderr:
        raise CommandCrashed(f"tcdb {' '.join(args)} crashed:\n{result.stderr}")
    return result


def installed_tcdb() -> Path:
    """The ``tcdb`` script the install put beside this Python."""
    return Path(sys.executable).parent / "tcdb"
