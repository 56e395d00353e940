"""Random forests stored as arrays and predicted without scikit-learn, tree by tree.

Why: a forest is the simple model that wins on small data (the hydrides, the H-rich
structures), so models ship one; scikit-learn has no format of its own that loads without
unpickling, and pickle runs code while it loads. A fitted ``RandomForestRegressor`` is only
arrays: per tree, each node's split feature, threshold and children and, per output, its
value. ``export_forest`` copies them into one ``ml.boosted_trees.BoostedTrees`` per output
(the same nodes, each output's own values, no baseline), written together in one ``.npz``
archive (``ml.boosted_trees.pack``, read back with every header and index checked).

``ForestTrees`` finds each tree's leaf for every row (``BoostedTrees.tree_leaves``) on the
inputs rounded to float32 as scikit-learn rounds them, and averages the trees' values in the
trees' order as scikit-learn does, so it predicts the estimator's exact floats
(``checked_forest`` compares them at training). Every tree's own prediction is there too: the
spread of a prediction is their standard deviation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcdb.ml.boosted_trees import BoostedTrees, TreeFormatError, pack, unpack

STRUCTURE = ("feature", "threshold", "missing_left", "left", "right", "leaf", "roots")


@dataclass(frozen=True)
class ForestTrees:
    """A random forest: one ``BoostedTrees`` per output over the same nodes, in output order."""

    trees: dict[str, BoostedTrees]

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self.trees)

    @property
    def n_features(self) -> int:
        return next(iter(self.trees.values())).n_features

    def predict_trees(self, X: np.ndarray) -> np.ndarray:
        """Every tree's prediction, (trees, n, outputs)."""
        rounded = np.asarray(X, dtype=np.float32).astype(np.float64)  # as scikit-learn reads X
        leaves = next(iter(self.trees.values())).tree_leaves(rounded)
        return np.stack([t.value[leaves] for t in self.trees.values()], axis=-1)

    @staticmethod
    def mean(tree_predictions: np.ndarray) -> np.ndarray:
        """The trees' mean, summed in the trees' order and divided once, as scikit-learn's
        ``RandomForestRegressor.predict`` computes it (the same floats)."""
        total = np.zeros(tree_predictions.shape[1:], dtype=np.float64)
        for values in tree_predictions:
            total += values
        return total / len(tree_predictions)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The forest's mean (n, outputs) and the standard deviation over its trees."""
        each = self.predict_trees(X)
        return self.mean(each), each.std(axis=0)

    def to_bytes(self) -> bytes:
        return pack(self.trees)

    @classmethod
    def from_bytes(cls, data: bytes, outputs: Sequence[str], n_features: int) -> ForestTrees:
        """The forest of ``to_bytes`` with exactly these outputs over the same nodes, reading
        ``n_features`` columns, with no baseline; anything else is a ``TreeFormatError``."""
        trees = unpack(data)
        if list(trees) != list(outputs) and set(trees) != set(outputs):
            raise TreeFormatError(
                f"the forest holds {', '.join(sorted(trees))}, not {', '.join(outputs)}"
            )
        ordered = [trees[name] for name in outputs]
        first = ordered[0]
        if any(t.n_features != n_features for t in ordered):
            raise TreeFormatError(f"the forest's trees do not read {n_features} descriptors")
        if not all(
            np.array_equal(getattr(first, a), getattr(t, a)) for t in ordered[1:] for a in STRUCTURE
        ):
            raise TreeFormatError("the outputs' trees do not share their nodes")
        if any(t.baseline != 0.0 for t in ordered) or not len(first.roots):
            raise TreeFormatError("a forest has trees and no baseline")
        return cls(dict(zip(outputs, ordered, strict=True)))


def export_forest(estimator, outputs: Sequence[str]) -> ForestTrees:
    """A fitted scikit-learn ``RandomForestRegressor`` of ``outputs`` (its columns, in order)
    as arrays."""
    n_outputs = getattr(estimator, "n_outputs_", None)
    if n_outputs != len(outputs):
        raise TreeFormatError(f"the forest has {n_outputs} outputs, not {len(outputs)}")
    trees = [e.tree_ for e in estimator.estimators_]
    starts = np.cumsum([0] + [t.node_count for t in trees])
    if starts[-1] >= 2**31:  # indices are stored as 32-bit integers
        raise TreeFormatError(f"{starts[-1]:,} nodes are too many to store")
    first = starts[:-1]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("feature", "threshold", "left", "right")}
    for tree, offset in zip(trees, first, strict=True):
        leaf = tree.children_left < 0  # scikit-learn marks a leaf's children -1
        # a leaf's split fields are unused (written 0); child indices count from node 0
        parts["feature"].append(np.where(leaf, 0, tree.feature))
        parts["threshold"].append(np.where(leaf, 0.0, tree.threshold))
        parts["left"].append(np.where(leaf, 0, tree.children_left + offset))
        parts["right"].append(np.where(leaf, 0, tree.children_right + offset))
    structure = {
        "n_features": int(estimator.n_features_in_),
        "feature": np.concatenate(parts["feature"]).astype(np.int32),
        "threshold": np.concatenate(parts["threshold"]).astype(np.float64),
        "missing_left": np.concatenate([_missing_left(t) for t in trees]),
        "left": np.concatenate(parts["left"]).astype(np.int32),
        "right": np.concatenate(parts["right"]).astype(np.int32),
        "leaf": np.concatenate([t.children_left < 0 for t in trees]),
        "roots": first.astype(np.int32),
    }
    forest = {}
    for column, name in enumerate(outputs):
        value = np.concatenate([t.value[:, column, 0] for t in trees]).astype(np.float64)
        forest[name] = BoostedTrees(baseline=0.0, value=value, **structure)
        forest[name].validate()
    return ForestTrees(forest)


def checked_forest(estimator, outputs: Sequence[str], X: np.ndarray) -> ForestTrees:
    """``export_forest``, after checking that the arrays predict the estimator's exact floats
    on ``X`` (a change in scikit-learn's internals fails here, at training)."""
    forest = export_forest(estimator, outputs)
    expected = np.asarray(estimator.predict(np.asarray(X, dtype=np.float32))).reshape(len(X), -1)
    if not np.array_equal(forest.predict(X)[0], expected):
        raise TreeFormatError("the exported forest does not predict as the fitted one")
    return forest


def _missing_left(tree) -> np.ndarray:
    """Where a tree sends a missing value (scikit-learn's, else to the right)."""
    found = getattr(tree, "missing_go_to_left", None)
    return (
        np.zeros(tree.node_count, dtype=bool) if found is None else np.asarray(found).astype(bool)
    )
