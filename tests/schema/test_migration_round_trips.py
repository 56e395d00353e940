"""Every migration undone and done again on a database full of rows leaves the schema it
found: each revision's downgrade then upgrade, and the whole way to base and back to head,
compared with a freshly migrated database (tables, columns, types, constraints, indexes,
views). The rows are the session's curated real data, plus one row in each table it leaves
empty, so no step runs only on empty tables."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tcdb.schema import migrate, revisions
from tcdb.schema.database import open_engine

# A value of each column type the models use, for the row added to each empty table.
VALUES = {
    "BIGINT": "1",
    "BOOLEAN": "true",
    "DOUBLE": "1.5",
    "INTEGER": "1",
    "TIMESTAMP": "TIMESTAMP '2026-01-01 00:00:00'",
    "VARCHAR": "'x'",
}


Schema = dict[str, list[tuple]]
SCHEMA_QUERIES = {
    "tables": "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'",
    "columns": "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, "
    "column_default FROM information_schema.columns WHERE table_schema = 'main'",
    "constraints": "SELECT table_name, constraint_type, constraint_name, constraint_text, "
    "constraint_column_names, expression FROM duckdb_constraints() WHERE schema_name = 'main'",
    "indexes": "SELECT table_name, index_name, is_unique, sql FROM duckdb_indexes()",
    "views": "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal",
}


def catalogue(path: Path) -> tuple[Schema, dict[str, int]]:
    """What DuckDB's catalogue says of every table, column, constraint, index and view, and
    the rows in each table (but Alembic's own), read from the file as it is on disk."""
    with duckdb.connect(str(path), read_only=True) as conn:
        schema = {
            name: sorted(conn.execute(sql).fetchall()) for name, sql in SCHEMA_QUERIES.items()
        }
        tables = [t for (t,) in schema["tables"] if t != "alembic_version"]
        counts = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables)
        rows = dict(conn.execute(counts).fetchall()) if tables else {}
    return schema, rows


def fill_empty_tables(path: Path) -> None:
    """One row, every column set, in each table the curated data leave empty."""
    empty = [table for table, count in catalogue(path)[1].items() if count == 0]
    with duckdb.connect(str(path)) as conn:
        for table in empty:
            columns = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            names = ", ".join(f'"{name}"' for name, _ in columns)
            values = ", ".join(VALUES[data_type] for _, data_type in columns)
            conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({values})')


def step(path: Path, action: str, target: str) -> None:
    """One Alembic command on the file, as ``tcdb db`` runs it once its checks passed (the
    trial copy and the backup are tested in test_migrations.py)."""
    from alembic import command

    config = migrate.alembic_config(path)
    with open_engine(path) as engine, engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)


def test_each_downgrade_then_its_upgrade_keeps_the_schema_and_the_rows(curated_db):
    """From the head down, one revision at a time: its downgrade keeps every row of the
    tables it keeps, and its upgrade then gives back the schema the revision had."""
    fill_empty_tables(curated_db)
    schema, rows = catalogue(curated_db)
    assert all(rows.values()), "every table holds a row"
    for revision in reversed(revisions.history()):
        step(curated_db, "downgrade", "-1")
        below, kept = catalogue(curated_db)
        assert kept == {t: rows[t] for t in kept}, f"the {revision.revision} downgrade lost rows"
        step(curated_db, "upgrade", "+1")
        again = catalogue(curated_db)
        assert again == (schema, {t: kept.get(t, 0) for t in rows}), revision.revision
        step(curated_db, "downgrade", "-1")  # on to the revision below
        schema, rows = below, kept
    assert migrate.status(curated_db).current is None
    at_base, rows = catalogue(curated_db)
    assert (at_base["tables"], at_base["views"], rows) == ([("alembic_version",)], [], {})


def test_base_to_head_with_rows_gives_a_freshly_migrated_schema(curated_db, migrated_db):
    fill_empty_tables(curated_db)
    fresh, _ = catalogue(migrated_db)
    assert catalogue(curated_db)[0] == fresh
    migrate.downgrade(curated_db, "base", allow_loss=True)
    assert catalogue(curated_db)[1] == {}
    migrate.upgrade(curated_db)
    assert migrate.status(curated_db).current == revisions.head()
    schema, rows = catalogue(curated_db)
    assert schema == fresh
    assert set(rows.values()) == {0}
