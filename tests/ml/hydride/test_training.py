"""The hydride model from a frozen snapshot: a recorded, reproducible run (its screen:
``test_screening.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np

from tcdb.ml.registry import get
from tcdb.ml.training import train
from tcdb.schema.database import connect


def small_config(seed=0):
    return get("hydride-mlp").configure("smoke", seed=seed)


def run_training(db, snapshot, runs, seed=0):
    conn = connect(db)
    try:
        return train(get("hydride-mlp"), conn, snapshot, runs, small_config(seed))
    finally:
        conn.close()


def test_a_run_is_recorded_with_everything_needed_to_rebuild_it(hydride_run, hydride_snapshot):
    """The session's smoke run (``hydride_run``), trained in a database with no data: training
    needs nothing but the snapshot."""
    run = hydride_run.db.parent / "runs" / hydride_run.run_id
    manifest = json.loads((run / "manifest.json").read_text())
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
    searched = json.loads((run / "search.json").read_text())
    assert [s["training_set"] for s in searched][:2] == ["all points", "random-folds fold 1"]
    with duckdb.connect(str(hydride_run.db), read_only=True) as conn:
        assert conn.execute("SELECT snapshot_id FROM model_run").fetchall() == [
            (hydride_snapshot.id,)
        ]
        n_oof = conn.execute(
            "SELECT count(*) FROM prediction WHERE subject_kind = 'literature_entry'"
        ).fetchone()[0]
        assert conn.execute("SELECT count(*) FROM literature_entry").fetchone()[0] == 0
    assert 0 < n_oof <= manifest["metrics"]["n_points"]


def recorded_metrics(run_folder: Path) -> str:
    """A run's metrics as its manifest records them (serialised: a NaN equals itself)."""
    manifest = json.loads((run_folder / "manifest.json").read_text())
    return json.dumps(manifest["metrics"], sort_keys=True)


def test_the_same_snapshot_config_and_seed_give_the_same_metrics(
    hydride_run, migrated_db, hydride_snapshot, tmp_path
):
    """Trained again beside the session's run (same snapshot, smoke profile, seed 0), and once
    with seed 1."""
    first = recorded_metrics(hydride_run.db.parent / "runs" / hydride_run.run_id)
    second = run_training(migrated_db, hydride_snapshot, tmp_path / "b")
    assert recorded_metrics(second.path) == first
    other = run_training(migrated_db, hydride_snapshot, tmp_path / "c", seed=1)
    assert recorded_metrics(other.path) != first
