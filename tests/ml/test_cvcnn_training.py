"""The structural model from a frozen structures snapshot: a recorded run on a seeded split,
validation predictions in the database, and a saved model that reloads identically."""

from __future__ import annotations

import json

import numpy as np

from schema.database import connect
from tests.conftest import query


def test_a_small_seeded_run_is_recorded_and_reloads(migrated_db, structures_snapshot, tmp_path):
    from ml.contract import FitContext
    from ml.cvcnn import CVCNNConfig, load_model
    from ml.registry import get
    from ml.training import train

    config = CVCNNConfig(epochs=2, conv_filters=4, numerical_units=(16,), head_units=(16,),
                       baseline_trees="smoke")
    conn = connect(migrated_db)
    try:
        run = train(get("cvcnn"), conn, structures_snapshot, tmp_path / "runs", config,
                    context=FitContext(tmp_path / "cache", progress=False))  # fmt: skip
    finally:
        conn.close()
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["snapshot_id"] == structures_snapshot.id
    assert manifest["config"]["cvcnn"]["epochs"] == 2
    validation = run.metrics["validation"]
    assert np.isfinite(validation["rmse_K"]) and validation["n"] >= 2
    assert (validation["protocol"], validation["validation_fraction"]) == ("random", 0.2)
    stored = query(migrated_db, "SELECT count(*) FROM prediction WHERE model_run_id = ?", run.id)[
        0
    ][0]
    assert stored == validation["n"]
    # structures holding elements beyond Z = 86 (Th, U ...) have no descriptors: counted, not lost
    left_out = run.notes["structures_left_out"]
    assert (
        left_out == len(structures_snapshot.structures) - validation["n"] - run.metrics["n_train"]
    )

    from ml.structure_features import structure_features

    frame = structures_snapshot.structures
    features = structure_features(frame, cache_dir=tmp_path / "cache", progress=False)
    assert features.cache_hit  # computed once, by the training run
    rows = np.flatnonzero(features.valid)[:8]
    scaling = np.load(run.path / "scaling.npz")
    first = load_model(run.path / "model.keras")
    inputs = [features.fourier[rows], (features.numerical[rows] - scaling["mean"])
              / np.where(scaling["std"] > 0, scaling["std"], 1.0)]  # fmt: skip
    again = load_model(run.path / "model.keras")
    assert np.array_equal(first.predict(inputs, verbose=0), again.predict(inputs, verbose=0))
