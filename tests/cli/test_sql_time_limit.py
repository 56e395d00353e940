"""A `tcdb sql` statement cannot run for ever: past its time limit (TCDB_SQL_TIMEOUT, --timeout)
DuckDB cancels it whole, and Ctrl-C does the same with exit status 130, each with one sentence.
A query that ran on kept every writer out of the database file."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import SQL_SOURCES
from tests.commands import REPO, invoke_tcdb
from tests.conftest import query

# about 10¹⁶ row pairs: far beyond any time limit here
ENDLESS = "SELECT count(*) FROM range(100000000) a, range(100000000) b"
# inserts a row for every thousandth pair, without end
ENDLESS_INSERT = (
    "INSERT INTO source (id, kind, title, registered_at) "
    "SELECT a.range || '-' || b.range, 'dataset', 't', now() "
    "FROM range(100000000) a, range(100000000) b WHERE (a.range + b.range) % 1000 = 0"
)
SOURCES = SQL_SOURCES


@pytest.fixture
def db(sql_db: Path) -> Path:
    return sql_db


def _one_sentence(stderr: str, *words: str) -> str:
    message = stderr.strip()
    assert "Traceback" not in message and message.count("\n") == 0, message
    for word in words:
        assert word in message, message
    return message


def test_a_runaway_query_is_cancelled_at_its_time_limit(db):
    started = time.monotonic()
    result = invoke_tcdb("--db", str(db), "sql", ENDLESS, "--timeout", "1")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout
    _one_sentence(result.stderr, "longer than 1 s", "TCDB_SQL_TIMEOUT", "--timeout", "cancelled")
    assert elapsed < 5, elapsed


def test_the_limit_comes_from_the_setting_and_the_flag_wins(db):
    env = {"TCDB_SQL_TIMEOUT": "0.5"}
    result = invoke_tcdb("--db", str(db), "sql", ENDLESS, env=env)
    _one_sentence(result.stderr, "longer than 0.5 s")
    quick = invoke_tcdb("--db", str(db), "sql", "SELECT 42 AS n", "--timeout", "0", env=env)
    assert quick.returncode == 0 and quick.stdout.split() == ["n", "42"], quick.stderr
    shown = invoke_tcdb("config", env=env)
    assert "sql_timeout 0.5 s" in shown.stdout, shown.stdout


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_a_usage_error(db, value):
    result = invoke_tcdb("--db", str(db), "sql", "SELECT 1", "--timeout", value)
    assert result.returncode == 2, result.stdout
    assert "--timeout" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["abc", "-3", "nan"])
def test_an_unusable_timeout_setting_is_one_sentence(db, value):
    result = invoke_tcdb("--db", str(db), "sql", "SELECT 1", env={"TCDB_SQL_TIMEOUT": value})
    assert result.returncode == 1, result.stdout
    _one_sentence(result.stderr, f"TCDB_SQL_TIMEOUT={value!r}", "not usable")


def test_a_write_cancelled_at_its_limit_keeps_nothing(db):
    """Rows the statement had already inserted when the limit struck are rolled back."""
    result = invoke_tcdb("--db", str(db), "sql", ENDLESS_INSERT, "--write", "--timeout", "1")
    _one_sentence(result.stderr, "INSERT statement ran longer than 1 s", "nothing was changed")
    assert query(db, "SELECT count(*) FROM source") == [(SOURCES,)]


@pytest.mark.parametrize(
    ("statement", "flags"), [(ENDLESS, ()), (ENDLESS_INSERT, ("--write",))], ids=["read", "write"]
)
def test_ctrl_c_cancels_the_statement_with_status_130_and_one_sentence(db, statement, flags):
    """The process itself is what is tested: SIGINT while DuckDB runs the statement."""
    kind = statement.split()[0]
    status, stdout, stderr, to_exit = _interrupted(db, statement, *flags)
    assert status == 130, stderr
    assert stdout == ""
    _one_sentence(stderr, f"Interrupted: the {kind} statement was cancelled", "nothing")
    assert to_exit < 3, to_exit
    assert query(db, "SELECT count(*) FROM source") == [(SOURCES,)]


def _interrupted(db: Path, *args: str) -> tuple[int, str, str, float]:
    """Run ``tcdb sql ARGS``, press Ctrl-C once the statement runs: the exit status, what it
    printed after the statement started, and the seconds it took to exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    # Ctrl-C as a terminal sends it, even when the tests run in the background: a shell starts
    # background jobs with SIGINT ignored, so the child gets the default disposition back.
    process = subprocess.Popen(
        [sys.executable, "-m", "tcdb.cli", "--db", str(db), "--log-level", "DEBUG", "sql", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env=env,
        preexec_fn=_default_sigint,
    )
    try:
        _wait_for(process, b"statement (time limit:", seconds=30)
        time.sleep(0.3)  # inside DuckDB's execution
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)
        to_exit = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout.decode(), stderr.decode(), to_exit


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(process: subprocess.Popen, marker: bytes, seconds: float) -> None:
    """Read the process's stderr until ``marker`` (a log line) has appeared."""
    seen, deadline = b"", time.monotonic() + seconds
    while marker not in seen:
        assert time.monotonic() < deadline and process.poll() is None, seen.decode()
        if select.select([process.stderr], [], [], 0.5)[0]:
            seen += os.read(process.stderr.fileno(), 4096)
