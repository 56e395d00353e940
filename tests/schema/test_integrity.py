"""The integrity check finds orphan references and duplicate keys, and passes clean data."""

from __future__ import annotations

import duckdb

from tcdb.schema.integrity import find_violations
from tcdb.schema.models import TABLES
from tcdb.schema.references import REFERENCES


def test_every_reference_names_real_columns():
    columns = {t.__tablename__: set(t.model_fields) for t in TABLES}
    for ref in REFERENCES:
        assert ref.column in columns[ref.table], ref
        assert ref.target_column in columns[ref.target_table], ref


def test_clean_database_has_no_violations(migrated_db):
    with duckdb.connect(str(migrated_db), read_only=True) as conn:
        assert find_violations(conn) == []


def test_an_orphan_reference_is_reported(migrated_db):
    with duckdb.connect(str(migrated_db)) as conn:
        conn.execute(
            "INSERT INTO structure_match (id, material_id, structure_id, method, "
            "composition_distance, status, created_at) "
            "VALUES ('s1', 'missing-material', 'missing-structure', 'exact_reduced', 0, "
            "'active', now())"
        )
        found = {(v.table, v.column) for v in find_violations(conn)}
    assert found == {
        ("structure_match", "material_id"),
        ("structure_match", "structure_id"),
    }
