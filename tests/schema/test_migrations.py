"""Migrations create exactly the models' schema and move between revisions without loss."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlmodel import Session, SQLModel, select

from tcdb.core.errors import DataLossError, MigrationError
from tcdb.schema import migrate, revisions
from tcdb.schema.database import open_engine
from tcdb.schema.models import TABLES, Material, Measurement, Source, utcnow
from tcdb.schema.views import view_versions


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


def test_a_failed_migration_restores_the_backup_it_just_made(migrated_db, monkeypatch):
    _add_rows(migrated_db)
    before = _dump(migrated_db)
    previous = revisions.history()[-2].revision
    migrate.downgrade(migrated_db, previous)

    import alembic.command

    real_upgrade, calls = alembic.command.upgrade, []

    def half_done(config, target):
        calls.append(target)
        if len(calls) == 1:  # the trial on a copy goes through
            return real_upgrade(config, target)
        connection = config.attributes["connection"]
        connection.exec_driver_sql("DROP TABLE measurement")
        connection.commit()  # DDL that a rollback can no longer undo
        raise RuntimeError("disk full")

    monkeypatch.setattr(alembic.command, "upgrade", half_done)
    with pytest.raises(MigrationError, match="restored from") as failure:
        migrate.upgrade(migrated_db)
    monkeypatch.undo()
    assert str(migrate.backups(migrated_db)[-1]) in str(failure.value)
    assert "measurement" in tables_in(migrated_db)
    migrate.upgrade(migrated_db)
    assert _dump(migrated_db) == before


def test_an_interrupted_migration_restores_the_backup(migrated_db, monkeypatch):
    _add_rows(migrated_db)
    before = _dump(migrated_db)
    import alembic.command

    real_downgrade, calls = alembic.command.downgrade, []

    def interrupted(config, target):
        calls.append(target)
        if len(calls) == 1:
            return real_downgrade(config, target)
        config.attributes["connection"].exec_driver_sql("DROP TABLE measurement")
        config.attributes["connection"].commit()
        raise KeyboardInterrupt

    monkeypatch.setattr(alembic.command, "downgrade", interrupted)
    with pytest.raises(KeyboardInterrupt):
        migrate.downgrade(migrated_db, "-1")
    assert migrate.status(migrated_db).current == revisions.head()
    assert _dump(migrated_db) == before


def test_a_migration_that_fails_on_the_trial_copy_leaves_the_file_alone(migrated_db, monkeypatch):
    _add_rows(migrated_db)
    before = _dump(migrated_db)
    import alembic.command

    def broken(config, target):
        config.attributes["connection"].exec_driver_sql("DROP TABLE measurement")
        raise RuntimeError("bad migration")

    monkeypatch.setattr(alembic.command, "downgrade", broken)
    with pytest.raises(MigrationError, match=r"fails on a trial copy.*not changed"):
        migrate.downgrade(migrated_db, "-1")
    assert _dump(migrated_db) == before
    assert migrate.backups(migrated_db) == []
    assert [p.name for p in migrated_db.parent.iterdir()] == [migrated_db.name]


# ---- data a migration would delete (the attack: `tcdb db downgrade -1` then `upgrade` turned
# every morph_candidate.lattice_scale_c into NULL without a word)

SCALE_C_REVISION = "0004"  # the revision that adds morph_candidate.lattice_scale_c


def _before_scale_c() -> str:
    """The downgrade target that removes lattice_scale_c, as steps back from the head ("-1"
    while 0004 is the head), so later migrations do not change what the test attacks."""
    return f"-{len(revisions.pending(SCALE_C_REVISION)) + 1}"


def _add_morphs(path: Path, scales_c: list[float | None]) -> None:
    with duckdb.connect(str(path)) as conn:
        for i, scale_c in enumerate(scales_c):
            conn.execute(
                "INSERT INTO morph_candidate (id, parent_structure_id, family, substitution_json, "
                "lattice_scale, lattice_scale_c, formula, created_at) "
                "VALUES (?, 's1', 'xh3', '{}', 1.0, ?, 'LaH3', now())",
                [f"m{i}", scale_c],
            )


def _scales_c(path: Path) -> list[float | None]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT lattice_scale_c FROM morph_candidate ORDER BY id"
            ).fetchall()
        ]


def test_downgrade_that_drops_lattice_scale_c_is_refused_and_names_it(migrated_db):
    _add_morphs(migrated_db, [1.02, 0.98, None])
    with pytest.raises(DataLossError) as refused:
        migrate.downgrade(migrated_db, _before_scale_c())
    message = str(refused.value)
    assert "morph_candidate.lattice_scale_c (2 values)" in message
    assert "--yes" in message and "\n" not in message
    assert migrate.status(migrated_db).current == revisions.head()
    assert _scales_c(migrated_db) == [1.02, 0.98, None]
    assert migrate.backups(migrated_db) == [], "a refused migration leaves no backup"


def test_allowed_downgrade_keeps_the_values_in_a_timestamped_backup(migrated_db):
    _add_morphs(migrated_db, [1.02, 0.98, None])
    migrate.downgrade(migrated_db, _before_scale_c(), allow_loss=True)
    [backup] = migrate.backups(migrated_db)
    assert re.fullmatch(r"tcdb\.duckdb\.backup-\d{8}T\d{6}Z", backup.name)
    assert _scales_c(backup) == [1.02, 0.98, None]
    assert "lattice_scale_c" not in _columns(migrated_db, "morph_candidate")


def test_downgrade_to_base_lists_each_table_with_its_rows(migrated_db):
    _add_rows(migrated_db)
    with pytest.raises(DataLossError) as refused:
        migrate.downgrade(migrated_db, "base")
    message = str(refused.value)
    for table in ("table source (1 row)", "table material (1 row)", "table measurement (1 row)"):
        assert table in message
    assert "prediction" not in message, "empty tables lose nothing"


def test_values_nulled_in_a_kept_column_count_as_lost(migrated_db):
    _add_rows(migrated_db)
    with open_engine(migrated_db) as engine, engine.begin() as connection:
        before = migrate.contents(connection)
        connection.exec_driver_sql("UPDATE measurement SET tc_K = NULL")
        after = migrate.contents(connection)
    assert migrate.losses(before, after) == [migrate.Loss("measurement", "tc_K", 1)]


def test_two_upgrades_leave_two_backups(db_path):
    migrate.upgrade(db_path, revisions.history()[1].revision)
    assert migrate.backups(db_path) == [], "creating the file backs nothing up"
    migrate.upgrade(db_path, revisions.history()[2].revision)
    migrate.upgrade(db_path)
    first, second = migrate.backups(db_path)
    assert first != second
    assert migrate.status(first).current == revisions.history()[1].revision
    assert migrate.status(second).current == revisions.history()[2].revision


def test_only_the_newest_backups_are_kept(migrated_db):
    made = []
    for _ in range(2):
        migrate.downgrade(migrated_db, "-1", keep=2)
        made.append(migrate.backups(migrated_db)[-1])
        migrate.upgrade(migrated_db, keep=2)
        made.append(migrate.backups(migrated_db)[-1])
    assert len(set(made)) == 4, "no backup overwrites another"
    assert migrate.backups(migrated_db) == made[-2:]
    assert all(not old.exists() for old in made[:-2])


def _columns(path: Path, table: str) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    return {r[0] for r in rows}


def test_models_and_metadata_agree():
    assert {t.__tablename__ for t in TABLES} == set(SQLModel.metadata.tables)


def test_morphs_of_equal_peak_and_formula_rank_in_a_fixed_order(tmp_path):
    """An X/Y swap can give two morphs one formula and one peak T_c; the ranking view orders
    them by their elements, whatever order the rows were stored in."""
    from tcdb.schema.views import view_sql

    columns = ("family", "formula", "x_element", "y_element", "parent_structure_id",
               "substitution_json", "tc_peak_K")  # fmt: skip
    rows = [
        ("mgh13-xy", "AlLiH13", "Li", "Al", "ref", '{"Mg": "Li", "H": "Al"}', 200.0),
        ("mgh13-xy", "AlLiH13", "Al", "Li", "ref", '{"Mg": "Al", "H": "Li"}', 200.0),
        ("mgh13-xy", "CaH14", "Ca", "H", "ref", '{"Mg": "Ca"}', 210.0),
    ]
    ranked = []
    for order in (rows, rows[::-1]):
        with duckdb.connect(str(tmp_path / f"morphs{len(ranked)}.duckdb")) as conn:
            conn.execute(
                "CREATE TABLE morph_summary (family VARCHAR, formula VARCHAR, x_element VARCHAR, "
                "y_element VARCHAR, parent_structure_id VARCHAR, substitution_json VARCHAR, "
                "tc_peak_K DOUBLE)"
            )
            conn.executemany(f"INSERT INTO morph_summary VALUES ({', '.join('?' * 7)})", order)
            top = conn.execute(view_sql("morph_top_candidates", max(view_versions()[
                "morph_top_candidates"]))).fetchall()  # fmt: skip
        ranked.append([(r[0], r[columns.index("x_element") + 1]) for r in top])
    assert ranked[0] == ranked[1] == [(1, "Ca"), (2, "Al"), (3, "Li")]
