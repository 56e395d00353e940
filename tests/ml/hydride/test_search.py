"""The inner search chooses inside a training set only, and the nested estimates never let a
test point's label reach the models that predict it."""

from __future__ import annotations

import numpy as np

from tcdb.ml.hydride import ensemble as he
from tcdb.ml.hydride.evaluation import baseline_predictions, fold_ensembles
from tcdb.ml.hydride.search import checkpoints, inner_layout, search


def problem(n: int = 36, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = np.abs(np.column_stack([x[:, 0] + 1.5, 0.5 * x[:, 1] + 1]) + rng.normal(0, 0.2, (n, 2)))
    return x, y


def config(**changes) -> he.HydrideMLPConfig:
    values = {
        "max_epochs": 60,
        "checkpoint_every": 20,
        "learning_rates": (1e-7, 1e-2),
        "l2_values": (1e-4,),
        "batch_sizes": (0,),
        "inner_folds": 2,
        "inner_members": 2,
        "evaluation_members": 2,
        "forest_trees": 10,
    }
    return he.HydrideMLPConfig(**{**values, **changes})


def test_inner_members_train_and_hold_out_only_points_of_their_training_set():
    rows = np.arange(5, 30)
    train, held, owner = inner_layout([rows, np.arange(10)], 36, config())
    assert train.shape == held.shape == (2 * 2 * 2, 36)
    outside = np.setdiff1d(np.arange(36), rows)
    mine = owner[:, 0] == 0
    assert not train[mine][:, outside].any() and not held[mine][:, outside].any()
    assert not (train & held).any()
    assert not train[~mine][:, 10:].any()


def test_the_search_prefers_a_learning_rate_that_learns_and_is_seeded():
    x, y = problem()
    sets = [np.arange(36), np.arange(18)]
    found = search(x, y, sets, config())
    assert len(found) == 2
    assert found[0].chosen.learning_rate == 1e-2
    assert found[0].chosen.epochs in checkpoints(config()) == (20, 40, 60)
    assert len(found[0].candidates) == 2 and len(found[0].candidates[0]["curve"]) == 3
    again = search(x, y, sets, config())
    assert [r.chosen for r in again] == [r.chosen for r in found]


def test_a_test_points_label_never_reaches_its_folds_models():
    x, y = problem()
    test = np.arange(0, 36, 3)
    train = np.setdiff1d(np.arange(36), test)
    splits = [(train, test), (test, train)]
    choices = [he.Hyperparameters(1e-2, 1e-4, 0, 30)] * 2
    first, spread = fold_ensembles(x, y, splits[:1], choices[:1], config())
    moved = y.copy()
    moved[test] += 10.0
    second, moved_spread = fold_ensembles(x, moved, splits[:1], choices[:1], config())
    np.testing.assert_array_equal(first[test], second[test])
    np.testing.assert_array_equal(spread[test], moved_spread[test])
    assert np.isnan(first[train]).all() and np.isnan(spread[train]).all()
    assert (spread[test] > 0).all()
    found = baseline_predictions(x, y, splits[:1], config())
    shifted = baseline_predictions(x, moved, splits[:1], config())
    for name in ("linear", "forest"):
        np.testing.assert_allclose(found[name][0][test], shifted[name][0][test])
    np.testing.assert_allclose(found["forest"][1][test], shifted["forest"][1][test])
    assert found["linear"][1] is None
