"""Checks that keys are unique and not null and that every reference resolves (dbt-style)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from tcdb.schema.references import REFERENCES


@dataclass(frozen=True)
class Violation:
    check: str
    table: str
    column: str
    count: int

    def __str__(self) -> str:
        return f"{self.table}.{self.column}: {self.count} rows fail '{self.check}'"


def find_violations(conn: duckdb.DuckDBPyConnection) -> list[Violation]:
    """Every orphan reference and duplicate or null key in the database."""
    tables = {row[0] for row in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    violations: list[Violation] = []
    for table in sorted(tables - {"alembic_version"}):
        nulls, duplicates = conn.execute(
            "SELECT count(*) FILTER (WHERE id IS NULL), count(*) - count(DISTINCT id) "
            f'FROM "{table}"'
        ).fetchone()
        if nulls:
            violations.append(Violation("key not null", table, "id", nulls))
        if duplicates:
            violations.append(Violation("key unique", table, "id", duplicates))
    for ref in REFERENCES:
        if ref.table not in tables or ref.target_table not in tables:
            continue
        (orphans,) = conn.execute(
            f'SELECT count(*) FROM "{ref.table}" AS child '
            f'WHERE child."{ref.column}" IS NOT NULL AND NOT EXISTS ('
            f'SELECT 1 FROM "{ref.target_table}" AS parent '
            f'WHERE parent."{ref.target_column}" = child."{ref.column}")'
        ).fetchone()
        if orphans:
            violations.append(
                Violation(f"references {ref.target_table}", ref.table, ref.column, orphans)
            )
    return violations
