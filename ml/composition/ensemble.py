"""The composition model's trees: hyper-parameters chosen by inner validation, k members, a spread.

Why: one tree model with fixed settings gives neither a choice of settings that was checked
nor an uncertainty. ``fit_ensemble`` sees only the rows it is given (an outer training fold, or
every composition for the final model) and

1. splits them into ``members`` folds grouped by composition (seeded);
2. fits each candidate of the grid (leaves x minimum leaf size; LightGBM's histogram boosting,
   about twice as fast per fit as scikit-learn's on these 313 columns) on all folds but the
   first, stopping early on the first fold's loss (each model keeps its best round), and
   keeps the candidate with the lowest validation RMSE: the chosen settings and iteration
   count are recorded;
3. fits one member per fold with the chosen settings, each stopping early on its own held-out
   fold (the winning search fit is member 0): the prediction is the members' mean. The
   candidates, and then the members, are fitted ``parallel_fits`` at a time, each on its share
   of the cores: one LightGBM fit of ~9,000 rows keeps only ~1.4 of 2 cores busy;
4. fits a small scale model to the members' held-out absolute errors |r| (each row predicted by
   the member that did not see it), times sqrt(pi/2) so that for normal errors it estimates the
   standard deviation: that is the spread ``tc_std_K``.

Nothing here sees rows it is not given, so under cross-validation the outer test fold never
enters the search, the early stopping or the scale. With ``method="fixed"`` the members are
Hamidieh's fixed trees (``CompositionModelConfig.estimator()``) and only steps 1, 3 and 4 run;
with one member there is no inner split and no spread.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

from tcdb.ml.boosted_trees import BoostedTrees, is_booster
from tcdb.ml.evaluation import group_codes

log = logging.getLogger(__name__)

SCALE_SETTINGS = {"learning_rate": 0.1, "max_iter": 60, "max_leaf_nodes": 15,
                  "min_samples_leaf": 50}  # fmt: skip
MIN_SPREAD_K = 0.1  # the scale model's floor: no prediction is claimed exact


@dataclass
class EnsembleFit:
    """Fitted members and scale model, and what the inner search chose."""

    members: list[Any]  # LightGBM boosters (search) or HistGradientBoostingRegressor (fixed)
    scale: Any | None
    chosen: dict[str, Any] = field(default_factory=dict)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean of the members and the spread (NaN without a scale model)."""
        mean = sum(m.predict(X) for m in self.members) / len(self.members)
        return mean, spread(self.scale.predict(X) if self.scale is not None else None, len(X))

    def models(self) -> dict[str, Any]:
        """Every fitted model by the name it is stored under: ``member_i`` and ``scale``."""
        named = {f"member_{i}": m for i, m in enumerate(self.members)}
        return named | ({"scale": self.scale} if self.scale is not None else {})


def spread(scale_output: np.ndarray | None, n: int) -> np.ndarray:
    """The scale model's output as a standard deviation (floored), NaN without one."""
    if scale_output is None:
        return np.full(n, np.nan)
    return np.maximum(scale_output, MIN_SPREAD_K)


def lightgbm_parameters(config, leaves: int, min_leaf: int) -> dict[str, Any]:
    """A searched candidate's LightGBM settings (squared error, deterministic on any number
    of threads). ``max_features`` is LightGBM's share of columns per tree."""
    return {
        "objective": "regression",
        "learning_rate": config.search_learning_rate,
        "num_leaves": leaves,
        "min_data_in_leaf": min_leaf,
        "feature_fraction": config.max_features,
        "lambda_l2": config.l2_regularization,
        "max_bin": config.max_bins,
        "seed": config.seed,
        "num_threads": fit_threads(config),
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
    }


def _searched_member(config, leaves: int, min_leaf: int, X, y, train, held):
    """One LightGBM model on ``train``, stopped when ``held``'s loss has not improved for
    ``search_patience`` rounds; it predicts with its best round."""
    import lightgbm

    parameters = lightgbm_parameters(config, leaves, min_leaf)
    fitted = lightgbm.Dataset(X[train], y[train], params=parameters)  # bins as it trains
    validated = lightgbm.Dataset(X[held], y[held], reference=fitted)
    stop = lightgbm.early_stopping(config.search_patience, first_metric_only=True, verbose=False)
    return lightgbm.train(parameters, fitted, num_boost_round=config.search_max_iter,
                          valid_sets=[validated], callbacks=[stop])  # fmt: skip


def fit_threads(config) -> int:
    """Threads per LightGBM fit: the process's cores shared by ``parallel_fits`` fits."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, config.parallel_fits))


def _at_once(config, fits: list[Callable[[], Any]]) -> list[Any]:
    """Run independent fits ``parallel_fits`` at a time (LightGBM trains outside the GIL);
    the results in the order given, whatever order they finish in. Hamidieh's fixed trees
    (scikit-learn) already use every core, so they run one at a time."""
    if config.method == "fixed" or config.parallel_fits <= 1 or len(fits) <= 1:
        return [fit() for fit in fits]
    with ThreadPoolExecutor(max_workers=config.parallel_fits) as pool:
        return list(pool.map(lambda fit: fit(), fits))


def iterations(model) -> int:
    """Boosting rounds a fitted model predicts with."""
    if hasattr(model, "best_iteration"):
        return int(model.best_iteration or model.current_iteration())
    return int(model.n_iter_)


def _inner_folds(n_members: int, groups: np.ndarray, seed: int) -> list[np.ndarray]:
    from sklearn.model_selection import GroupKFold

    folds = GroupKFold(n_splits=n_members, shuffle=True, random_state=seed)
    return [test for _, test in folds.split(np.zeros(len(groups)), groups=group_codes(groups))]


def fit_ensemble(config, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> EnsembleFit:
    """Search, members and scale on exactly these rows (see the module docstring)."""
    if config.members == 1:
        model = config.estimator().fit(X, y)
        return EnsembleFit([model], None, {"method": config.method, "members": 1})
    folds = _inner_folds(config.members, groups, config.seed)
    every = np.arange(len(y))
    held0 = folds[0]
    train0 = np.setdiff1d(every, held0)
    chosen: dict[str, Any] = {"method": config.method, "members": config.members}
    if config.method == "fixed":

        def fit(train, held):
            return config.estimator().fit(X[train], y[train])

        first = fit(train0, held0)
    else:
        grid = list(product(config.search_leaves, config.search_min_leaf))
        fitted = _at_once(config, [lambda c=c: _searched_member(config, *c, X, y, train0, held0)
                                   for c in grid])  # fmt: skip
        trials = []
        for (leaves, min_leaf), model in zip(grid, fitted, strict=True):
            rmse = float(np.sqrt(np.mean((model.predict(X[held0]) - y[held0]) ** 2)))
            trials.append((rmse, leaves, min_leaf, model))
            log.info("inner search: %d leaves, min leaf %d: RMSE %.2f K after %d iterations",
                     leaves, min_leaf, rmse, iterations(model))  # fmt: skip
        rmse, leaves, min_leaf, first = min(trials, key=lambda t: t[0])
        chosen |= {"max_leaf_nodes": leaves, "min_samples_leaf": min_leaf,
                   "learning_rate": config.search_learning_rate, "inner_rmse_K": rmse,
                   "trials": [{"max_leaf_nodes": t[1], "min_samples_leaf": t[2],
                               "rmse_K": t[0], "iterations": iterations(t[3])}
                              for t in trials]}  # fmt: skip

        def fit(train, held):
            return _searched_member(config, leaves, min_leaf, X, y, train, held)

    others = [lambda h=held: fit(np.setdiff1d(every, h), h) for held in folds[1:]]
    members = [first, *_at_once(config, others)]
    residual = np.empty(len(y))
    for model, held in zip(members, folds, strict=True):
        residual[held] = model.predict(X[held]) - y[held]
    if config.method != "fixed":
        chosen["iterations"] = [iterations(m) for m in members]
    scale = _scale_model(config.seed).fit(X, np.abs(residual) * math.sqrt(math.pi / 2))
    chosen["inner_out_of_fold_rmse_K"] = float(np.sqrt(np.mean(residual**2)))
    return EnsembleFit(members, scale, chosen)


def _scale_model(seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(**SCALE_SETTINGS, early_stopping=False,
                                         random_state=seed)  # fmt: skip


@dataclass(frozen=True)
class StoredEnsemble:
    """An ensemble loaded back: members (LightGBM boosters read from LightGBM's text format,
    or trees as arrays) and an optional scale model (arrays: it is scikit-learn's)."""

    members: tuple[Any, ...]  # lightgbm.Booster or BoostedTrees
    scale: BoostedTrees | None = None

    def n_features(self) -> set[int]:
        """The number of columns each model reads (one value when they agree)."""
        return {m.num_feature() if is_booster(m) else m.n_features
                for m in (*self.members, *([self.scale] if self.scale else []))}  # fmt: skip

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The members' mean (exactly the member's floats for a one-member run)."""
        return sum(m.predict(X) for m in self.members) / len(self.members)

    def spread(self, X: np.ndarray) -> np.ndarray:
        """Standard deviation of the prediction; NaN without a scale model."""
        return spread(self.scale.predict(X) if self.scale is not None else None, len(X))


def calibration(y: np.ndarray, predicted: np.ndarray, std: np.ndarray) -> dict[str, Any]:
    """How honest the spread is (``ml.metrics.coverage``)."""
    from tcdb.ml.metrics import coverage

    return coverage(y, predicted, std)
