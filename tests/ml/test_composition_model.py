"""The composition baseline: grouped cross-validation, a recorded run, identical reloads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.parameters import COMPOSITION_PROFILES, SnapshotParameters
from curate.snapshots import create_snapshot
from ml.composition_model import (
    CompositionModelConfig,
    composition_data,
    load_model,
    predict_compositions,
)
from ml.registry import get
from ml.training import train
from schema.database import connect
from store.model_runs import verify_run

SMOKE = CompositionModelConfig(**COMPOSITION_PROFILES["smoke"])


def test_folds_never_share_a_composition(structures_snapshot):
    from sklearn.model_selection import GroupKFold

    data = composition_data(structures_snapshot)
    groups = data.entries["material_id"].to_numpy()
    folds = GroupKFold(n_splits=10, shuffle=True, random_state=0)
    seen_in_test = []
    for train_rows, test_rows in folds.split(data.X, data.y, groups):
        assert not set(groups[train_rows]) & set(groups[test_rows])
        seen_in_test += list(test_rows)
    assert sorted(seen_in_test) == list(range(len(groups)))


def test_a_run_is_recorded_and_its_model_reloads_identically(
    migrated_db, structures_snapshot, tmp_path
):
    conn = connect(migrated_db)
    try:
        run = train(get("composition"), conn, structures_snapshot, tmp_path / "runs", SMOKE)
        checked = verify_run(conn, run.id, "composition")
        n_predictions = conn.execute(
            "SELECT count(*) FROM prediction WHERE model_run_id = ?", [run.id]
        ).fetchone()[0]
    finally:
        conn.close()
    cv = run.metrics["cross_validation"]
    assert cv["n"] == n_predictions > 1000
    assert (cv["protocol"], cv["folds"], cv["seed"]) == ("grouped-by-composition", 3, 0)
    assert cv["r2"] > 0.5  # far better than the mean, even with the tiny smoke settings
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["snapshot_id"] == structures_snapshot.id
    data = composition_data(structures_snapshot)
    first = load_model(checked).predict(data.X[:50])
    assert np.array_equal(first, load_model(checked).predict(data.X[:50]))
    # the saved trees predict the same floats as the estimator before saving (refitted: seeded)
    fitted = SMOKE.estimator().fit(data.X, data.y)
    assert np.array_equal(load_model(checked).predict(data.X), fitted.predict(data.X))
    assert list(checked.manifest["artefacts"]) == ["model.npz", "out_of_fold.parquet"]
    predicted, errors = predict_compositions(checked, [{"La": 2, "Cu": 1, "O": 4}, {"Xx": 1}])
    assert np.isfinite(predicted[0]) and np.isnan(predicted[1])
    assert 1 in errors


def test_a_hydrides_snapshot_is_refused(curated_db, tmp_path):
    from core.errors import TcdbError

    conn = connect(curated_db)  # a copy: freezing writes to the database
    try:
        hydrides = create_snapshot(conn, "h", SnapshotParameters(kind="hydrides"), tmp_path)
    finally:
        conn.close()
    with pytest.raises(TcdbError, match="not 'structures'"):
        composition_data(hydrides)
