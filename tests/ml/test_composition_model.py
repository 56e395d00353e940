"""The composition baseline: grouped cross-validation, a recorded run, identical reloads."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from core.parameters import COMPOSITION_PROFILES, SnapshotParameters
from curate.snapshots import create_snapshot
from ml.composition_model import (
    CompositionModelConfig,
    composition_data,
    composition_prediction_rows,
    load_model,
    predict_compositions,
)
from schema.database import connect
from store.model_runs import verify_run
from tests.commands import invoke_tcdb

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


def test_tcdb_train_composition_records_a_run_with_a_spread_and_reloads_identically(
    migrated_db, structures_snapshot, tmp_path
):
    shutil.copytree(structures_snapshot.path, tmp_path / "snapshots" / structures_snapshot.id)
    result = invoke_tcdb("--db", str(migrated_db), "train", "composition", "--snapshot",
                         structures_snapshot.id, "--profile", "smoke")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "descriptors hamidieh81+fractions+magpie, method search" in result.stdout
    assert "within ±1σ" in result.stdout
    run_id = re.search(r"model run (\S+) on snapshot", result.stdout).group(1)
    conn = connect(migrated_db)
    try:
        checked = verify_run(conn, run_id, "composition")
        n_predictions, n_spread = conn.execute(
            "SELECT count(*), count(tc_std_K) FROM prediction WHERE model_run_id = ?", [run_id]
        ).fetchone()
    finally:
        conn.close()
    cv = checked.manifest["metrics"]["cross_validation"]
    assert cv["n"] == n_predictions == n_spread > 1000  # every out-of-fold row has a spread
    assert (cv["protocol"], cv["folds"], cv["seed"]) == ("grouped-by-composition", 3, 0)
    assert cv["r2"] > 0.5  # far better than the mean, even with the tiny smoke settings
    spread = checked.manifest["metrics"]["uncertainty"]
    assert spread["n"] == cv["n"] and 0.3 < spread["within_1_sigma"] < 0.99
    manifest = json.loads((checked.path / "manifest.json").read_text())
    assert manifest["snapshot_id"] == structures_snapshot.id
    assert manifest["config"]["descriptors"]["preset"] == "hamidieh81+fractions+magpie"
    inner = manifest["notes"]["inner_search"]
    assert len(inner["outer_folds"]) == 3 and inner["final_model"]["max_leaf_nodes"] in (7, 15)
    assert list(checked.manifest["artefacts"])[:2] == ["model.npz", "out_of_fold.parquet"]
    oof = pd.read_parquet(checked.path / "out_of_fold.parquet")
    assert (oof["oof_tc_std_K"] > 0).all()
    data = composition_data(structures_snapshot, preset=SMOKE.descriptors)
    model = load_model(checked)
    assert len(model.members) == 2 and model.scale is not None
    first = model.predict(data.X[:50])
    assert np.array_equal(first, load_model(checked).predict(data.X[:50]))
    predicted, errors = predict_compositions(checked, [{"La": 2, "Cu": 1, "O": 4}, {"Xx": 1}])
    assert np.isfinite(predicted[0]) and np.isnan(predicted[1])
    assert 1 in errors
    (row,) = composition_prediction_rows(checked, ["MgB2"])
    assert row["subject_kind"] == "composition" and row["tc_std_K"] > 0


def test_a_hydrides_snapshot_is_refused(curated_db, tmp_path):
    from core.errors import TcdbError

    conn = connect(curated_db)  # a copy: freezing writes to the database
    try:
        hydrides = create_snapshot(conn, "h", SnapshotParameters(kind="hydrides"), tmp_path)
    finally:
        conn.close()
    with pytest.raises(TcdbError, match="not 'structures'"):
        composition_data(hydrides)
