"""A --db that cannot be a database (a folder, a file that is not DuckDB's, a place nothing can be
created) is one sentence naming the path and the reason in every command that opens it, and
the file is left as it was; a briefly locked file is waited for."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands import invoke_tcdb
from tests.conftest import hold_lock

EVERY_OPENER = [
    ["db", "status"],
    ["db", "upgrade"],
    ["db", "check"],
    ["db", "downgrade", "-1"],
    ["sql", "SELECT 1"],
    ["ingest", "supercon"],
]


def _one_sentence(result, *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and message.count("\n") == 0, message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("command", EVERY_OPENER, ids=lambda c: " ".join(c[:2]))
def test_a_directory_as_db_is_one_sentence(tmp_path, command):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = invoke_tcdb("--db", str(folder), *command, env={"TCDB_SOURCES": str(tmp_path)})
    _one_sentence(result, str(folder), "is a directory")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "command"),
    [
        (b"name,tc\nNb,9\n", ["db", "upgrade"]),
        (b"", ["sql", "SELECT 1"]),
        (b"\x00" * 4096, ["db", "check"]),
    ],
    ids=["csv-upgrade", "empty-sql", "zeros-check"],
)
def test_a_file_that_is_not_duckdb_is_one_sentence_and_untouched(tmp_path, content, command):
    path = tmp_path / "notes.csv"
    path.write_bytes(content)
    _one_sentence(invoke_tcdb("--db", str(path), *command), str(path), "not a DuckDB file")
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.csv"]


def test_a_db_under_a_file_is_one_sentence(tmp_path):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("x")
    path = blocker / "tcdb.duckdb"
    _one_sentence(
        invoke_tcdb("--db", str(path), "db", "upgrade"), str(path), "is a file, not a folder"
    )
    assert blocker.read_text() == "x"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux)")
def test_an_unwritable_place_is_one_sentence():
    # /proc refuses new files even to root, so this holds however the tests run
    for path in ("/proc/tcdb.duckdb", "/proc/tcdb-missing/tcdb.duckdb"):
        _one_sentence(invoke_tcdb("--db", path, "db", "upgrade"), path, "cannot be")


def test_a_briefly_locked_file_is_waited_for(migrated_db):
    holder = hold_lock(migrated_db, 2)
    try:
        result = invoke_tcdb("--db", str(migrated_db), "sql", "SELECT 42 AS x", "--format", "csv",
                             env={"TCDB_LOCK_WAIT": "60"})  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["x", "42"]
    finally:
        holder.wait(timeout=60)
