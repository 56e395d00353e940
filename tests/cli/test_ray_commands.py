"""``--engine ray`` through the command line: ``tcdb screen hydrides``, ``tcdb predict`` and
``tcdb morph run`` each compute their shards on a real Ray cluster and store what
``--engine local`` stores.

One Ray of one CPU serves the module (the other CPU stays free): the commands run in this
process and find Ray started, as they find a cluster started with ``ray start``. On one CPU a
featurising task fits beside the predicting actor only because it asks for what the actor
leaves (``featurise_cpus``); asking its usual 0.8 CPU, it waited for ever.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tcdb.ml.parameters import ENGINE
from tcdb.ml.screening_engine import featurise_cpus, featurise_slots, pool_size
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES, query

CIFS = [SOURCES / "reference/structures" / name
        for name in ("H3S_Im-3m_200GPa.cif", "MgH13_Fm-3m_200GPa.cif")]  # fmt: skip
PREDICTIONS = (
    "SELECT id, model_run_id, subject_kind, subject_id, material_id, structure_id, formula, "
    "tc_K, tc_std_K, pressure_GPa, pressure_std_GPa, distance_to_ambient, distance_std, "
    "in_domain, domain_reason, extra_json, input_path FROM prediction "
    "WHERE subject_kind IN ({kinds}) "
    "ORDER BY id"
)


# Ray ends a worker idle for a second beyond one per CPU, so each command's featurising task
# imported pymatgen and the featurisation again in a new worker; kept, they are imported once.
KEEP_IDLE_WORKERS = {"num_workers_soft_limit": 3, "idle_worker_killing_time_threshold_ms": 600_000}


@pytest.fixture(scope="module")
def one_cpu_ray():
    """A local Ray of one CPU for the module's commands, stopped after them."""
    import ray

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             _system_config=KEEP_IDLE_WORKERS)  # fmt: skip
    assert ray.cluster_resources()["CPU"] == 1
    yield ray
    ray.shutdown()


def _two_copies(trained_models, tmp_path: Path) -> tuple[Path, Path]:
    """The trained models' database and runs, once for each engine."""
    copies = []
    for engine in ("local", "ray"):
        folder = tmp_path / engine
        folder.mkdir()
        shutil.copy(trained_models.db, folder / "tcdb.duckdb")
        shutil.copytree(trained_models.db.parent / "runs", folder / "runs")
        copies.append(folder / "tcdb.duckdb")
    return copies[0], copies[1]


def _run_both(local: Path, on_ray: Path, *args: str):
    """The command with each engine on its own database; both must succeed."""
    done = []
    for db, engine in ((local, "local"), (on_ray, "ray")):
        result = invoke_tcdb("--db", str(db), *args, "--engine", engine)
        assert result.returncode == 0, result.stderr
        done.append(result)
    return done


def _stored(db: Path, *kinds: str) -> list[tuple]:
    return query(db, PREDICTIONS.format(kinds=", ".join(f"'{k}'" for k in kinds)))


def _assert_same_rows(on_ray: list[tuple], local: list[tuple]) -> None:
    """The same rows: every text and flag equal, every number equal to 1e-9 (relative)."""
    assert len(on_ray) == len(local) > 0
    for got, want in zip(on_ray, local, strict=True):
        for a, b in zip(got, want, strict=True):
            if isinstance(b, float):
                assert a == pytest.approx(b, rel=1e-9, nan_ok=True), (got, want)
            else:
                assert a == b, (got, want)


def _shards(db: Path) -> list[tuple]:
    """(shards planned, shards stored, finished) of each job in the database."""
    return query(
        db,
        "SELECT j.shards, count(s.shard), j.finished_at IS NOT NULL FROM screening_job j "
        "LEFT JOIN screening_shard s ON s.job_id = j.id GROUP BY j.id, j.shards, j.finished_at",
    )


def test_a_task_asks_only_for_what_the_actors_leave():
    assert featurise_cpus(ENGINE, 2, pool_size(ENGINE, 2)) == ENGINE.task_cpus
    one = featurise_cpus(ENGINE, 1, pool_size(ENGINE, 1))
    assert 0 < one <= 1 - ENGINE.actor_cpus  # 0.8 beside the actor's 0.4 never fits
    assert featurise_slots(ENGINE, 1, pool_size(ENGINE, 1)) == 1


def test_screen_hydrides_on_ray_stores_what_the_local_screen_stores(
    one_cpu_ray, hydride_run, tmp_path
):
    copies = []
    for engine in ("local", "ray"):
        (tmp_path / engine).mkdir()
        copies.append(hydride_run.copy_to(tmp_path / engine))
    local, ray_result = _run_both(*copies, "screen", "hydrides", "--run", hydride_run.run_id)
    (shards,) = _shards(copies[1])
    assert shards[0] >= 1 and shards[1:] == (shards[0], True)
    assert f"{shards[0]} shard(s), {shards[0]} computed; shards in" in ray_result.stdout
    for kind in ("hydride", "hydride_forest"):  # the network's rows and the forest's
        _assert_same_rows(_stored(copies[1], kind), _stored(copies[0], kind))
        assert len(_stored(copies[1], kind)) > 2000  # the whole EH_n grid
    best = "SELECT formula, tc_K, pressure_GPa FROM hydride_best_per_element ORDER BY formula"
    assert query(copies[1], best) == query(copies[0], best)
    printed = [line for line in ray_result.stdout.splitlines() if "±" in line]
    assert printed == [line for line in local.stdout.splitlines() if "±" in line]


def test_predict_on_ray_stores_what_the_local_engine_stores(one_cpu_ray, trained_models, tmp_path):
    local, on_ray = _two_copies(trained_models, tmp_path)
    # the Ray engine holds networks: both engines predict with the latest one
    _, ray_result = _run_both(local, on_ray, "predict", "--run", "latest", *map(str, CIFS))
    assert "predicted 2 structure(s), 0 not predicted" in ray_result.stdout
    assert "1 computed" in ray_result.stdout and "already stored" not in ray_result.stdout
    assert _shards(on_ray) == [(1, 1, True)]
    rows = _stored(on_ray, "input_structure", "composition")
    assert sorted(r[2] for r in rows) == ["composition"] * 2 + ["input_structure"] * 2
    _assert_same_rows(rows, _stored(local, "input_structure", "composition"))
    assert sorted(Path(r[-1]).name for r in rows if r[2] == "input_structure") == sorted(
        c.name for c in CIFS
    )


def test_morph_run_on_ray_stores_what_the_local_engine_stores(
    one_cpu_ray, trained_models, tmp_path
):
    local, on_ray = _two_copies(trained_models, tmp_path)
    morphs = ("morph", "run", "xh3", "--elements", "Li,Mg,Ca", "--run", "latest")
    _, ray_result = _run_both(local, on_ray, *morphs)
    assert "xh3 on reference:H3S_Im-3m_200GPa: 3 morphs, 3 predicted" in ray_result.stdout
    assert "1 shard(s), 1 computed" in ray_result.stdout
    assert _shards(on_ray) == [(1, 1, True)]
    morph_rows = _stored(on_ray, "morph")
    assert len(morph_rows) == 3 and np.isfinite([r[7] for r in morph_rows]).all()
    _assert_same_rows(morph_rows, _stored(local, "morph"))
    composition = _stored(on_ray, "composition")
    assert sorted(r[3] for r in composition) == ["CaH3", "LiH3", "MgH3"]
    _assert_same_rows(composition, _stored(local, "composition"))
    candidates = ("SELECT id, parent_structure_id, family, x_element, formula, lattice_scale, a_A, "
                  "c_A, structure_json FROM morph_candidate ORDER BY id")  # fmt: skip
    assert query(on_ray, candidates) == query(local, candidates)
