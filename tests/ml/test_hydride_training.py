"""The hydride model from a frozen snapshot: a recorded, reproducible run, and a screen whose
predictions and views say what the paper's figures show."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from ml.hydride_descriptors import screenable_elements
from ml.hydride_training import screen
from ml.registry import get
from ml.training import train
from schema import migrate
from schema.database import connect
from store.model_runs import verify_run


def small_config(seed=0):
    return get("hydride-mlp").configure("smoke", seed=seed)


@pytest.fixture
def empty_db(tmp_path):
    """A database with no data: training must need nothing but the snapshot."""
    db = tmp_path / "empty.duckdb"
    migrate.upgrade(db)
    return db


def run_training(db, snapshot, runs, seed=0):
    conn = connect(db)
    try:
        return train(get("hydride-mlp"), conn, snapshot, runs, small_config(seed))
    finally:
        conn.close()


def test_a_run_is_recorded_with_everything_needed_to_rebuild_it(
    empty_db, hydride_snapshot, tmp_path
):
    run = run_training(empty_db, hydride_snapshot, tmp_path / "runs")
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["snapshot_id"] == hydride_snapshot.id
    assert manifest["seed"] == 0 and manifest["config"]["mlp"]["members"] == 4
    assert {"tensorflow", "numpy", "duckdb"} <= set(manifest["library_versions"])
    metrics = manifest["metrics"]
    for protocol in ("in-sample", "random-folds", "grouped-by-composition"):
        for model in ("network", "linear", "forest"):
            scored = metrics[f"{model} {protocol}"]
            assert scored["protocol"] == protocol and scored["model"] == model
            assert np.isfinite(scored["tc_rmse"]) and scored["n"] == metrics["n_points"]
    assert metrics["network grouped-by-composition"]["folds"] == 2
    assert metrics["network random-repeated"]["splits"] == 4
    chosen = metrics["hyperparameters"]
    assert chosen["learning_rate"] == 1e-2 and chosen["epochs"] in (20, 40)
    assert len(metrics["outer_fold_hyperparameters"]) == 4
    searched = json.loads((run.path / "search.json").read_text())
    assert [s["training_set"] for s in searched][:2] == ["all points", "random-folds fold 1"]
    with duckdb.connect(str(empty_db), read_only=True) as conn:
        assert conn.execute("SELECT snapshot_id FROM model_run").fetchall() == [
            (hydride_snapshot.id,)
        ]
        n_oof = conn.execute(
            "SELECT count(*) FROM prediction WHERE subject_kind = 'literature_entry'"
        ).fetchone()[0]
    assert 0 < n_oof <= manifest["metrics"]["n_points"]


def test_the_same_snapshot_config_and_seed_give_the_same_metrics(
    empty_db, hydride_snapshot, tmp_path
):
    first = run_training(empty_db, hydride_snapshot, tmp_path / "a")
    second = run_training(empty_db, hydride_snapshot, tmp_path / "b")
    assert first.metrics == second.metrics
    other = run_training(empty_db, hydride_snapshot, tmp_path / "c", seed=1)
    assert other.metrics != first.metrics


def test_screening_predicts_every_eh_n_and_the_views_summarise_it(
    empty_db, hydride_snapshot, tmp_path
):
    run = run_training(empty_db, hydride_snapshot, tmp_path / "runs")
    conn = connect(empty_db)
    try:
        predictions = screen(conn, verify_run(conn, run.id, "hydride-mlp"))
        best = conn.execute(
            "SELECT element, n_h, distance_to_ambient FROM hydride_best_per_element"
        ).fetchall()
        decile = conn.execute("SELECT count(*) FROM hydride_closest_decile").fetchone()[0]
        grid = conn.execute(
            "SELECT element, n_h, tc_K, pressure_GPa, distance_to_ambient FROM hydride_screening"
        ).df()
    finally:
        conn.close()
    elements = screenable_elements()
    assert len(predictions) == len(grid) == 31 * len(elements)
    assert np.allclose(
        grid["distance_to_ambient"],
        np.abs(grid["pressure_GPa"]) + np.abs(grid["tc_K"] - 293),
    )
    assert {e for e, _, _ in best} == set(elements)
    minimum = grid.groupby("element")["distance_to_ambient"].min()
    assert all(d == pytest.approx(minimum[e]) for e, _, d in best)
    assert decile == pytest.approx(0.1 * len(grid), abs=2)
