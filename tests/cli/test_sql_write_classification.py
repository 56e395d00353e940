"""`tcdb sql --write` asks before any statement that can remove, replace or change existing rows,
however it is spelled: comments inside the keywords, line breaks, case, CTEs, the UPSERT forms of
INSERT and EXPLAIN ANALYZE, which runs what it wraps. Statements are judged by DuckDB's parser
and scanner (`schema/sql_access.py`), never by a pattern over the text."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tcdb.schema.sql_access import one_statement
from tests.cli.conftest import SQL_SOURCES
from tests.commands import invoke_tcdb
from tests.conftest import query

SOURCES = SQL_SOURCES


@pytest.fixture
def db(sql_db: Path) -> Path:
    return sql_db


def _state(db: Path) -> tuple:
    """What an overwrite would change: the sources' titles and the snapshot row."""
    return (
        query(db, "SELECT id, title FROM source ORDER BY id"),
        query(db, "SELECT id, manifest_json FROM snapshot"),
    )


def _write(db: Path, statement: str, *flags: str):
    return invoke_tcdb("--db", str(db), "sql", statement, "--write", *flags)


def _refused_unconfirmed(result, kind: str) -> None:
    assert result.returncode == 1, result.stdout
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message, message
    assert f"The {kind} statement can remove or overwrite data" in message, message
    assert "no terminal" in message and "--yes" in message and "nothing was run" in message


# ---- the attacks of the issue: each ran without asking before


@pytest.mark.parametrize(
    ("attack", "kind"),
    [
        ("CREATE/**/OR/**/REPLACE TABLE source AS SELECT 1 AS x", "CREATE OR REPLACE"),
        ("CREATE OR -- x\nREPLACE TABLE snapshot AS SELECT 1 AS x", "CREATE OR REPLACE"),
        (
            "INSERT INTO source SELECT * REPLACE ('forged' AS title) FROM source "
            "ON CONFLICT DO UPDATE SET title = excluded.title",
            "INSERT … ON CONFLICT DO UPDATE",
        ),
        (
            "WITH f AS (SELECT * REPLACE ('forged' AS title) FROM source) "
            "INSERT INTO source SELECT * FROM f ON CONFLICT (id) DO /* */ UPDATE SET title = 'x'",
            "INSERT … ON CONFLICT DO UPDATE",
        ),
        (
            "insert\tor\nreplace into source select * replace ('forged' as title) from source",
            "INSERT OR REPLACE",
        ),
        ("EXPLAIN ANALYZE DELETE FROM source", "EXPLAIN DELETE"),
        ("EXPLAIN (ANALYZE, FORMAT json) UPDATE source SET title = 'forged'", "EXPLAIN UPDATE"),
    ],
)
def test_an_overwrite_in_disguise_asks_and_changes_nothing(db, attack, kind):
    before = _state(db)
    _refused_unconfirmed(_write(db, attack), kind)
    assert _state(db) == before


def test_the_upsert_really_overwrites_six_rows_once_confirmed(db):
    """The statement refused above is an overwrite indeed: with --yes it forges every title."""
    attack = (
        "INSERT INTO source SELECT * REPLACE ('forged' AS title) FROM source "
        "ON CONFLICT DO UPDATE SET title = excluded.title"
    )
    assert _write(db, attack, "--yes").returncode == 0
    assert query(db, "SELECT count(*) FROM source WHERE title = 'forged'") == [(SOURCES,)]


def test_inserts_that_cannot_change_a_row_run_without_asking(db):
    before = _state(db)
    for statement in (
        "INSERT INTO source SELECT * FROM source ON CONFLICT DO NOTHING",
        "INSERT OR IGNORE INTO source SELECT * REPLACE ('forged' AS title) FROM source",
    ):
        result = _write(db, statement)
        assert result.returncode == 0, result.stderr
    assert _state(db) == before
    added = _write(
        db,
        "WITH n AS (SELECT 'new' AS id) INSERT INTO source (id, kind, title, registered_at) "
        "SELECT id, 'dataset', 'OR REPLACE', now() FROM n ON CONFLICT DO NOTHING",
    )
    assert added.returncode == 0, added.stderr
    assert query(db, "SELECT count(*) FROM source") == [(SOURCES + 1,)]


def test_a_plain_create_runs_and_cannot_replace(db):
    assert _write(db, "CREATE TABLE IF NOT EXISTS source AS SELECT 1 AS x").returncode == 0
    assert _write(db, "CREATE VIEW v AS SELECT 'or replace' AS x").returncode == 0
    clash = _write(db, "CREATE TABLE snapshot AS SELECT 1 AS x")
    assert clash.returncode == 1 and "already exists" in clash.stderr
    assert query(db, "SELECT count(*) FROM source") == [(SOURCES,)]
    assert query(db, "SELECT x FROM v") == [("or replace",)]


# ---- how each kind of statement is judged, by DuckDB's parser on the real file

ASKS = {
    "create or replace view v as select 1": "CREATE OR REPLACE",
    "CREATE OR REPLACE MACRO m(x) AS x": "CREATE OR REPLACE",
    "CREATE OR REPLACE SEQUENCE s": "CREATE OR REPLACE",
    "CREATE OR REPLACE TEMP TABLE t AS SELECT 1": "CREATE OR REPLACE",
    "/* note */ CREATE OR REPLACE TABLE source AS SELECT 1": "CREATE OR REPLACE",
    "WITH insert AS (SELECT * FROM source) INSERT OR REPLACE INTO source SELECT * FROM insert": (
        "INSERT OR REPLACE"
    ),
    "UPDATE source SET title = 'x'": "UPDATE",
    "DELETE FROM source": "DELETE",
    "TRUNCATE source": "DELETE",
    "DROP TABLE source": "DROP",
    "ALTER TABLE source RENAME TO s2": "ALTER",
    "COMMENT ON TABLE source IS 'x'": "ALTER",
    "MERGE INTO source USING source AS s ON source.id = s.id WHEN MATCHED THEN DELETE": (
        "MERGE_INTO"
    ),
    "COPY source FROM 'x.csv'": "COPY",
    "COPY source TO 'x.csv'": "COPY",
    "EXPORT DATABASE 'out'": "EXPORT",
    "ATTACH 'other.duckdb' AS o": "ATTACH",
    "DETACH o": "DETACH",
    "SET threads = 1": "SET",
    "RESET threads": "SET",
    "USE memory": "SET",
    "PRAGMA enable_profiling": "PRAGMA",
    "CHECKPOINT": "CALL",
    "VACUUM": "VACUUM",
    "ANALYZE": "VACUUM",
    "LOAD httpfs": "LOAD",
    "INSTALL httpfs": "INSTALL",
    "BEGIN": "TRANSACTION",
    "EXECUTE p": "EXECUTE",
    "UPDATE EXTENSIONS": "UPDATE",
    "EXPLAIN DELETE FROM source": "EXPLAIN DELETE",  # not run, but judged as what it wraps
    "EXPLAIN ANALYZE CREATE OR REPLACE TABLE source AS SELECT 1": "EXPLAIN CREATE OR REPLACE",
    # a keyword pair outside its clause asks too: a question, never a miss
    "INSERT INTO source SELECT * FROM source WHERE false OR replace(id, 'a', 'b') = 'c'": (
        "INSERT OR REPLACE"
    ),
}

ADDS_ONLY = [
    "SELECT replace(title, 'OR REPLACE', 'x') FROM source -- OR REPLACE",
    'SELECT \'DO UPDATE\' AS "OR", 1 AS "REPLACE"',
    "FROM source",
    "DESCRIBE source",
    "SHOW TABLES",
    "SUMMARIZE source",
    "VALUES (1)",
    "INSERT INTO source SELECT * FROM source",
    "INSERT INTO source BY NAME SELECT * FROM source ON CONFLICT (id) DO NOTHING RETURNING id",
    "CREATE TABLE IF NOT EXISTS source AS SELECT 1",
    "CREATE TABLE t AS SELECT 'or replace' AS x",
    "CREATE SEQUENCE s",
    "CREATE MACRO m(x) AS x",
    "CREATE INDEX i ON source (title)",
    "CREATE SCHEMA s",
    "EXPLAIN SELECT 1",
    "EXPLAIN (SELECT 1)",
    "EXPLAIN ANALYZE INSERT INTO source SELECT * FROM source ON CONFLICT DO NOTHING",
]


@pytest.fixture(scope="module")
def parser(sql_template):
    """A connection on the real file, only for DuckDB's parser."""
    with duckdb.connect(str(sql_template), read_only=True) as conn:
        yield conn


@pytest.mark.parametrize("statement", list(ASKS))
def test_every_kind_that_is_not_an_addition_asks(parser, statement):
    assert one_statement(parser, statement).overwrite == ASKS[statement]


@pytest.mark.parametrize("statement", ADDS_ONLY)
def test_additions_and_reads_do_not_ask(parser, statement):
    checked = one_statement(parser, statement)
    assert checked.overwrite is None and not checked.destructive
