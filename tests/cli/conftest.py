"""A small migrated database for the ``tcdb sql`` tests: six sources and one snapshot row."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

SQL_SOURCES = 6


@pytest.fixture(scope="session")
def sql_template(migrated_template, tmp_path_factory) -> Path:
    """Built once per session; tests get a copy (``sql_db``)."""
    from tests.conftest import migrated_copy

    db = migrated_copy(migrated_template, tmp_path_factory.mktemp("sql") / "tcdb.duckdb")
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "INSERT INTO source (id, kind, title, registered_at) "
            f"SELECT 's' || range, 'dataset', 'title ' || range, now() FROM range({SQL_SOURCES})"
        )
        conn.execute(
            "INSERT INTO snapshot (id, name, kind, path, parameters_json, manifest_json, "
            "n_entries, n_structures, tcdb_version, created_at) "
            "VALUES ('snap', 'n', 'hydrides', 'p', '{}', '{}', 1, 0, '0', now())"
        )
        conn.execute("CHECKPOINT")
    return db


@pytest.fixture
def sql_db(sql_template, tmp_path) -> Path:
    copy = tmp_path / "tcdb.duckdb"
    shutil.copy(sql_template, copy)
    return copy
