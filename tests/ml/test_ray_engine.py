"""Screenings on a real local Ray cluster (2 CPUs): the same predictions as the local engine,
and a job whose predicting worker is killed mid-run resumes with no row missing or doubled."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pymatgen.core import Lattice, Structure

from tcdb.cli.discovery import read_references
from tcdb.core.structure_files import read_structure_inputs
from tcdb.ml.parameters import ENGINE
from tcdb.ml.screening_engine import (
    EngineChoice,
    EngineError,
    Screening,
    featurise_slots,
    pool_size,
    ray_session,
)
from tcdb.ml.structural.morph_runs import run_family, run_family_sharded
from tcdb.ml.structural.morphs import FAMILIES, load_reference_file
from tcdb.ml.structural.parameters import MORPH
from tcdb.ml.structural.predictions import predict_inputs, predict_paths_sharded
from tcdb.ml.structural.predictor import ModelPackage, StructuralModel
from tcdb.schema.database import Database
from tcdb.store.screening_jobs import ShardIntegrityError
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES, query

ONLY = ["H", "Li", "Mg"]  # 3 × 3 pairs, 3 scales: 27 morphs of MgH13
PARAMS = dataclasses.replace(MORPH, scan_points=3, batch_size=6)
CHOICE = EngineChoice("ray", params=dataclasses.replace(ENGINE, shard_size=6))  # 5 shards
# two actors (0.4 CPU each) still leave a featurising task its CPU; the test that kills one
# resumes with the other instead of waiting for a new actor to load TensorFlow
TWO_ACTORS = dataclasses.replace(CHOICE, params=dataclasses.replace(CHOICE.params, actors=2))


@pytest.fixture(scope="module")
def cluster():
    """One local Ray of 2 CPUs for the module (starting one costs seconds)."""
    ray = pytest.importorskip("ray")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # pragma: no cover - only where Ray truly cannot start
        pytest.skip(f"Ray cannot start here: {exc}")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def package(trained_models):
    return ModelPackage.of(trained_models.cvcnn)


@pytest.fixture(scope="module")
def session(cluster, package):
    """One pool of predicting actors for the tests that kill none (each pool loads TensorFlow
    in its actor, the slowest step of a small job)."""
    with ray_session(TWO_ACTORS, package) as shared:
        yield shared


def _database(trained_models, folder):
    folder.mkdir()
    shutil.copy(trained_models.db, folder / "tcdb.duckdb")
    return Database(folder / "tcdb.duckdb")


def _morph_rows(db: Database) -> list[tuple]:
    return query(db.path, "SELECT subject_id, tc_K FROM prediction WHERE subject_kind = 'morph' "
                 "ORDER BY subject_id")  # fmt: skip


def test_the_hydride_screen_on_ray_stores_what_the_local_screen_stores(
    cluster, hydride_run, tmp_path
):
    """Runs before the module's pool exists, so its own actor finds a free CPU."""
    from tcdb.ml.hydride.screening import HydridePackage, screen, screen_sharded
    from tcdb.schema.database import connect
    from tcdb.store.model_runs import verify_run

    stored = ("SELECT subject_id, tc_K, pressure_GPa, distance_std, in_domain FROM prediction "
              "WHERE subject_kind = 'hydride' ORDER BY subject_id")  # fmt: skip
    results = []
    for engine in ("local", "ray"):
        (tmp_path / engine).mkdir()
        db = Database(hydride_run.copy_to(tmp_path / engine))
        conn = connect(db.path)
        try:
            run = verify_run(conn, hydride_run.run_id, "hydride-mlp")
        finally:
            conn.close()
        if engine == "local":
            screen(db, run)
        else:
            hydrides = EngineChoice("ray", params=dataclasses.replace(ENGINE, shard_size=1000))
            with ray_session(hydrides, HydridePackage(run)) as own:
                screened = screen_sharded(db, Screening(own, tmp_path / engine / "jobs"), run)
                _forged_frame_is_refused(db, own, run, screened.job.job, tmp_path / engine)
            assert len(screened.frame) > 2000
        results.append(query(db.path, stored))
    local, on_ray = results
    assert [r[0] for r in on_ray] == [r[0] for r in local]
    assert np.allclose([r[1:4] for r in on_ray], [r[1:4] for r in local], rtol=1e-9)
    assert [r[4] for r in on_ray] == [r[4] for r in local]


def _forged_frame_is_refused(db, session, run, job, folder) -> None:
    """Issue #26: a forged frame in the finished job's folder (9,999 K at 0 GPa, in the
    domain) topped hydride_best_per_element when the same command ran again."""
    from tcdb.ml.hydride.screening import screen_sharded

    best = "SELECT formula, tc_K FROM hydride_best_per_element ORDER BY formula"
    before = query(db.path, best)
    shard = job.shard_folder(0) / "hydride_frame.parquet"
    frame = pq.read_table(shard).to_pandas()
    frame.loc[0, ["tc_K", "pressure_GPa", "in_domain", "domain_reason"]] = [9999.0, 0.0, True, None]
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), shard)
    with pytest.raises(ShardIntegrityError, match=r"hydride_frame\.parquet differs from the"):
        screen_sharded(db, Screening(session, folder / "jobs"), run)
    assert query(db.path, best) == before


def test_local_and_ray_engines_store_the_same_morph_predictions(
    session, trained_models, package, tmp_path
):
    family = FAMILIES["mgh13-xy"]
    local = _database(trained_models, tmp_path / "local")
    references = read_references(local, family)
    run_family(local, StructuralModel.load(trained_models.cvcnn), family, None, PARAMS, ONLY,
               progress=False, references=references)  # fmt: skip

    sharded = _database(trained_models, tmp_path / "ray")
    screening = Screening(session, tmp_path / "ray" / "jobs")
    (outcome,) = run_family_sharded(sharded, screening, package, family, None, PARAMS, ONLY,
                                    references=references)  # fmt: skip

    assert outcome.candidates == outcome.predicted == 27
    assert outcome.job.computed == outcome.job.job.shards == 5
    assert _morph_rows(sharded) == _morph_rows(local)  # the same values, to the bit
    candidates = "SELECT id, formula, a_A, c_A FROM morph_candidate ORDER BY id"
    assert query(sharded.path, candidates) == query(local.path, candidates)

    # a command that died after writing every shard's Parquet but before loading any (the
    # job and its shards' manifest hashes recorded, no row loaded): run again, the job loads
    # the files and computes nothing
    died = _database(trained_models, tmp_path / "died")
    shutil.copytree(outcome.job.job.folder, tmp_path / "died" / "jobs" / outcome.job.job.id)
    _record_job_only(died.path, sharded.path)
    (again,) = run_family_sharded(died, Screening(session, tmp_path / "died" / "jobs"), package,
                                  family, None, PARAMS, ONLY, references=references)  # fmt: skip
    assert (again.job.loaded_from_files, again.job.computed) == (5, 0)
    assert _morph_rows(died) == _morph_rows(local)


def _record_job_only(db, source) -> None:
    """Copy into ``db`` what a command records before it loads any shard of its jobs: each
    job's row (not finished) and its shards' manifest hashes."""
    conn = duckdb.connect(str(db))
    try:
        conn.execute(f"ATTACH '{source}' AS done (READ_ONLY)")
        conn.execute("INSERT INTO screening_job SELECT * FROM done.screening_job")
        conn.execute("UPDATE screening_job SET finished_at = NULL")
        conn.execute("INSERT INTO screening_shard_manifest "
                     "SELECT * FROM done.screening_shard_manifest")  # fmt: skip
    finally:
        conn.close()


def _structure_files(folder):
    """A JSON-lines file (two structures, a broken line, a noble gas) and a Parquet file in
    the lattice/species/frac_coords schema (one structure, one row without a lattice)."""
    mgh13 = load_reference_file(SOURCES / "reference/structures/MgH13_Fm-3m_200GPa.cif").structure
    lih = Structure(Lattice.cubic(4.0), ["Li", "H"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    neon = Structure(Lattice.cubic(4.4), ["Ne"], [[0, 0, 0]])
    lines = [json.dumps({"name": "MgH13", "structure": mgh13.as_dict()}),
             json.dumps(lih.as_dict()), "{not json", json.dumps(neon.as_dict())]  # fmt: skip
    (folder / "many.jsonl").write_text("\n".join(lines) + "\n")
    nbh = Structure(Lattice.cubic(3.3), ["Nb", "H"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    table = pa.table(
        {
            "name": ["NbH", "no lattice"],
            "lattice": [np.asarray(nbh.lattice.matrix).ravel().tolist(), None],
            "species": [["Nb", "H"], ["Nb"]],
            "frac_coords": [nbh.frac_coords.tolist(), [[0.0, 0.0, 0.0]]],
        }
    )
    pq.write_table(table, folder / "more.parquet")
    return [folder / "many.jsonl", folder / "more.parquet"]


def test_structure_tables_are_predicted_on_ray_as_locally_with_each_bad_row_named(
    session, trained_models, package, tmp_path
):
    paths = _structure_files(tmp_path)
    db = _database(trained_models, tmp_path / "db")
    screening = Screening(session, tmp_path / "db" / "jobs", shard_size=ENGINE.shard_size)
    done = predict_paths_sharded(db, screening, package, paths)
    assert done.predicted == 3 and done.job.computed == 2  # a shard per file
    reasons = sorted(f.reason for f in done.failures)
    assert any("many.jsonl#2" in r and "not a structure" in r for r in reasons)
    assert any("many.jsonl#3" in r and "noble gas" in r for r in reasons)
    assert any("more.parquet#1" in r and "lattice" in r for r in reasons)

    inputs, failures = read_structure_inputs(paths)
    local = predict_inputs(None, StructuralModel.load(trained_models.cvcnn), inputs, failures)
    stored = "SELECT input_path, tc_K FROM prediction WHERE subject_kind = 'input_structure' "
    on_ray = query(db.path, stored + "ORDER BY input_path")
    expected = local[local.status == "predicted"].sort_values("input_path")
    assert [p for p, _ in on_ray] == expected.input_path.tolist()
    assert np.allclose([t for _, t in on_ray], expected.tc_K, rtol=1e-6)

    # the command with the same inputs finds the same job finished: nothing is predicted again
    shutil.copytree(trained_models.db.parent / "runs", db.path.parent / "runs")
    again = invoke_tcdb("--db", str(db.path), "predict", *map(str, paths), "--engine", "ray")
    assert again.returncode == 0, again.stderr
    assert "predicted 3 structure(s), 3 not predicted" in again.stdout
    assert f"job {done.job.job.id}: 2 shard(s), 0 computed, 2 already stored" in again.stdout
    assert again.stderr.count("failed:") == 3
    assert len(query(db.path, stored)) == 3


def test_a_killed_worker_stops_the_job_and_running_it_again_does_only_the_rest(
    session, trained_models, package, tmp_path
):
    """Runs last: it kills one of the module pool's actors mid-run; the other resumes."""
    family = FAMILIES["mgh13-xy"]
    db = _database(trained_models, tmp_path / "db")
    references = read_references(db, family)
    jobs = tmp_path / "db" / "jobs"
    victim = session.actor_pids()[0]

    def kill_the_worker(shard: int) -> None:
        if shard == 0:
            os.kill(victim, signal.SIGKILL)

    with pytest.raises(EngineError, match="run the same command again") as stopped:
        run_family_sharded(db, Screening(session, jobs), package, family, None, PARAMS, ONLY,
                           references=references, on_loaded=kill_the_worker)  # fmt: skip
    stored_first = query(db.path, "SELECT count(*) FROM screening_shard")[0][0]
    assert 1 <= stored_first < 5
    assert "shards stored" in str(stopped.value)
    assert len(session.actors) == 1  # the killed one left the pool

    (outcome,) = run_family_sharded(db, Screening(session, jobs), package, family, None, PARAMS,
                                    ONLY, references=references)  # fmt: skip
    ran = outcome.job
    assert ran.already_finished == stored_first
    assert ran.computed + ran.loaded_from_files == 5 - stored_first
    rows = _morph_rows(db)
    assert len(rows) == len({subject for subject, _ in rows}) == 27  # none missing, none twice
    assert query(db.path, "SELECT count(*), count(DISTINCT shard) FROM screening_shard") == [(5, 5)]
    assert query(db.path, "SELECT count(*) FROM morph_candidate")[0][0] == 27
    assert query(db.path, "SELECT finished_at IS NOT NULL FROM screening_job") == [(True,)]


def test_on_two_cpus_the_pool_leaves_room_for_two_featurising_tasks():
    assert pool_size(ENGINE, 2) == 1
    assert featurise_slots(ENGINE, 2, 1) == 2  # 0.4 + 2 × 0.8 CPUs: nothing waits for a CPU
    assert pool_size(ENGINE, 64) == 32
    assert pool_size(dataclasses.replace(ENGINE, actors=3), 2) == 3
    assert featurise_slots(dataclasses.replace(ENGINE, actor_cpus=1.0, task_cpus=1.0), 2, 2) == 1


def test_engine_options_are_checked_before_any_work_and_ray_is_not_imported_locally(models_db):
    wrong = invoke_tcdb("--db", str(models_db), "morph", "run", "dome", "--engine", "spark")
    assert wrong.returncode != 0 and "Unknown engine 'spark'" in wrong.stderr
    lonely = invoke_tcdb("--db", str(models_db), "morph", "run", "dome", "--address", "auto")
    assert lonely.returncode != 0 and "needs --engine ray" in lonely.stderr
    code = (
        "import sys, tcdb.cli, tcdb.ml.structural.morph_runs, tcdb.ml.screening_engine; "
        "print('ray' in sys.modules)"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert imported.stdout.strip() == "False", imported.stderr
