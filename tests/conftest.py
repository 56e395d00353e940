"""Shared fixtures: every test works on a real DuckDB file in its own temporary folder."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tcdb.schema import migrate
from tcdb.schema.database import connect
from tcdb.store.model_runs import VerifiedRun
from tests.commands import REPO
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, STRUCTURES

if TYPE_CHECKING:
    from tcdb.ingest.runs import IngestOutcome
    from tcdb.store.snapshots import Snapshot

SOURCES = Path(os.environ.get("TCDB_SOURCES") or REPO.parent / "shared" / "data").resolve()

# One OpenMP thread for scikit-learn's trees (LightGBM's fits set their own thread counts). The
# composition model runs scikit-learn's and LightGBM's OpenMP side by side, and on two cores
# waiting threads of one take the CPU from the other: a smoke composition training took 69 s
# with OpenMP's default (spinning) waits, 13 s with passive waits and 13 s with one thread
# (by time: 8-23, 8-9 and 6.5 s). Passive waits cost a wake-up at every parallel region, which
# made one quick composition training 6x slower on an idle machine; one thread never waits.
# The trees are the same whatever the thread count (each histogram is summed by one thread).
# Set before any test imports scikit-learn, and inherited by the commands' processes. Only
# here: a user's command keeps OpenMP's default.
os.environ.setdefault("OMP_NUM_THREADS", "1")

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


# Under pytest-xdist (make test: --dist loadfile --no-loadscope-reorder) each worker takes whole
# files in the order they were collected, and these come last alphabetically although one runs
# a minute alone (the README's commands) and the other builds a wheel and a virtual environment:
# started first, they no longer leave one worker running them after the other has finished.
# They need no session fixture, so the other worker builds those meanwhile.
STARTED_FIRST = ("tests/test_readme.py", "tests/test_packaging.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the files of ``STARTED_FIRST`` first; every file keeps its own order
    of tests, and a run in one process keeps the collected order."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return
    first = {REPO / name for name in STARTED_FIRST}
    items.sort(key=lambda item: item.path not in first)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def real_sources() -> Path:
    """The real source files (TCDB_SOURCES, else ../shared/data next to the repository)."""
    if not _sources_present():
        pytest.skip(f"{WITHOUT_SOURCES}=1 and the source files are not at {SOURCES}")
    return SOURCES


@contextmanager
def built_once(tmp_path_factory, name: str) -> Iterator[tuple[Path, bool]]:
    """The folder of a session fixture's files and whether this process is to build them.

    Run alone, pytest builds each session fixture once, in a new folder. Under pytest-xdist
    every worker process asks for it: the first to take the lock builds it in a folder the
    workers share, the others wait and then read what it left, so that an expensive fixture is
    still built once per run. A build that failed is started again by the next worker."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        yield tmp_path_factory.mktemp(name), True
        return
    shared = tmp_path_factory.getbasetemp().parent / "shared"
    shared.mkdir(exist_ok=True)
    folder, built = shared / name, shared / f"{name}.built"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if built.exists():
                yield folder, False
                return
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            yield folder, True
            built.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_record(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=1))


def read_record(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database path that does not exist yet."""
    return tmp_path / "tcdb.duckdb"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A database file upgraded to the head revision once per session: a migration costs
    0.2-0.5 s and some 200 tests start from one, so they copy this file instead."""
    with built_once(tmp_path_factory, "migrated") as (folder, build):
        if build:
            migrate.upgrade(folder / "tcdb.duckdb")
    return folder / "tcdb.duckdb"


def migrated_copy(template: Path, db: Path) -> Path:
    """A copy of the migrated template at ``db`` (the same bytes a fresh upgrade writes)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, db)
    return db


@pytest.fixture
def migrated_db(migrated_template: Path, db_path: Path) -> Path:
    """A database file upgraded to the head revision."""
    return migrated_copy(migrated_template, db_path)


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


# ---- a database curated from real data: both whole SuperCon tables, a slice of the Materials
# Project mirror, and the literature files (ingested and curated once per session)


def build_sources(real: Path, folder: Path, n_structures: int = 80) -> Path:
    """The session's sources: the real NIMS and Stanev tables whole (so that trainings and the
    report see them as a user's run does), the first ``n_structures`` CIFs of the Materials
    Project mirror, and every literature and reference file."""
    (folder / NIMS).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real / NIMS, folder / NIMS)
    shutil.copy(real / STANEV, folder / STANEV)
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
    with built_once(tmp_path_factory, "curated") as (folder, build):
        if build:
            build_sources(real_sources, folder / "sources")
    return folder / "sources"


@dataclass(frozen=True)
class SessionIngest:
    """The session's one ingest of the curated sources, curated and with both kinds of
    snapshot frozen from it: its database, what the ingest returned for each source (so that
    no test ingests the whole tables again to count them) and the snapshots by kind. Both are
    frozen here, so that every copy of the database holds both snapshot rows whichever test
    asked for a snapshot first."""

    db: Path
    outcomes: dict[str, IngestOutcome]
    snapshots: dict[str, Snapshot]


SESSION_SNAPSHOTS = ("hydrides", "structures")


def ingest_curate_and_freeze(sources: Path, migrated: Path, folder: Path) -> None:
    """The session's database in ``folder``: the sources ingested and curated, both kinds of
    snapshot frozen (under ``snapshots-<kind>/``), and what the ingest returned kept in
    ``outcomes.json``."""
    from tcdb.curate.run import run_curation
    from tcdb.ingest import pipeline

    db = migrated_copy(migrated, folder / "tcdb.duckdb")
    conn = connect(db)
    try:
        outcomes = [dataclasses.asdict(o) for o in pipeline.ingest(conn, "all", sources)]
        run_curation(conn)
    finally:
        conn.close()
    frozen = {
        kind: _freeze(db, kind, folder / f"snapshots-{kind}").id for kind in SESSION_SNAPSHOTS
    }
    write_record(folder / "outcomes.json", {"outcomes": outcomes, "snapshots": frozen})


def read_session_ingest(folder: Path) -> SessionIngest:
    """What ``ingest_curate_and_freeze`` left in ``folder``, each snapshot verified."""
    from tcdb.ingest.runs import IngestOutcome
    from tcdb.store.snapshots import load_snapshot

    db, record = folder / "tcdb.duckdb", read_record(folder / "outcomes.json")
    outcomes = {o["source_id"]: IngestOutcome(**o) for o in record["outcomes"]}
    snapshots = {
        kind: load_snapshot(folder / f"snapshots-{kind}", snapshot_id, db=db)
        for kind, snapshot_id in record["snapshots"].items()
    }
    return SessionIngest(db, outcomes, snapshots)


@pytest.fixture(scope="session")
def session_ingest(curated_sources, migrated_template, tmp_path_factory) -> SessionIngest:
    with built_once(tmp_path_factory, "template") as (folder, build):
        if build:
            ingest_curate_and_freeze(curated_sources, migrated_template, folder)
        return read_session_ingest(folder)


@pytest.fixture(scope="session")
def curated_template(session_ingest: SessionIngest) -> Path:
    """Ingested, curated and frozen once per session; tests copy it."""
    return session_ingest.db


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
def hydride_snapshot(session_ingest: SessionIngest) -> Snapshot:
    """A hydrides snapshot frozen from the curated real data."""
    return session_ingest.snapshots["hydrides"]


@pytest.fixture(scope="session")
def structures_snapshot(session_ingest: SessionIngest) -> Snapshot:
    """A structures snapshot frozen from the curated real data."""
    return session_ingest.snapshots["structures"]


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
def hydride_run(hydride_snapshot, migrated_template, tmp_path_factory) -> HydrideRun:
    from tcdb.ml.hydride.ensemble import HydrideMLPConfig
    from tcdb.ml.hydride.parameters import HYDRIDE_PROFILES
    from tcdb.ml.registry import get
    from tcdb.ml.training import train

    with built_once(tmp_path_factory, "hydride-run") as (folder, build):
        db = folder / "tcdb.duckdb"
        if build:
            migrated_copy(migrated_template, db)
            conn = connect(db)
            try:
                smoke = HydrideMLPConfig(**HYDRIDE_PROFILES["smoke"])
                run = train(get("hydride-mlp"), conn, hydride_snapshot, folder / "runs", smoke)
            finally:
                conn.close()
            write_record(folder / "run.json", {"run_id": run.id})
        return HydrideRun(db, read_record(folder / "run.json")["run_id"])


# ---- small trained models on that database: a tiny structural network and a smoke-sized
# composition model (trained once per session; tests copy the database)

SMOKE_TRAINING = ("--profile", "smoke")


@dataclass(frozen=True)
class CommandTraining:
    """A model trained once per session through ``tcdb train``, as a user trains one: the
    database holding it (its snapshots and runs beside it), the run and what the command
    printed, so that the tests of the command read it instead of training again."""

    db: Path
    run_id: str
    stdout: str

    def save(self, path: Path) -> None:
        write_record(path, {"run_id": self.run_id, "stdout": self.stdout})

    @classmethod
    def read(cls, db: Path, path: Path) -> CommandTraining:
        return cls(db, **read_record(path))


def train_through_the_command(db: Path, model: str, snapshot, *options: str) -> CommandTraining:
    """``tcdb --db DB train MODEL --snapshot ID OPTIONS`` in this process, the snapshot copied
    where the command looks for it; a failure stops the session with what it printed."""
    import re

    from tests.commands import invoke_tcdb

    frozen = db.parent / "snapshots" / snapshot.id
    if not frozen.exists():
        shutil.copytree(snapshot.path, frozen)
    result = invoke_tcdb("--db", str(db), "train", model, "--snapshot", snapshot.id, *options)
    assert result.returncode == 0, f"tcdb train {model} failed:\n{result.stdout}{result.stderr}"
    run_id = re.search(r"model run (\S+) on snapshot", result.stdout).group(1)
    return CommandTraining(db, run_id, result.stdout)


@dataclass(frozen=True)
class TrainedModels:
    db: Path
    cvcnn: VerifiedRun  # checked against the database, as the commands load runs
    composition: VerifiedRun
    composition_stdout: str  # what `tcdb train composition --profile smoke` printed
    experts: CommandTraining  # `tcdb train structure-experts --profile smoke`, on the same db

    @property
    def composition_predictor(self):
        """The composition run loaded through the registry, as the commands hand it to the
        structural model's predictions."""
        from tcdb.ml.registry import get

        return get("composition").load(self.composition)


def train_tiny_cvcnn(db: Path, snapshot) -> str:
    """A two-epoch structural network a few filters wide (no profile is this small, so it is
    trained through the trainer rather than the command); its features cached beside ``db``."""
    from tcdb.ml.contract import FitContext
    from tcdb.ml.registry import get
    from tcdb.ml.structural.cvcnn import CVCNNConfig
    from tcdb.ml.training import train

    tiny = CVCNNConfig(
        epochs=2, conv_filters=4, numerical_units=(16,), head_units=(16,), baseline_trees="smoke"
    )
    conn = connect(db)
    try:
        quiet = FitContext(db.parent / "cache", progress=False)
        return train(get("cvcnn"), conn, snapshot, db.parent / "runs", tiny, context=quiet).id
    finally:
        conn.close()


@pytest.fixture(scope="session")
def trained_models(curated_template, structures_snapshot, tmp_path_factory) -> TrainedModels:
    """The composition model is trained by ``tcdb train composition --profile smoke``, whose
    test reads its output here rather than training the same model a second time; the
    structure experts by ``tcdb train structure-experts --profile smoke`` after the tiny
    network, so they read the features it cached."""
    from tcdb.store.model_runs import verify_run

    with built_once(tmp_path_factory, "models") as (folder, build):
        db = folder / "tcdb.duckdb"
        if build:
            shutil.copy(curated_template, db)
            write_record(
                folder / "cvcnn.json", {"run_id": train_tiny_cvcnn(db, structures_snapshot)}
            )
            train_through_the_command(db, "composition", structures_snapshot, *SMOKE_TRAINING).save(
                folder / "composition.json"
            )
            train_through_the_command(
                db, "structure-experts", structures_snapshot, *SMOKE_TRAINING
            ).save(folder / "experts.json")
        cvcnn_id = read_record(folder / "cvcnn.json")["run_id"]
        composition = CommandTraining.read(db, folder / "composition.json")
        experts = CommandTraining.read(db, folder / "experts.json")
    conn = connect(db, read_only=True)
    try:
        checked = (
            verify_run(conn, cvcnn_id, "cvcnn"),
            verify_run(conn, composition.run_id, "composition"),
        )
    finally:
        conn.close()
    return TrainedModels(db, *checked, composition.stdout, experts)


@pytest.fixture(scope="session")
def composition_by_time(trained_models, structures_snapshot, tmp_path_factory) -> CommandTraining:
    """``tcdb train composition --profile smoke --protocol by-time --last-training-year 2007``
    on a copy of the trained models' database, once per session: the protocol's test reads it
    and the report's database starts from it."""
    with built_once(tmp_path_factory, "by-time") as (folder, build):
        db = folder / "tcdb.duckdb"
        if build:
            shutil.copy(trained_models.db, db)
            by_time = ("--protocol", "by-time", "--last-training-year", "2007")
            train_through_the_command(
                db, "composition", structures_snapshot, *SMOKE_TRAINING, *by_time
            ).save(folder / "training.json")
        return CommandTraining.read(db, folder / "training.json")


def copy_model_run(source: Path, target: Path, run_id: str) -> None:
    """Copy one model run's rows (``model_run`` and every table keyed by ``model_run_id``) from
    the database ``source`` into ``target``; its files stay where its row says they are."""
    import duckdb

    conn = duckdb.connect(str(target))
    try:
        conn.execute(f"ATTACH '{source}' AS source_db (READ_ONLY)")
        conn.execute(
            "INSERT INTO model_run SELECT * FROM source_db.model_run WHERE id = ?", [run_id]
        )
        keyed = conn.execute(
            "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables"
            " t USING (table_catalog, table_schema, table_name) WHERE c.table_catalog = 'source_db'"
            " AND c.column_name = 'model_run_id' AND t.table_type = 'BASE TABLE'"
        ).fetchall()
        for (table,) in keyed:
            conn.execute(
                f"INSERT INTO {table} SELECT * FROM source_db.{table} WHERE model_run_id = ?",
                [run_id],
            )
        conn.execute("DETACH source_db")
    finally:
        conn.close()


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
