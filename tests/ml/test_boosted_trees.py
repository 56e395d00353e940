"""Stored trees: LightGBM's boosters in LightGBM's text format give the booster's floats, and a
text LightGBM's parser would crash, loop or read outside its arrays on is refused in one
sentence before LightGBM sees it; scikit-learn's trees as arrays."""

from __future__ import annotations

import re

import lightgbm
import numpy as np
import pytest

import tcdb.ml.boosted_trees as boosted_trees
from tcdb.ml.boosted_trees import (
    BoostedTrees,
    TreeFormatError,
    booster_text,
    checked_booster_text,
    export,
    load_booster,
)


def _booster(nan_in_training: bool = False):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 5))
    X[:, 3] = rng.integers(0, 3, size=600)
    y = 3 * X[:, 0] - 2 * np.abs(X[:, 1]) + X[:, 3] + rng.normal(scale=0.3, size=600)
    if nan_in_training:
        X[::6, 0] = np.nan
    parameters = {"objective": "regression", "num_leaves": 15, "min_data_in_leaf": 5,
                  "deterministic": True, "force_col_wise": True, "verbosity": -1}  # fmt: skip
    train = lightgbm.Dataset(X[:450], y[:450])
    valid = lightgbm.Dataset(X[450:], y[450:], reference=train)
    stop = lightgbm.early_stopping(5, verbose=False)
    return lightgbm.train(parameters, train, 300, valid_sets=[valid], callbacks=[stop]), X


@pytest.fixture(scope="module")
def booster():
    return _booster(nan_in_training=True)[0]


@pytest.fixture(scope="module")
def text(booster) -> str:
    return booster_text(booster).decode()


@pytest.mark.parametrize("nan_in_training", [False, True])
def test_a_booster_read_back_from_its_text_predicts_its_floats_with_its_best_round(
    nan_in_training,
):
    booster, X = _booster(nan_in_training=nan_in_training)
    assert booster.best_iteration < 300  # stopped early: it predicts with its best round
    fresh = np.random.default_rng(7).normal(size=(300, 5))
    fresh[::4, 0] = np.nan  # NaN seen in training (default side) or not (read as 0)
    fresh[::5, 2] = 0.0
    loaded = load_booster(booster_text(booster))
    assert loaded.num_trees() == booster.best_iteration  # only the trees it predicts with
    for rows in (X, fresh):
        assert np.array_equal(loaded.predict(rows), booster.predict(rows))


def test_lightgbm_parses_only_the_checked_header_and_trees(text):
    checked = checked_booster_text(text.encode())
    assert "tree_sizes=" not in checked  # so LightGBM parses the trees one after another
    assert checked.endswith("end of trees\n") and "parameters:" not in checked
    assert checked == re.sub(r"tree_sizes=[^\n]*\n", "", text[: text.index("end of trees")]) + (
        "end of trees\n"
    )


def _tree0(text: str, key: str, value: str, first_only: bool = False) -> str:
    """``text`` with tree 0's ``key`` line set to ``value`` (or only its first value)."""
    start = text.index("Tree=0\n")
    begin = text.index(f"\n{key}=", start) + len(key) + 2
    end = text.index(" " if first_only else "\n", begin)
    return text[:begin] + value + text[end:]


# Each of these crashed (abort, segmentation fault, division by zero), looped or read outside
# the model's arrays when handed to LightGBM 4.7 as it is (measured in docs/models.md).
HOSTILE = {
    "truncated": (lambda t: t[: len(t) // 2], "no 'end of trees' line (truncated?)"),
    "header only": (lambda t: t[: t.index("Tree=0")], "no 'end of trees' line"),
    "garbage": (lambda t: "tree\nnot a model\nend of trees\n", "the header does not hold"),
    "binary": (lambda t: "tree\n\x00\x01" + t, "holds a NUL byte"),
    "num_leaves huge": (lambda t: _tree0(t, "num_leaves", "100000000"), "is outside 1-131072"),
    "a root that is its own child": (
        lambda t: _tree0(t, "left_child", "0", first_only=True),
        "tree 0: the children do not form one tree",
    ),
    "a child outside the tree": (
        lambda t: _tree0(t, "right_child", "5000", first_only=True),
        "the children do not form one tree",
    ),
    "a split on a feature that does not exist": (
        lambda t: _tree0(t, "split_feature", "100000", first_only=True),
        "a split names a feature that does not exist",
    ),
    "a leaf value missing": (lambda t: _tree0(t, "leaf_value", "1 2"), "leaf_value holds 2 values"),
    "a threshold too large": (
        lambda t: _tree0(t, "threshold", "1e999", first_only=True),
        "threshold holds a number too large",
    ),
    "a categorical split": (
        lambda t: _tree0(t, "decision_type", "1", first_only=True),
        "only numerical splits",
    ),
    "no tree per iteration": (
        lambda t: t.replace("num_tree_per_iteration=1", "num_tree_per_iteration=0"),
        "the header gives num_tree_per_iteration '0', not '1'",
    ),
    "another objective": (
        lambda t: t.replace("objective=regression", "objective=custom"),
        "the header gives objective 'custom'",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_text_lightgbm_would_crash_on_is_refused_before_it_parses(text, name, monkeypatch):
    craft, reason = HOSTILE[name]
    monkeypatch.setattr(lightgbm, "Booster", None)  # LightGBM is never called
    with pytest.raises(TreeFormatError, match=re.escape(reason)):
        load_booster(craft(text).encode())


def test_tree_sizes_claiming_huge_trees_are_never_read(booster, text):
    claimed = re.sub(r"tree_sizes=[^\n]*", "tree_sizes=1000000000000", text)
    rows = np.random.default_rng(3).normal(size=(20, 5))
    assert np.array_equal(load_booster(claimed.encode()).predict(rows), booster.predict(rows))


def test_a_text_over_the_limit_is_refused_before_it_is_decoded(text, monkeypatch):
    monkeypatch.setattr(boosted_trees, "BOOSTER_TEXT_MAX_BYTES", 1000)
    with pytest.raises(TreeFormatError, match="more than a booster text may hold"):
        load_booster(text.encode())


def test_what_lightgbm_itself_refuses_is_one_sentence(monkeypatch):
    monkeypatch.setattr(boosted_trees, "checked_booster_text", lambda data: data.decode())
    with pytest.raises(TreeFormatError) as refused:
        load_booster(b"hello, this is not a model\n")
    assert str(refused.value) == (
        "LightGBM refused it: Model file doesn't specify the number of classes"
    )


def test_scikit_learn_trees_are_arrays_and_a_booster_is_not_exported(booster):
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    X[::7, 1] = np.nan
    model = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(X, X[:, 0] ** 2)
    trees = BoostedTrees.from_bytes(export(model).to_bytes())
    assert int(trees.leaf.sum()) == int((~trees.leaf).sum()) + len(trees.roots)
    assert np.array_equal(trees.predict(X), model.predict(X))
    with pytest.raises(TreeFormatError, match="LightGBM's text format"):
        export(booster)
