"""Regression metrics of every model: RMSE, MAE, R² and the number of rows they cover, and
the coverage of a spread (``coverage``).

Why one module: each model used to compute its own (two through scikit-learn, one by hand),
so the same figure could be defined three ways. Rows where the truth or the prediction is NaN
(a point no validation split held out, a structure that could not be featurised) are left out
and ``n`` says how many remained, so a figure always states what it was computed on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def regression(
    y_true: np.ndarray, y_pred: np.ndarray, *, prefix: str = "", unit: str = "_K"
) -> dict[str, float]:
    """``{prefix}rmse{unit}``, ``{prefix}mae{unit}``, ``{prefix}r2`` and ``n`` of one target.

    R² is 1 − SSE/SST; it is NaN when the kept truths do not vary (SST = 0) or no row is left.
    """
    truth = np.asarray(y_true, dtype=float).reshape(-1)
    guess = np.asarray(y_pred, dtype=float).reshape(-1)
    if truth.shape != guess.shape:
        raise ValueError(f"{truth.size} true values but {guess.size} predictions")
    keep = ~(np.isnan(truth) | np.isnan(guess))
    return {**_scores(truth[keep], guess[keep], prefix, unit), "n": int(keep.sum())}


def regression_targets(
    y_true: np.ndarray, y_pred: np.ndarray, prefixes: Sequence[str], unit: str = ""
) -> dict[str, float]:
    """The same metrics for several targets (columns) at once, over the rows where no column
    is NaN, so every target's figure covers the same ``n`` rows. Keys: ``<prefix>_rmse`` …"""
    width = len(prefixes)
    truth = np.asarray(y_true, dtype=float).reshape(-1, width)
    guess = np.asarray(y_pred, dtype=float).reshape(-1, width)
    if truth.shape != guess.shape:
        raise ValueError(f"{len(truth)} true rows but {len(guess)} predicted rows")
    keep = ~(np.isnan(truth).any(axis=1) | np.isnan(guess).any(axis=1))
    scores: dict[str, float] = {}
    for column, prefix in enumerate(prefixes):
        scores.update(_scores(truth[keep, column], guess[keep, column], f"{prefix}_", unit))
    scores["n"] = int(keep.sum())
    return scores


def _scores(truth: np.ndarray, guess: np.ndarray, prefix: str, unit: str) -> dict[str, float]:
    names = (f"{prefix}rmse{unit}", f"{prefix}mae{unit}", f"{prefix}r2")
    if truth.size == 0:
        return dict.fromkeys(names, math.nan)
    error = guess - truth
    spread = float(np.sum((truth - truth.mean()) ** 2))
    return {
        names[0]: float(np.sqrt(np.mean(error**2))),
        names[1]: float(np.mean(np.abs(error))),
        names[2]: 1.0 - float(np.sum(error**2)) / spread if spread > 0 else math.nan,
    }


def coverage(y: np.ndarray, predicted: np.ndarray, std: np.ndarray) -> dict[str, Any]:
    """How honest a spread is: the share of labels within ±1σ and ±2σ of the prediction
    (0.683 and 0.954 for calibrated normal errors) and the mean spread, over the rows that
    have a prediction, a label and a spread."""
    y, predicted, std = (np.asarray(a, dtype=float) for a in (y, predicted, std))
    has = np.isfinite(std) & np.isfinite(predicted) & np.isfinite(y)
    if not has.any():
        return {"n": 0}
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero spread claims certainty
        z = np.abs(y[has] - predicted[has]) / std[has]
    z = np.where(np.isnan(z), 0.0, z)  # exactly right with a zero spread: within any σ
    return {
        "n": int(has.sum()),
        "within_1_sigma": float(np.mean(z <= 1)),
        "within_2_sigma": float(np.mean(z <= 2)),
        "expected_normal": {"within_1_sigma": 0.683, "within_2_sigma": 0.954},
        "mean_std_K": float(np.mean(std[has])),
    }
