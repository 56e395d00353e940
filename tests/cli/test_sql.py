"""`tcdb sql` as an attacker would use it: read-only must write nothing anywhere, attach nothing,
load no extension, read no file it was not given and run one statement; --write asks first
before it destroys anything."""

from __future__ import annotations

import hashlib
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.commands import REPO, invoke_tcdb
from tests.conftest import query


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sql_db(migrated_db: Path) -> Path:
    """A migrated database with one source row to lose."""
    with duckdb.connect(str(migrated_db)) as conn:
        conn.execute(
            "INSERT INTO source (id, kind, title, registered_at) "
            "VALUES ('s', 'dataset', 't', now())"
        )
        conn.execute("CHECKPOINT")
    return migrated_db


def _sql(db: Path, statement: str, *flags: str):
    return invoke_tcdb("--db", str(db), "sql", statement, *flags)


def _refused(result, *words: str) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("error: ") and message.count("\n") == 0, message
    for word in words:
        assert word in message, message
    return message


def test_a_select_still_answers(sql_db):
    result = _sql(sql_db, "SELECT count(*) AS n FROM source", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["n", "1"]


def test_copy_over_the_database_file_leaves_it_intact(sql_db):
    before = _digest(sql_db)
    attack = f"COPY (SELECT 'gone' AS x) TO '{sql_db}' (FORMAT csv)"
    _refused(_sql(sql_db, attack), "COPY", "nothing was run")
    assert _digest(sql_db) == before
    assert query(sql_db, "SELECT count(*) FROM source") == [(1,)]


def test_copy_is_refused_even_into_a_folder_given_for_reading(sql_db, tmp_path):
    folder = tmp_path / "readable"
    folder.mkdir()
    for attack in (
        f"COPY (SELECT 1 AS x) TO '{folder}/out.csv'",
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{folder}/out.csv'",
    ):
        _refused(_sql(sql_db, attack, "--read-files", str(folder)), "COPY")
    assert list(folder.iterdir()) == []


def test_attach_of_another_database_with_a_delete_changes_nothing(sql_db, tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as conn:
        conn.execute("CREATE TABLE measurement AS SELECT range AS id FROM range(5)")
    attack = f"ATTACH '{other}' AS o (READ_ONLY false); DELETE FROM o.measurement"
    _refused(_sql(sql_db, attack), "exactly one statement", "holds 2")
    _refused(_sql(sql_db, f"ATTACH '{other}' AS o (READ_ONLY false)"), "ATTACH")
    # a SELECT cannot reach it either: files are off for read-only queries
    _refused(_sql(sql_db, f"SELECT count(*) FROM '{other}'"), "disabled", "--read-files")
    assert query(other, "SELECT count(*) FROM measurement") == [(5,)]


@pytest.mark.parametrize("statement", ["INSTALL httpfs", "LOAD httpfs", "FORCE INSTALL httpfs"])
def test_extensions_are_neither_installed_nor_loaded(sql_db, statement, tmp_path):
    home = tmp_path / "home"  # where DuckDB would put a downloaded extension
    home.mkdir()
    result = invoke_tcdb("--db", str(sql_db), "sql", statement, env={"HOME": str(home)})
    _refused(result, statement.split()[-2], "nothing was run")  # INSTALL or LOAD, as typed
    assert list(home.rglob("*")) == []


def test_a_query_cannot_autoload_an_extension(sql_db):
    _refused(_sql(sql_db, "SELECT * FROM read_text('https://example.com/x')"), "disabled")


@pytest.mark.parametrize("reader", ["read_text", "read_csv", "read_blob"])
def test_system_files_are_not_readable(sql_db, reader):
    _refused(_sql(sql_db, f"SELECT * FROM {reader}('/etc/passwd')"), "disabled", "/etc/passwd")


def test_read_files_allows_that_folder_only(sql_db, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "t.csv").write_text("a,b\n1,2\n")
    (tmp_path / "secret.csv").write_text("a,b\n3,4\n")
    allowed = _sql(sql_db, f"SELECT a + b AS s FROM read_csv('{folder}/t.csv')", "--read-files",
                   str(folder), "--format", "csv")  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.split() == ["s", "3"]
    for outside in (f"{tmp_path}/secret.csv", f"{folder}/../secret.csv", "/etc/passwd"):
        result = _sql(sql_db, f"SELECT * FROM read_csv('{outside}')", "--read-files", str(folder))
        _refused(result, "disabled")
    # a folder whose name merely starts like the allowed one is outside it too
    (tmp_path / "mine2").mkdir()
    (tmp_path / "mine2" / "t.csv").write_text("a\n1\n")
    result = _sql(sql_db, f"SELECT * FROM '{tmp_path}/mine2/t.csv'", "--read-files", str(folder))
    _refused(result, "disabled")


def test_settings_cannot_be_switched_back_on(sql_db):
    _refused(_sql(sql_db, "SET enable_external_access = true"), "SET")
    _refused(_sql(sql_db, "SELECT * FROM query('SET enable_external_access = true')"))


def test_two_statements_run_neither(sql_db):
    _refused(_sql(sql_db, "SELECT 1; SELECT 2"), "exactly one statement")
    _refused(_sql(sql_db, "DELETE FROM source; SELECT 1", "--write", "--yes"), "holds 2")
    assert query(sql_db, "SELECT count(*) FROM source") == [(1,)]


def test_write_statements_are_refused_read_only(sql_db):
    for statement in ("DELETE FROM source", "DROP TABLE source", "CHECKPOINT"):
        _refused(_sql(sql_db, statement), "--write")
    assert query(sql_db, "SELECT count(*) FROM source") == [(1,)]


DESTRUCTIVE = [
    "DELETE FROM source",
    "DROP TABLE prediction",
    "TRUNCATE source",
    "UPDATE source SET title = 'x'",
    "CREATE OR REPLACE TABLE source AS SELECT 1 AS x",
]


@pytest.mark.parametrize("statement", DESTRUCTIVE)
def test_write_refuses_destruction_without_a_terminal_or_yes(sql_db, statement):
    _refused(_sql(sql_db, statement, "--write"), "no terminal", "--yes", "nothing was run")
    assert query(sql_db, "SELECT count(*) FROM source") == [(1,)]
    assert query(sql_db, "SELECT count(*) FROM prediction") == [(0,)]


def test_write_with_yes_deletes_and_plain_inserts_need_no_confirmation(sql_db):
    insert = ("INSERT INTO source (id, kind, title, registered_at) "
              "VALUES ('t', 'dataset', 't', now())")  # fmt: skip
    assert _sql(sql_db, insert, "--write").returncode == 0
    assert query(sql_db, "SELECT count(*) FROM source") == [(2,)]
    done = _sql(sql_db, "DELETE FROM source WHERE id = 't'", "--write", "--yes")
    assert done.returncode == 0, done.stderr
    assert query(sql_db, "SELECT count(*) FROM source") == [(1,)]


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run tcdb with a pseudo-terminal as stdin/stdout, answer its prompt, return the exit
    status and what it printed."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    process = subprocess.Popen([sys.executable, "-m", "tcdb.cli", *args], stdin=follower,
                               stdout=follower, stderr=follower, cwd=REPO, env=env)  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while b"Run it?" not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                seen += os.read(leader, 1024)
        os.write(leader, answer.encode() + b"\n")
        status = process.wait(timeout=60)
        while select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 1024)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
    return status, seen.decode(errors="replace")


def test_write_asks_on_a_terminal_and_no_keeps_the_rows(sql_db):
    args = ["--db", str(sql_db), "sql", "DELETE FROM source", "--write"]
    status, printed = _on_a_terminal(args, "n")
    assert "DELETE statement can remove or overwrite data" in printed
    assert status == 1 and "not confirmed" in printed
    assert query(sql_db, "SELECT count(*) FROM source") == [(1,)]
    status, printed = _on_a_terminal(args, "y")
    assert status == 0, printed
    assert query(sql_db, "SELECT count(*) FROM source") == [(0,)]


def test_read_files_does_not_combine_with_write(sql_db, tmp_path):
    result = _sql(sql_db, "SELECT 1", "--write", "--read-files", str(tmp_path))
    _refused(result, "--read-files", "--write")
