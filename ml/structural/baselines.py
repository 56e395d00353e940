"""The baselines a structural run is compared with, fitted and scored on that run's own split.

Why: a structural model's r² says little alone. On a random split polymorphs of one
composition sit on both sides, so a model that only reads the composition can score well too;
the question the structural model answers is whether the structure adds anything. Each
baseline here is fitted without the rows the run's validation and test parts hold, and
predicts exactly the rows the run is scored on (test under ``grouped``, the 20 % under
``paper``):

- ``composition_structures``: the composition model's estimator (its configuration's
  ``estimator()``, Hamidieh's gradient-boosted trees, under the composition profile
  ``CVCNNConfig.baseline_trees`` names) on the 81 composition descriptors of the training
  structures' reduced formulas. The composition model is found by name among the registered
  models (``FitContext.models``), never imported: the model packages stay independent;
- ``composition_supercon``: the same estimator on every SuperCon entry of the snapshot whose
  composition is in neither the validation nor the test part (same reduced formula, or the
  material a held-out structure takes its label from): the composition model as users have
  it, which sees far more compositions than there are structures;
- ``ridge_descriptors``: ridge regression on the standardised 175 numerical descriptors of the
  training structures;
- ``forest_descriptors``: a random forest on the same descriptors.

Settings: ``ml.structural.parameters.StructuralBaselineParameters`` (recorded with the run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tcdb.ml.composition_descriptors import composition_matrix
from tcdb.ml.contract import FitContext, Model
from tcdb.ml.evaluation import Parts, fitted_reproducibly
from tcdb.ml.model_names import COMPOSITION
from tcdb.ml.structural.parameters import STRUCTURAL_BASELINES, StructuralBaselineParameters
from tcdb.ml.structure_splits import formula_compositions, held_out_entries
from tcdb.store.snapshots import Snapshot

log = logging.getLogger(__name__)

BASELINES: dict[str, str] = {
    "composition_structures": "Hamidieh's gradient-boosted trees on the 81 composition "
    "descriptors of the training structures",
    "composition_supercon": "Hamidieh's gradient-boosted trees on the 81 composition "
    "descriptors of every SuperCon entry of the snapshot whose composition is in neither "
    "the validation nor the test part",
    "ridge_descriptors": "ridge regression on the 175 standardised numerical descriptors of "
    "the training structures",
    "forest_descriptors": "a random forest on the 175 numerical descriptors of the training "
    "structures",
}


@dataclass(frozen=True)
class BaselineResult:
    """One baseline's predictions of the scored rows (NaN where it has no input for a row)
    and what it was fitted on."""

    predicted: np.ndarray
    fitted_on: str
    n_fit: int


def baseline_trees(models: Callable[[str], Model] | None, profile: str, seed: int) -> Any:
    """The composition model's configuration under its profile ``profile`` with ``seed``, found
    among the registered models; its ``estimator()`` makes the trees of both composition
    baselines. A profile the composition model does not have is refused in one sentence."""
    return FitContext(models=models).configured(COMPOSITION, profile, seed, "baseline_trees")


def _fit_predict(
    estimator,
    X: np.ndarray,
    y: np.ndarray,
    fit_rows: np.ndarray,
    predict_rows: np.ndarray,
    usable: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Fit on the usable ``fit_rows`` (on every core, ``fitted_reproducibly``), predict the
    usable ``predict_rows`` (NaN for the rest)."""
    fit_rows = fit_rows[usable[fit_rows]]
    fitted_reproducibly(estimator, X[fit_rows], y[fit_rows])
    predicted = np.full(len(predict_rows), np.nan)
    keep = usable[predict_rows]
    if keep.any():
        predicted[keep] = estimator.predict(X[predict_rows[keep]])
    return predicted, len(fit_rows)


def baseline_predictions(
    snapshot: Snapshot,
    structures: pd.DataFrame,
    numerical: np.ndarray,
    y: np.ndarray,
    parts: Parts,
    seed: int,
    trees: Any,
    parameters: StructuralBaselineParameters = STRUCTURAL_BASELINES,
    protocol=None,
) -> dict[str, BaselineResult]:
    """Every baseline fitted without the validation and test rows and predicting the scored
    part's rows. ``structures``, ``numerical`` and ``y`` are aligned with the parts' indices;
    ``trees`` is the composition model's configuration (``baseline_trees``) whose
    ``estimator()`` both composition baselines fit; ``protocol`` (the split's) keeps the
    SuperCon baseline's entries to what that protocol allows."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    structures = structures.reset_index(drop=True)
    y = np.asarray(y, dtype=float)
    scored = parts.rows(parts.scored)
    held = np.concatenate(list(parts.evaluated().values()))
    batch = composition_matrix(formula_compositions(list(structures["reduced_formula"])))
    results: dict[str, BaselineResult] = {}

    predicted, n_fit = _fit_predict(trees.estimator(), batch.X, y, parts.train, scored,
                                    batch.valid)  # fmt: skip
    results["composition_structures"] = BaselineResult(
        predicted, "training structures' reduced formulas", n_fit
    )
    X_entries, y_entries, n_left_out = held_out_entries(snapshot, structures, held, protocol)
    model = trees.estimator().fit(X_entries, y_entries)
    predicted = np.full(len(scored), np.nan)
    valid = batch.valid[scored]
    if valid.any():
        predicted[valid] = model.predict(batch.X[scored[valid]])
    results["composition_supercon"] = BaselineResult(
        predicted,
        f"SuperCon entries of the snapshot ({n_left_out} left out: their composition is in "
        "the validation or test part)",
        len(y_entries),
    )
    every = np.ones(len(y), dtype=bool)
    ridge = make_pipeline(StandardScaler(), Ridge(alpha=parameters.ridge_alpha))
    predicted, n_fit = _fit_predict(ridge, numerical, y, parts.train, scored, every)
    results["ridge_descriptors"] = BaselineResult(predicted, "training structures", n_fit)
    forest = RandomForestRegressor(
        n_estimators=parameters.forest_trees,
        max_features=parameters.forest_max_features,
        min_samples_leaf=parameters.forest_min_samples_leaf,
        random_state=seed,
        n_jobs=-1,  # every tree's seed is drawn before they are built: the same trees
    )
    predicted, n_fit = _fit_predict(forest, numerical, y, parts.train, scored, every)
    results["forest_descriptors"] = BaselineResult(predicted, "training structures", n_fit)
    return results
