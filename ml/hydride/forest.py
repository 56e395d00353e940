"""The hydride model's random forest, kept so that it can screen: its trees stored as arrays
(``ml.forest_trees``), predicted without scikit-learn, with a spread over its trees.

Why: out of fold the forest predicts T_c better than the paper's network on our data, and
``ml.hydride.selection`` may choose it to rank the screen, so a run keeps the forest it fitted
on every point, of the kind and settings it scores out of fold (``ml.hydride.evaluation.forest``).
Its two outputs are the targets T_c (K) and P (GPa); it reads the 8 hydride descriptors
unscaled. ``forest.npz`` is refused on loading unless it holds exactly those two targets over the
same nodes, on those descriptors, every index checked (``ForestTrees.from_bytes``).
"""

from __future__ import annotations

import numpy as np

from tcdb.ml.forest_trees import ForestTrees, checked_forest
from tcdb.ml.hydride.descriptors import FEATURE_LABELS

FOREST_FILE = "forest.npz"
TARGETS = ("tc_K", "pressure_GPa")


def read_forest(data: bytes) -> ForestTrees:
    """The forest of ``forest.npz``'s bytes, checked; a ``TreeFormatError`` otherwise."""
    return ForestTrees.from_bytes(data, TARGETS, len(FEATURE_LABELS))


def stored_forest(estimator, X: np.ndarray) -> ForestTrees:
    """The fitted ``RandomForestRegressor`` as arrays, checked to predict its exact floats on
    ``X`` and read back from its bytes as a run reads it."""
    return read_forest(checked_forest(estimator, TARGETS, X).to_bytes())


def tree_spread(estimator, X: np.ndarray) -> np.ndarray:
    """The standard deviation over a fitted forest's trees of their predictions (n, 2)."""
    rounded = np.asarray(X, dtype=np.float32)
    return np.stack([tree.predict(rounded) for tree in estimator.estimators_]).std(axis=0)
