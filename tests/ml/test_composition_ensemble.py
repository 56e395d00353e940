"""The composition ensemble: settings chosen without the outer test rows, a stored form that
predicts the same floats, and a spread."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from core.errors import TcdbError
from core.parameters import COMPOSITION_PROFILES
from ml.boosted_trees import pack, unpack
from ml.composition_ensemble import StoredEnsemble, calibration, fit_ensemble
from ml.composition_model import CompositionModelConfig

SMOKE = CompositionModelConfig(**COMPOSITION_PROFILES["smoke"])


def synthetic(n: int = 400, seed: int = 0):
    """Rows whose first column is their own id, a label the other columns explain, and
    compositions repeated twice (groups)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[:, 0] = np.arange(n)
    y = 10 * X[:, 1] + 5 * X[:, 2] ** 2 + rng.normal(scale=1.0, size=n)
    groups = np.arange(n) // 2
    return X, y, groups


def test_the_inner_search_never_sees_the_outer_test_rows(monkeypatch):
    X, y, groups = synthetic()
    test = np.flatnonzero(groups % 5 == 0)
    train = np.setdiff1d(np.arange(len(y)), test)
    searched: set[float] = set()  # rows the boosted members fit or stop on
    scaled: set[float] = set()  # rows the scale model fits
    real_train, real_fit = lightgbm.train, HistGradientBoostingRegressor.fit

    def spying_train(parameters, train_set, *args, valid_sets=(), **kwargs):
        for dataset in (train_set, *valid_sets):
            searched.update(dataset.data[:, 0])
        return real_train(parameters, train_set, *args, valid_sets=valid_sets, **kwargs)

    def spying_fit(self, X_fit, y_fit, *args, **kwargs):
        scaled.update(X_fit[:, 0])
        return real_fit(self, X_fit, y_fit, *args, **kwargs)

    monkeypatch.setattr(lightgbm, "train", spying_train)
    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", spying_fit)
    ensemble = fit_ensemble(SMOKE, X[train], y[train], groups[train])
    assert searched == scaled == set(X[train, 0])  # every training row used, no test row
    assert not searched & set(X[test, 0])
    chosen = ensemble.chosen
    assert chosen["max_leaf_nodes"] in SMOKE.search_leaves
    assert len(chosen["trials"]) == len(SMOKE.search_leaves) * len(SMOKE.search_min_leaf)
    assert len(ensemble.members) == SMOKE.members == len(chosen["iterations"])


def test_the_stored_ensemble_predicts_the_same_floats_and_spread():
    X, y, groups = synthetic()
    ensemble = fit_ensemble(SMOKE, X, y, groups)
    stored_models = unpack(pack(ensemble.trees()))
    assert set(stored_models) == {"member_0", "member_1", "scale"}
    stored = StoredEnsemble((stored_models["member_0"], stored_models["member_1"]),
                            stored_models["scale"])  # fmt: skip
    fresh = np.random.default_rng(3).normal(size=(50, 6))
    fresh[::7, 2] = np.nan
    mean, spread = ensemble.predict(fresh)
    assert np.array_equal(stored.predict(fresh), mean)
    assert np.array_equal(stored.spread(fresh), spread)
    assert (spread >= 0.1).all()


def test_a_spread_is_honest_on_rows_the_ensemble_did_not_see():
    X, y, groups = synthetic(800)
    ensemble = fit_ensemble(SMOKE, X[:600], y[:600], groups[:600])
    mean, spread = ensemble.predict(X[600:])
    report = calibration(y[600:], mean, spread)
    assert report["n"] == 200
    assert 0.4 < report["within_1_sigma"] < 0.95  # neither blind nor vacuous
    assert report["within_2_sigma"] > report["within_1_sigma"]


def test_one_member_has_no_spread_and_a_search_needs_two():
    X, y, groups = synthetic()
    single = CompositionModelConfig(**{**COMPOSITION_PROFILES["hamidieh-quick"], "max_iter": 5})
    _, spread = fit_ensemble(single, X, y, groups).predict(X[:5])
    assert np.isnan(spread).all()
    assert calibration(y[:5], y[:5], spread) == {"n": 0}
    with pytest.raises(TcdbError, match="at least 2 members"):
        CompositionModelConfig(members=1)
    with pytest.raises(TcdbError, match="descriptor preset"):
        CompositionModelConfig(descriptors="magpie-only")


def test_fits_trained_two_at_a_time_give_the_same_ensemble_as_one_at_a_time():
    from dataclasses import replace

    X, y, groups = synthetic()
    fresh = np.random.default_rng(5).normal(size=(40, 6))
    one, two = (fit_ensemble(replace(SMOKE, parallel_fits=n), X, y, groups) for n in (1, 2))
    assert one.chosen == two.chosen
    assert all(np.array_equal(a, b) for a, b in zip(one.predict(fresh), two.predict(fresh),
                                                     strict=True))  # fmt: skip
