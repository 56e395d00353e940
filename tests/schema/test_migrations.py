"""Migrations create exactly the models' schema and move between revisions without loss."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlmodel import Session, SQLModel, select

from schema import migrate, revisions
from schema.database import open_engine
from schema.models import TABLES, Material, Measurement, Source, utcnow
from schema.views import view_versions
from tcdb.errors import MigrationError


def tables_in(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_upgrade_creates_every_model_table_and_view_on_an_empty_path(db_path):
    assert not db_path.exists()
    migrate.upgrade(db_path)
    assert tables_in(db_path) == {t.__tablename__ for t in TABLES} | {"alembic_version"}
    status = migrate.status(db_path)
    assert status.current == status.head == revisions.head()
    assert status.pending == []
    assert set(status.views) == set(view_versions())
    assert all(count == 0 for count in status.row_counts.values())


def test_migrated_schema_has_no_drift_from_the_models(migrated_db):
    assert migrate.drift(migrated_db) == []


def test_drift_check_notices_a_column_whose_type_differs(migrated_db):
    with duckdb.connect(str(migrated_db)) as conn:
        conn.execute("ALTER TABLE source ALTER COLUMN size_bytes TYPE DOUBLE")
    changes = [str(change) for change in migrate.drift(migrated_db)]
    assert any("size_bytes" in change for change in changes)


def test_floats_are_stored_as_8_byte_doubles(migrated_db):
    with duckdb.connect(str(migrated_db), read_only=True) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'measurement'"
            ).fetchall()
        )
    assert types["tc_K"] == "DOUBLE"
    assert types["pressure_GPa"] == "DOUBLE"


def test_revision_files_read_without_alembic_agree_with_alembic():
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    walked = list(ScriptDirectory.from_config(config).walk_revisions())
    assert [r.revision for r in reversed(walked)] == [r.revision for r in revisions.history()]


def _add_rows(path: Path) -> None:
    now = utcnow()
    with open_engine(path) as engine, Session(engine) as session:
        session.add(Source(id="nims_supercon", kind="dataset", title="SuperCon", registered_at=now))
        session.add(
            Material(
                id="m1",
                reduced_formula="LaH10",
                composition_json='{"La": 1, "H": 10}',
                fractions_json='{"La": 0.0909, "H": 0.9091}',
                chemical_system="H-La",
                n_elements=2,
                hydrogen_fraction=10 / 11,
                hydride_host="La",
                h_per_host=10.0,
                created_at=now,
            )
        )
        session.add(
            Measurement(
                id="x1",
                material_id="m1",
                source_id="nims_supercon",
                origin_table="literature_entry",
                origin_id="e1",
                tc_kind="value",
                tc_K=250.123456789,
                pressure_GPa=170.0,
                created_at=now,
            )
        )
        session.commit()


def _dump(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return {
            t.__tablename__: sorted(conn.execute(f'SELECT * FROM "{t.__tablename__}"').fetchall())
            for t in TABLES
        }


def test_rows_survive_a_downgrade_and_upgrade(migrated_db):
    _add_rows(migrated_db)
    before = _dump(migrated_db)
    previous = revisions.history()[-2].revision
    migrate.downgrade(migrated_db, previous)
    assert migrate.status(migrated_db).current == previous
    migrate.upgrade(migrated_db)
    assert migrate.status(migrated_db).current == revisions.head()
    assert _dump(migrated_db) == before
    assert before["measurement"][0][8] == 250.123456789  # tc_K kept to full precision


def test_orm_rows_read_back_as_written(migrated_db):
    _add_rows(migrated_db)
    with open_engine(migrated_db, read_only=True) as engine, Session(engine) as session:
        material = session.exec(select(Material)).one()
    assert material.reduced_formula == "LaH10"
    assert material.hydrogen_fraction == pytest.approx(10 / 11)


def test_a_failed_migration_restores_the_file(migrated_db, monkeypatch):
    _add_rows(migrated_db)
    before = _dump(migrated_db)
    previous = revisions.history()[-2].revision
    migrate.downgrade(migrated_db, previous)

    import alembic.command

    def half_done(config, target):
        connection = config.attributes["connection"]
        connection.exec_driver_sql("DROP TABLE measurement")
        connection.commit()  # DDL that a rollback can no longer undo
        raise RuntimeError("disk full")

    monkeypatch.setattr(alembic.command, "upgrade", half_done)
    with pytest.raises(MigrationError, match="restored from"):
        migrate.upgrade(migrated_db)
    monkeypatch.undo()
    assert "measurement" in tables_in(migrated_db)
    migrate.upgrade(migrated_db)
    assert _dump(migrated_db) == before


def test_models_and_metadata_agree():
    assert {t.__tablename__ for t in TABLES} == set(SQLModel.metadata.tables)
