"""Bulk writes shared by every layer that stores rows: Arrow tables inserted or refreshed by id."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from tcdb.core.composition import NormalisedComposition, material_row

# Columns a re-ingest never overwrites: provenance of the first load and curation decisions.
PRESERVED_COLUMNS = frozenset(
    {
        "id",
        "created_at",
        "ingest_run_id",
        "curation_run_id",
        "status",
        "deprecation_reason",
        "deprecated_at",
        "retired_run_id",
        "excluded_from_training",
        "exclusion_reason",
    }
)


def rows_table(rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table (DuckDB reads it without copying)."""
    return pa.Table.from_pylist(rows)


def upsert(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    rows: pa.Table,
    *,
    refresh: bool,
    overrides: dict[str, object] | None = None,
) -> None:
    """Insert new rows; refresh the derived columns of rows already there (by id).

    ``overrides`` set a column to one value for every row (the run id, the load time)."""
    if rows.num_rows == 0:
        return
    overrides = {k: v for k, v in (overrides or {}).items() if k in rows.column_names}
    columns = rows.column_names
    quoted = ", ".join(f'"{c}"' for c in columns)
    selected = ", ".join(f'? AS "{c}"' if c in overrides else f'"{c}"' for c in columns)
    parameters = [overrides[c] for c in columns if c in overrides]
    conn.register("incoming", rows)
    try:
        updates = [c for c in columns if c not in PRESERVED_COLUMNS]
        if refresh and updates:
            assignments = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates)
            conflict = f"ON CONFLICT (id) DO UPDATE SET {assignments}"
        else:
            conflict = "ON CONFLICT (id) DO NOTHING"
        conn.execute(
            f'INSERT INTO "{table}" ({quoted}) SELECT {selected} FROM incoming {conflict}',
            parameters,
        )
    finally:
        conn.unregister("incoming")


def existing_ids(conn: duckdb.DuckDBPyConnection, table: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    conn.register("wanted", pa.table({"id": ids}))
    found = conn.execute(f'SELECT t.id FROM "{table}" t JOIN wanted w ON t.id = w.id').fetchall()
    conn.unregister("wanted")
    return {row[0] for row in found}


def insert_new_materials(
    conn: duckdb.DuckDBPyConnection, compositions: dict[str, NormalisedComposition], now: datetime
) -> None:
    """Material rows for the compositions the database does not hold yet (the reduced formula
    costs a pymatgen call, so known materials are not recomputed)."""
    new = set(compositions) - existing_ids(conn, "material", list(compositions))
    rows = [material_row(compositions[i]) | {"created_at": now} for i in sorted(new)]
    upsert(conn, "material", rows_table(rows), refresh=False)
