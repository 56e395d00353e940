"""The two experts, the gate between them and their calibrated spread.

- **Composition expert**: gradient-boosted trees (LightGBM) on the 81 Hamidieh descriptors,
  fitted on the SuperCon entries of the snapshot that the split allows
  (``ml.structure_splits.held_out_entries``): ``composition_members`` members, each on a
  seeded bagged share of the entries; the prediction is their mean, the spread their standard
  deviation. A structure's 81 descriptors are columns of its 175 numerical descriptors, so
  the expert reads them from there (the same values as from its formula, to 1e-13).
  Beside them, the composition model's trees fitted on the training structures' reduced
  formulas (``fit_structures``): they have seen the elements, polymorph-rich compositions and
  literature compounds that SuperCon's entries lack. The expert's T_c is
  ``(1 - share) × entries + share × structures`` (``STRUCTURES_SHARE``), and its spread adds
  the two trees' disagreement to the members': ``sqrt(sd² + share (1 - share) (a - b)²)``, the
  standard deviation of the mixture.
- **Hydride expert**: a random forest on the 175 descriptors of the training structures whose
  atoms are more than ``HYDRIDE_H_FRACTION`` hydrogen; the spread is the standard deviation
  over its trees.
- **Gate**: the hydrogen fraction of the structure's cell (its element counts).

**Spread**: an expert's own spread (members, trees) says how much its parts disagree, not how
far a structure lies from what they learnt; trees agree with each other far outside their
data, and errors in T_c grow with T_c. So each expert's σ is
``factor × (spread + weight × distance + tc_weight × |T_c|)``, with the distance the
applicability domain measures (``domain.py``: to the nearest training structures in descriptor
space), and the three numbers are set on the validation part (``calibrate``): the two weights,
from grids, are the pair whose σ gives the validation errors the highest normal likelihood (0
where a term does not help), and the factor puts ``CALIBRATION_COVERAGE`` of the validation
labels within ±1σ. So ±1σ means what it says on data the experts did not see, and widens away
from their training data and with the predicted T_c wherever that is what the validation
errors do.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from tcdb.ml.composition_descriptors import COMPOSITION_LABELS, ELEMENT_COUNT_LABELS
from tcdb.ml.composition_descriptors import NUMERICAL_LABELS as LABELS
from tcdb.ml.forest_trees import ForestTrees
from tcdb.ml.structure_experts.parameters import (
    CALIBRATION_COVERAGE,
    CALIBRATION_MIN_ROWS,
    DISTANCE_MIN_ROWS,
    DISTANCE_WEIGHTS,
    MIN_SPREAD_K,
    TC_WEIGHTS,
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


def fit_structures(configuration, X: np.ndarray, y: np.ndarray):
    """The composition model's trees (``configuration.estimator()``) on the training
    structures' 81 composition descriptors."""
    from tcdb.ml.evaluation import fitted_reproducibly

    return fitted_reproducibly(configuration.estimator(), X, y)


def fit_hydride(config, X: np.ndarray, y: np.ndarray):
    """The hydride forest on the 175 descriptors of the H-rich training structures."""
    from sklearn.ensemble import RandomForestRegressor

    from tcdb.ml.evaluation import fitted_reproducibly

    forest = RandomForestRegressor(
        n_estimators=config.hydride_trees,
        max_features=config.hydride_max_features,
        min_samples_leaf=config.hydride_min_leaf,
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
    # expert -> K of σ (before the factor) per unit of descriptor distance (0: none; runs
    # recorded before the distance entered the spread have none)
    distance_weight: dict[str, float] = field(default_factory=dict)
    # The composition model's trees on the training structures' formulas (BoostedTrees or a
    # fitted scikit-learn estimator) and their share of the composition expert's T_c; runs
    # recorded before they entered have none (share 0)
    structures: object | None = None
    structures_share: float = 0.0
    # expert -> K of σ (before the factor) per K of predicted T_c (0: none; runs recorded
    # before this term have none)
    tc_weight: dict[str, float] = field(default_factory=dict)

    def which(self, numerical: np.ndarray) -> np.ndarray:
        """Per row, the expert that predicts it ("composition" or "hydride"; every row goes to
        the composition expert when the training part held too few hydrides for the other)."""
        if self.hydride is None:
            return np.full(len(numerical), EXPERTS[0])
        return np.where(gate(numerical, self.h_fraction), EXPERTS[1], EXPERTS[0])

    def raw(
        self, numerical: np.ndarray, expert: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """T_c, the uncalibrated spread and the expert of each row (``expert``: the rows'
        experts where the caller already has them from ``which``)."""
        expert = self.which(numerical) if expert is None else expert
        tc = np.full(len(numerical), np.nan)
        spread = np.full(len(numerical), np.nan)
        rows = expert == EXPERTS[0]
        if rows.any():
            tc[rows], spread[rows] = self._composition(numerical[rows][:, COMPOSITION_COLUMNS])
        rows = ~rows
        if rows.any():
            each = _tree_predictions(self.hydride, numerical[rows])
            tc[rows], spread[rows] = ForestTrees.mean(each), each.std(axis=0)
        return tc, spread, expert

    def composition_parts(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """On 81 composition descriptors: the entries' members' mean and standard deviation,
        and the structures' trees' T_c (None where the run has none)."""
        each = np.stack([m.predict(X) for m in self.composition])
        structures = self.structures.predict(X) if self.structures is not None else None
        return each.mean(axis=0), each.std(axis=0), structures

    def _composition(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The composition expert's T_c and spread on 81 composition descriptors."""
        return mixture(*self.composition_parts(X), self.structures_share)

    def predict(
        self,
        numerical: np.ndarray,
        distance: np.ndarray | None = None,
        expert: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """T_c (K), its calibrated spread (K, at least ``MIN_SPREAD_K``) and the expert;
        ``distance`` is each row's distance to the training structures of its expert
        (``StructureDomain.distances``), needed where a weight is set."""
        tc, spread, expert = self.raw(numerical, expert)
        return tc, self.sigma(spread, expert, distance, tc), expert

    def sigma(
        self,
        spread: np.ndarray,
        expert: np.ndarray,
        distance: np.ndarray | None,
        tc: np.ndarray,
    ) -> np.ndarray:
        """``factor × (spread + weight × distance + tc_weight × |T_c|)`` per row, at least
        ``MIN_SPREAD_K``."""
        factor = np.array([self.scale[e] for e in expert], dtype=float)
        weight = np.array([self.distance_weight.get(e, 0.0) for e in expert], dtype=float)
        per_tc = np.array([self.tc_weight.get(e, 0.0) for e in expert], dtype=float)
        widening = per_tc * np.abs(np.asarray(tc, dtype=float))
        if (weight > 0).any():
            if distance is None:
                raise ValueError("this run's spread widens with distance: pass the distances")
            widening += weight * np.nan_to_num(np.asarray(distance, dtype=float), nan=np.inf)
        return np.maximum(factor * (spread + widening), MIN_SPREAD_K)


def mixture(
    entries: np.ndarray, members: np.ndarray, structures: np.ndarray | None, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """The composition expert's T_c, ``(1 - share) × entries + share × structures``, and its
    spread, the mixture's standard deviation ``sqrt(members² + share (1 - share) (a - b)²)``
    (the entries' alone where there are no structures' trees or no share)."""
    if structures is None or share == 0.0:
        return entries, members
    tc = (1 - share) * entries + share * structures
    return tc, np.sqrt(members**2 + share * (1 - share) * (entries - structures) ** 2)


def factor_and_likelihood(error: np.ndarray, base: np.ndarray) -> tuple[float, float]:
    """For σ = factor × ``base``: the factor that puts ``CALIBRATION_COVERAGE`` of the
    ``error``s within ±1σ, and the mean normal negative log-likelihood of the errors under
    that σ (at least ``MIN_SPREAD_K``); NaN where no positive factor exists."""
    factor = float(np.quantile(error / base, CALIBRATION_COVERAGE))
    if not (math.isfinite(factor) and factor > 0):
        return math.nan, math.nan
    sigma = np.maximum(factor * base, MIN_SPREAD_K)
    return factor, float(np.mean(np.log(sigma) + 0.5 * (error / sigma) ** 2))


def weight_unit(spread: np.ndarray, other: np.ndarray) -> float:
    """The median spread per median ``other``: a weight's unit (0 where ``other`` is 0)."""
    middle = float(np.median(other))
    return float(np.median(spread)) / middle if middle > 0 else 0.0


def _tree_predictions(forest, X: np.ndarray) -> np.ndarray:
    """(trees, n): every tree's T_c, from stored arrays or a fitted scikit-learn forest."""
    if hasattr(forest, "predict_trees"):
        return forest.predict_trees(X)[:, :, 0]
    rounded = np.asarray(X, dtype=np.float32)
    return np.stack([tree.predict(rounded) for tree in forest.estimators_])


def calibrate(
    experts: Experts, numerical: np.ndarray, y: np.ndarray, distance: np.ndarray
) -> dict[str, dict]:
    """Set each expert's distance weight, T_c weight and spread factor from the validation
    rows it predicts (``distance``: theirs to the expert's training structures).

    For each pair of weights from ``DISTANCE_WEIGHTS`` and ``TC_WEIGHTS`` (in units of the
    expert's median spread per median distance and per median |T_c|, so the grids fit any
    expert), the factor is the ``CALIBRATION_COVERAGE`` quantile of |error| / (spread +
    weight × distance + tc_weight × |T_c|), so that share lies within ±1σ; the pair kept is
    the one whose σ gives the errors the lowest mean normal negative log-likelihood (the
    smaller weights on a tie). With fewer than ``DISTANCE_MIN_ROWS`` rows only the factor is
    set; with fewer than ``CALIBRATION_MIN_ROWS`` the weights stay 0 and the factor 1 (said
    in the result)."""
    tc, spread, expert = experts.raw(numerical)
    result = {}
    for name in EXPERTS:
        rows = (expert == name) & np.isfinite(tc) & np.isfinite(y) & np.isfinite(distance)
        n = int(rows.sum())
        experts.scale[name], experts.distance_weight[name] = 1.0, 0.0
        experts.tc_weight[name] = 0.0
        uncalibrated = {"n": n, "factor": 1.0, "distance_weight": 0.0, "tc_weight": 0.0,
                        "calibrated": False}  # fmt: skip
        if n < CALIBRATION_MIN_ROWS:
            result[name] = uncalibrated
            continue
        error = np.abs(y[rows] - tc[rows])
        s, d, t = np.maximum(spread[rows], MIN_SPREAD_K), distance[rows], np.abs(tc[rows])
        unit = weight_unit(s, d)
        per_tc = weight_unit(s, t)
        grid = [(0.0, 0.0)]
        if n >= DISTANCE_MIN_ROWS:
            grid = [(a, b) for a in DISTANCE_WEIGHTS for b in TC_WEIGHTS]
        trials = []
        for relative, relative_tc in grid:
            base = s + relative * unit * d + relative_tc * per_tc * t
            factor, nll = factor_and_likelihood(error, base)
            if math.isnan(factor):
                continue
            trials.append({"relative_weight": relative, "weight": relative * unit,
                           "relative_tc_weight": relative_tc, "tc_weight": relative_tc * per_tc,
                           "factor": factor, "nll": nll})  # fmt: skip
        if not trials:
            result[name] = uncalibrated
            continue
        best = min(trials, key=lambda t: (t["nll"], t["relative_weight"], t["relative_tc_weight"]))
        experts.scale[name], experts.distance_weight[name] = best["factor"], best["weight"]
        experts.tc_weight[name] = best["tc_weight"]
        result[name] = {"n": n, "factor": best["factor"], "distance_weight": best["weight"],
                        "relative_distance_weight": best["relative_weight"],
                        "tc_weight": best["tc_weight"],
                        "relative_tc_weight": best["relative_tc_weight"],
                        "calibrated": True, "trials": trials}  # fmt: skip
    log.info(
        "spread factors: %s",
        ", ".join(
            f"{k} {v['factor']:.2f} × (spread + {v['distance_weight']:.3g} × distance + "
            f"{v['tc_weight']:.3g} × T_c) (n {v['n']})"
            for k, v in result.items()
        ),
    )
    return result
