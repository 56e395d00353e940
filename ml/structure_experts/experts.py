"""The two experts, the gate between them and their calibrated spread.

- **Composition expert**: gradient-boosted trees (LightGBM) on the 81 Hamidieh descriptors,
  fitted on the SuperCon entries of the snapshot that the split allows
  (``ml.structure_splits.held_out_entries``): ``composition_members`` members, each on a
  seeded bagged share of the entries; the prediction is their mean, the spread their standard
  deviation. A structure's 81 descriptors are columns of its 175 numerical descriptors, so
  the expert reads them from there (the same values as from its formula, to 1e-13).
- **Hydride expert**: a random forest on the 175 descriptors of the training structures whose
  atoms are more than ``HYDRIDE_H_FRACTION`` hydrogen; the spread is the standard deviation
  over its trees.
- **Gate**: the hydrogen fraction of the structure's cell (its element counts).

Each expert's spread is then multiplied by the factor that puts ``CALIBRATION_COVERAGE`` of its
validation labels within ±1σ (``calibrate``), so ±1σ means what it says on data the experts
did not see.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from tcdb.ml.composition_descriptors import COMPOSITION_LABELS, ELEMENT_COUNT_LABELS
from tcdb.ml.composition_descriptors import NUMERICAL_LABELS as LABELS
from tcdb.ml.forest_trees import ForestTrees
from tcdb.ml.structure_experts.parameters import (
    CALIBRATION_COVERAGE,
    CALIBRATION_MIN_ROWS,
    MIN_SPREAD_K,
)

log = logging.getLogger(__name__)

COMPOSITION_COLUMNS = slice(
    LABELS.index(COMPOSITION_LABELS[0]), LABELS.index(COMPOSITION_LABELS[-1]) + 1
)
COUNT_COLUMNS = slice(
    LABELS.index(ELEMENT_COUNT_LABELS[0]), LABELS.index(ELEMENT_COUNT_LABELS[-1]) + 1
)
HYDROGEN_COLUMN = LABELS.index("count_H")
EXPERTS = ("composition", "hydride")


def hydrogen_fraction(numerical: np.ndarray) -> np.ndarray:
    """The share of the cell's atoms that are hydrogen, from the element counts."""
    counts = numerical[:, COUNT_COLUMNS]
    total = counts.sum(axis=1)
    return np.divide(
        numerical[:, HYDROGEN_COLUMN], total, out=np.zeros(len(numerical)), where=total > 0
    )


def gate(numerical: np.ndarray, h_fraction: float) -> np.ndarray:
    """True where the hydride expert predicts (more than ``h_fraction`` of atoms are H)."""
    return hydrogen_fraction(numerical) > h_fraction


def lightgbm_parameters(config, seed: int) -> dict:
    """One composition member's LightGBM settings (deterministic on any number of threads)."""
    return {
        "objective": "regression",
        "learning_rate": config.composition_learning_rate,
        "num_leaves": config.composition_leaves,
        "min_data_in_leaf": config.composition_min_leaf,
        "feature_fraction": 0.5,
        "bagging_fraction": config.composition_bagging,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "max_bin": 63,
        "seed": seed,
        "num_threads": 0,  # LightGBM's default: every core
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
    }


def fit_composition(config, X: np.ndarray, y: np.ndarray) -> list:
    """The composition members on the entries' 81 descriptors (member k from seed + k)."""
    import lightgbm

    members = []
    for k in range(config.composition_members):
        parameters = lightgbm_parameters(config, config.seed + k)
        data = lightgbm.Dataset(X, y, params=parameters)
        members.append(lightgbm.train(parameters, data, num_boost_round=config.composition_rounds))
    return members


def fit_hydride(config, X: np.ndarray, y: np.ndarray):
    """The hydride forest on the 175 descriptors of the H-rich training structures."""
    from sklearn.ensemble import RandomForestRegressor

    from tcdb.ml.evaluation import fitted_reproducibly

    forest = RandomForestRegressor(
        n_estimators=config.hydride_trees,
        max_features=config.hydride_max_features,
        min_samples_leaf=1,
        random_state=config.seed,
        n_jobs=-1,  # every tree's seed is drawn before they are built: the same trees
    )
    return fitted_reproducibly(forest, X, y)


@dataclass
class Experts:
    """Both experts fitted (or loaded), with the gate and each expert's spread factor."""

    composition: list  # LightGBM boosters
    hydride: object | None  # a forest (ml.forest_trees.ForestTrees or sklearn's); None: too
    # few H-rich training structures (by time, say, where the hydrides have no year)
    h_fraction: float
    scale: dict[str, float]  # expert -> spread factor (1.0 until calibrated)

    def which(self, numerical: np.ndarray) -> np.ndarray:
        """Per row, the expert that predicts it ("composition" or "hydride"; every row goes to
        the composition expert when the training part held too few hydrides for the other)."""
        if self.hydride is None:
            return np.full(len(numerical), EXPERTS[0])
        return np.where(gate(numerical, self.h_fraction), EXPERTS[1], EXPERTS[0])

    def raw(self, numerical: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """T_c, the uncalibrated spread and the expert of each row."""
        expert = self.which(numerical)
        tc = np.full(len(numerical), np.nan)
        spread = np.full(len(numerical), np.nan)
        rows = expert == EXPERTS[0]
        if rows.any():
            X = numerical[rows][:, COMPOSITION_COLUMNS]
            each = np.stack([m.predict(X) for m in self.composition])
            tc[rows], spread[rows] = each.mean(axis=0), each.std(axis=0)
        rows = ~rows
        if rows.any():
            each = _tree_predictions(self.hydride, numerical[rows])
            tc[rows], spread[rows] = ForestTrees.mean(each), each.std(axis=0)
        return tc, spread, expert

    def predict(self, numerical: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """T_c (K), its calibrated spread (K, at least ``MIN_SPREAD_K``) and the expert."""
        tc, spread, expert = self.raw(numerical)
        factor = np.array([self.scale[e] for e in expert]) if len(expert) else np.empty(0)
        return tc, np.maximum(spread * factor, MIN_SPREAD_K), expert


def _tree_predictions(forest, X: np.ndarray) -> np.ndarray:
    """(trees, n): every tree's T_c, from stored arrays or a fitted scikit-learn forest."""
    if hasattr(forest, "predict_trees"):
        return forest.predict_trees(X)[:, :, 0]
    rounded = np.asarray(X, dtype=np.float32)
    return np.stack([tree.predict(rounded) for tree in forest.estimators_])


def calibrate(experts: Experts, numerical: np.ndarray, y: np.ndarray) -> dict[str, dict]:
    """Set each expert's spread factor from the validation rows it predicts: the
    ``CALIBRATION_COVERAGE`` quantile of |error| / spread, so that share of them lies within
    ±1σ. With fewer than ``CALIBRATION_MIN_ROWS`` rows the factor stays 1 (said in the
    result)."""
    tc, spread, expert = experts.raw(numerical)
    result = {}
    for name in EXPERTS:
        rows = (expert == name) & np.isfinite(tc) & np.isfinite(y)
        n = int(rows.sum())
        if n < CALIBRATION_MIN_ROWS:
            experts.scale[name] = 1.0
            result[name] = {"n": n, "factor": 1.0, "calibrated": False}
            continue
        z = np.abs(y[rows] - tc[rows]) / np.maximum(spread[rows], MIN_SPREAD_K)
        factor = float(np.quantile(z, CALIBRATION_COVERAGE))
        experts.scale[name] = factor if math.isfinite(factor) and factor > 0 else 1.0
        result[name] = {"n": n, "factor": experts.scale[name], "calibrated": True}
    log.info(
        "spread factors: %s",
        ", ".join(f"{k} {v['factor']:.2f} (n {v['n']})" for k, v in result.items()),
    )
    return result
