"""The composition ensemble: settings chosen without the outer test rows, a stored form that
predicts the same floats (boosters in LightGBM's text format, scikit-learn's trees as arrays;
runs stored as arrays alone still load), and a spread."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from tcdb.core.errors import TcdbError
from tcdb.ml.boosted_trees import BoostedTrees, pack
from tcdb.ml.composition.ensemble import calibration, fit_ensemble
from tcdb.ml.composition.parameters import COMPOSITION_PROFILES
from tcdb.ml.composition.training import CompositionModelConfig, ensemble_artefacts, load_model
from tcdb.store.model_runs import VerifiedRun, sha256_of

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


def stored_run(folder, files: dict[str, bytes], run_id: str = "composition-x") -> VerifiedRun:
    """A composition run whose manifest lists ``files`` with their true hashes and sizes, as
    ``store.model_runs`` hands it to the loader once it matched the database."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    listed = {name: {"sha256": sha256_of(data), "size": len(data)} for name, data in files.items()}
    manifest = {"id": run_id, "model": "composition", "artefacts": listed, "config": {}}
    return VerifiedRun(run_id, "composition", folder, manifest, "recorded")


def test_the_stored_ensemble_predicts_the_same_floats_and_spread(tmp_path):
    X, y, groups = synthetic()
    ensemble = fit_ensemble(SMOKE, X, y, groups)
    artefacts = ensemble_artefacts(ensemble, X)
    assert list(artefacts) == ["model.npz", "member_0.txt", "member_1.txt"]
    stored = load_model(stored_run(tmp_path, artefacts))
    assert all(isinstance(m, lightgbm.Booster) for m in stored.members)
    assert isinstance(stored.scale, BoostedTrees)  # scikit-learn's: arrays
    fresh = np.random.default_rng(3).normal(size=(50, 6))
    fresh[::7, 2] = np.nan
    mean, spread = ensemble.predict(fresh)
    assert np.array_equal(stored.predict(fresh), mean)
    assert np.array_equal(stored.spread(fresh), spread)
    assert (spread >= 0.1).all()


def test_hamidiehs_fixed_trees_are_scikit_learns_and_stored_as_arrays(tmp_path):
    X, y, groups = synthetic()
    fixed = CompositionModelConfig(**{**COMPOSITION_PROFILES["hamidieh-quick"], "max_iter": 5})
    ensemble = fit_ensemble(fixed, X, y, groups)
    artefacts = ensemble_artefacts(ensemble, X)
    assert list(artefacts) == ["model.npz"]  # no booster: no text
    stored = load_model(stored_run(tmp_path, artefacts))
    assert isinstance(stored.members[0], BoostedTrees) and stored.scale is None
    assert np.array_equal(stored.predict(X), ensemble.predict(X)[0])


def _stump(feature: int, threshold: float, low: float, high: float) -> BoostedTrees:
    """One tree of one split, as arrays."""
    return BoostedTrees(
        baseline=0.0, n_features=6, feature=np.array([feature, 0, 0]),
        threshold=np.array([threshold, 0.0, 0.0]), missing_left=np.array([True, False, False]),
        left=np.array([1, 1, 2]), right=np.array([2, 1, 2]), leaf=np.array([False, True, True]),
        value=np.array([0.0, low, high]), roots=np.array([0]),
    )  # fmt: skip


def test_a_run_stored_before_the_text_format_loads_from_its_arrays(tmp_path):
    """Boosters were exported to arrays beside the scale model: the same reader predicts them."""
    models = {"member_0": _stump(1, 0.0, 1.0, 3.0), "member_1": _stump(2, 0.5, 2.0, 6.0),
              "scale": _stump(1, 0.0, 0.5, 0.05)}  # fmt: skip
    stored = load_model(stored_run(tmp_path, {"model.npz": pack(models)}))
    rows = np.zeros((3, 6))
    rows[:, 1] = [-1.0, 1.0, np.nan]
    rows[:, 2] = [1.0, 0.0, 0.0]
    assert stored.predict(rows).tolist() == [(1 + 6) / 2, (3 + 2) / 2, (1 + 2) / 2]
    assert stored.spread(rows).tolist() == [0.5, 0.1, 0.5]  # floored at 0.1 K


def test_a_member_stored_twice_or_missing_is_refused(tmp_path):
    X, y, groups = synthetic()
    artefacts = ensemble_artefacts(fit_ensemble(SMOKE, X, y, groups), X)
    twice = {**artefacts, "model.npz": pack({"member_0": _stump(1, 0.0, 1.0, 3.0),
                                             "scale": _stump(1, 0.0, 0.5, 0.05)})}  # fmt: skip
    with pytest.raises(TcdbError, match=r"^Run composition-x: member_0 is stored twice"):
        load_model(stored_run(tmp_path / "twice", twice))
    gap = {k: v for k, v in artefacts.items() if k != "member_0.txt"}
    with pytest.raises(TcdbError, match=r"its members are not member_0 to member_0\.$"):
        load_model(stored_run(tmp_path / "gap", gap))


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


def test_a_booster_text_that_does_not_predict_as_the_booster_is_never_saved(monkeypatch):
    import tcdb.ml.boosted_trees as boosted_trees

    X, y, groups = synthetic()
    ensemble = fit_ensemble(SMOKE, X, y, groups)
    another = boosted_trees.booster_text(ensemble.members[1])
    monkeypatch.setattr(boosted_trees, "booster_text", lambda booster: another)
    with pytest.raises(TcdbError, match="does not predict as the fitted one"):
        ensemble_artefacts(ensemble, X)
