"""LightGBM's trees as plain arrays: the same floats as the booster, and nothing else accepted."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest

from ml.boosted_trees import BoostedTrees, TreeFormatError, export, pack, unpack


def _booster(objective: str = "regression", nan_in_training: bool = False):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 5))
    X[:, 3] = rng.integers(0, 3, size=600)
    y = 3 * X[:, 0] - 2 * np.abs(X[:, 1]) + X[:, 3] + rng.normal(scale=0.3, size=600)
    if nan_in_training:
        X[::6, 0] = np.nan
    parameters = {"objective": objective, "num_leaves": 15, "min_data_in_leaf": 5,
                  "deterministic": True, "force_col_wise": True, "verbosity": -1}  # fmt: skip
    train = lightgbm.Dataset(X[:450], y[:450])
    valid = lightgbm.Dataset(X[450:], y[450:], reference=train)
    stop = lightgbm.early_stopping(5, verbose=False)
    return lightgbm.train(parameters, train, 300, valid_sets=[valid], callbacks=[stop]), X


@pytest.mark.parametrize("nan_in_training", [False, True])
def test_exported_lightgbm_trees_predict_the_boosters_floats_with_missing_values(nan_in_training):
    booster, X = _booster(nan_in_training=nan_in_training)
    assert booster.best_iteration < 300  # stopped early: it predicts with its best round
    fresh = np.random.default_rng(7).normal(size=(300, 5))
    fresh[::4, 0] = np.nan  # NaN seen in training (default side) or not (read as 0)
    fresh[::5, 2] = 0.0
    trees = unpack(pack({"member_0": export(booster)}))["member_0"]
    assert len(trees.roots) == booster.best_iteration
    for rows in (X, fresh):
        assert np.array_equal(trees.predict(rows), booster.predict(rows))


def test_lightgbm_trees_of_another_objective_or_categorical_splits_are_refused():
    absolute, _ = _booster("regression_l1")
    with pytest.raises(TreeFormatError, match="squared-error"):
        export(absolute)
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.integers(0, 8, size=400), rng.normal(size=400)])
    y = np.where(np.isin(X[:, 0], [1, 4, 6]), 5.0, 0.0) + X[:, 1]
    data = lightgbm.Dataset(X, y, categorical_feature=[0])
    categorical = lightgbm.train({"objective": "regression", "verbosity": -1,
                                  "min_data_per_group": 5, "cat_smooth": 1}, data, 20)  # fmt: skip
    with pytest.raises(TreeFormatError, match="categorical"):
        export(categorical)


def test_every_node_of_an_exported_booster_belongs_to_one_tree():
    booster, _ = _booster()
    trees = export(booster)
    trees.validate()
    inner = ~trees.leaf
    # every tree of n leaves has n - 1 splits
    assert int(trees.leaf.sum()) == int(inner.sum()) + len(trees.roots)
    again = BoostedTrees.from_bytes(trees.to_bytes())
    assert np.array_equal(again.threshold, trees.threshold)
    assert np.array_equal(again.left, trees.left)
