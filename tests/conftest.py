"""Shared fixtures: every test works on a real DuckDB file in its own temporary folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tcdb.schema import migrate
from tcdb.schema.database import connect
from tcdb.store.model_runs import VerifiedRun
from tests.commands import REPO
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, STRUCTURES

SOURCES = Path(os.environ.get("TCDB_SOURCES") or REPO.parent / "shared" / "data").resolve()

# OpenMP threads (scikit-learn's boosted trees) that wait for work by spinning take the CPU from
# the TensorFlow, DuckDB and worker threads of the same run: a 30-tree fit took 5-12 s instead
# of 0.4 s on two busy cores. Passive waiting changes no result, only how idle threads wait; set
# before any test imports scikit-learn, and inherited by the commands' processes. Only here:
# on an idle machine a quick composition training takes 211 s with it against 35 s without,
# so the command itself keeps OpenMP's default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# Without the real sources a third of the suite could not run; a suite that skipped it and
# exited 0 would pass by accident. So missing sources stop the run, unless this variable says
# that only the tests that need no source files are wanted (then those that do are skipped).
WITHOUT_SOURCES = "TCDB_TESTS_WITHOUT_SOURCES"


def _sources_present() -> bool:
    return (SOURCES / "supercon").is_dir()


def pytest_configure(config: pytest.Config) -> None:
    if not _sources_present() and os.environ.get(WITHOUT_SOURCES) != "1":
        raise pytest.UsageError(
            f"The source files are not at {SOURCES}: set TCDB_SOURCES to the shared data "
            f"folder (or {WITHOUT_SOURCES}=1 to run only the tests that need no source files)."
        )


@pytest.fixture(scope="session")
def real_sources() -> Path:
    """The real source files (TCDB_SOURCES, else ../shared/data next to the repository)."""
    if not _sources_present():
        pytest.skip(f"{WITHOUT_SOURCES}=1 and the source files are not at {SOURCES}")
    return SOURCES


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database path that does not exist yet."""
    return tmp_path / "tcdb.duckdb"


@pytest.fixture
def migrated_db(db_path: Path) -> Path:
    """A database file upgraded to the head revision."""
    migrate.upgrade(db_path)
    return db_path


def query(db: Path, sql: str, *params) -> list[tuple]:
    """Rows of a query on a database file, opened read-only."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def ingest_into(db: Path, sources: Path, group: str, **kwargs) -> dict:
    """Ingest a source group into a database file; the outcomes by source id."""
    from tcdb.ingest import pipeline

    conn = connect(db)
    try:
        return {o.source_id: o for o in pipeline.ingest(conn, group, sources, **kwargs)}
    finally:
        conn.close()


# ---- a database curated from real data: the whole NIMS table, a slice of the Materials
# Project mirror, and the literature files (ingested and curated once per session)


def build_sources(real: Path, folder: Path, n_structures: int = 80) -> Path:
    (folder / NIMS).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real / NIMS, folder / NIMS)
    (folder / STANEV).write_text("name,Tc\nNb3Sn,18\n")
    (folder / MP_TAR).parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(real / MP_TAR, "r:gz") as src, tarfile.open(folder / MP_TAR, "w:gz") as dst:
        for i, member in enumerate(m for m in src if m.name.endswith(".cif")):
            if i >= n_structures:
                break
            dst.addfile(member, src.extractfile(member))
    (folder / LITERATURE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real / LITERATURE, folder / LITERATURE)
    shutil.copytree(real / STRUCTURES, folder / STRUCTURES)
    shutil.copytree(real / "reference", folder / "reference")
    return folder


@pytest.fixture(scope="session")
def curated_sources(real_sources, tmp_path_factory) -> Path:
    return build_sources(real_sources, tmp_path_factory.mktemp("curated") / "sources")


@pytest.fixture(scope="session")
def curated_template(curated_sources, tmp_path_factory) -> Path:
    """Ingested and curated once per session; tests copy it."""
    from tcdb.curate.run import run_curation
    from tcdb.ingest import pipeline

    db = tmp_path_factory.mktemp("template") / "tcdb.duckdb"
    migrate.upgrade(db)
    conn = connect(db)
    try:
        pipeline.ingest(conn, "all", curated_sources)
        run_curation(conn)
    finally:
        conn.close()
    return db


@pytest.fixture
def curated_db(curated_template, tmp_path) -> Path:
    db = tmp_path / "tcdb.duckdb"
    shutil.copy(curated_template, db)
    return db


def _freeze(db: Path, kind: str, folder: Path):
    from tcdb.curate.parameters import SnapshotParameters
    from tcdb.curate.snapshots import create_snapshot

    conn = connect(db)
    try:
        return create_snapshot(conn, kind, SnapshotParameters(kind=kind), folder)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def hydride_snapshot(curated_template, tmp_path_factory):
    """A hydrides snapshot frozen from the curated real data."""
    return _freeze(curated_template, "hydrides", tmp_path_factory.mktemp("hydride"))


@pytest.fixture(scope="session")
def structures_snapshot(curated_template, tmp_path_factory):
    """A structures snapshot frozen from the curated real data."""
    return _freeze(curated_template, "structures", tmp_path_factory.mktemp("structures"))


@dataclass(frozen=True)
class HydrideRun:
    """A smoke-sized hydride-mlp run in a database with no other data, its runs folder beside
    it (where ``tcdb --db`` looks for runs)."""

    db: Path
    run_id: str

    def copy_to(self, folder: Path) -> Path:
        """A copy of the database and its runs in ``folder``; returns the database path."""
        shutil.copy(self.db, folder / "tcdb.duckdb")
        shutil.copytree(self.db.parent / "runs", folder / "runs")
        return folder / "tcdb.duckdb"


@pytest.fixture(scope="session")
def hydride_run(hydride_snapshot, tmp_path_factory) -> HydrideRun:
    from tcdb.ml.hydride.ensemble import HydrideMLPConfig
    from tcdb.ml.hydride.parameters import HYDRIDE_PROFILES
    from tcdb.ml.registry import get
    from tcdb.ml.training import train

    db = tmp_path_factory.mktemp("hydride-run") / "tcdb.duckdb"
    migrate.upgrade(db)
    conn = connect(db)
    try:
        smoke = HydrideMLPConfig(**HYDRIDE_PROFILES["smoke"])
        run = train(get("hydride-mlp"), conn, hydride_snapshot, db.parent / "runs", smoke)
    finally:
        conn.close()
    return HydrideRun(db, run.id)


# ---- small trained models on that database: a tiny structural network and a smoke-sized
# composition baseline (trained once per session; tests copy the database)


@dataclass(frozen=True)
class TrainedModels:
    db: Path
    cvcnn: VerifiedRun  # checked against the database, as the commands load runs
    composition: VerifiedRun

    @property
    def composition_predictor(self):
        """The composition run loaded through the registry, as the commands hand it to the
        structural model's predictions."""
        from tcdb.ml.registry import get

        return get("composition").load(self.composition)


@pytest.fixture(scope="session")
def trained_models(curated_template, structures_snapshot, tmp_path_factory) -> TrainedModels:
    from tcdb.ml.composition import training as composition_model
    from tcdb.ml.composition.parameters import COMPOSITION_PROFILES
    from tcdb.ml.contract import FitContext
    from tcdb.ml.registry import get
    from tcdb.ml.structural.cvcnn import CVCNNConfig
    from tcdb.ml.training import train
    from tcdb.store.model_runs import verify_run

    folder = tmp_path_factory.mktemp("models")
    db = folder / "tcdb.duckdb"
    shutil.copy(curated_template, db)
    tiny = CVCNNConfig(
        epochs=2, conv_filters=4, numerical_units=(16,), head_units=(16,), baseline_trees="smoke"
    )
    smoke = composition_model.CompositionModelConfig(**COMPOSITION_PROFILES["smoke"])
    conn = connect(db)
    try:
        runs = folder / "runs"
        quiet = FitContext(folder / "cache", progress=False)
        structural = train(get("cvcnn"), conn, structures_snapshot, runs, tiny, context=quiet)
        composition = train(get("composition"), conn, structures_snapshot, runs, smoke)
        checked = (
            verify_run(conn, structural.id, "cvcnn"),
            verify_run(conn, composition.id, "composition"),
        )
    finally:
        conn.close()
    return TrainedModels(db, *checked)


@pytest.fixture
def models_db(trained_models, tmp_path) -> Path:
    """A copy of the database holding the trained models' runs."""
    db = tmp_path / "tcdb.duckdb"
    shutil.copy(trained_models.db, db)
    return db


def hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    """A real second process holding the write lock of ``db`` for ``seconds``; returns once it
    holds it."""
    script = (
        "import duckdb, sys, time\n"
        f"conn = duckdb.connect({str(db)!r})\n"
        "print('locked', flush=True)\n"
        f"time.sleep({seconds})\n"
        "conn.close()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder
