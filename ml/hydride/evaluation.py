"""Three error figures of the hydride models, each named by its protocol and computed for the
network, the linear baseline and a random forest on the same rows.

- ``in-sample``: each model fitted on every point and scored on the same points. This is what
  the paper's 33.7 K measures for its ensemble mean; it says how closely a model follows its
  data, not how well it predicts new hydrides (a forest nearly memorises).
- ``random-folds``: ``outer_folds`` shuffled folds; every point predicted by models that never
  saw it.
- ``grouped-by-composition``: ``outer_folds`` folds grouped by formula EH_n, so no formula is
  both trained and tested: the same hydride at another pressure cannot leak its answer.

In the two out-of-fold protocols the network's hyper-parameters are chosen by an inner search
inside each outer training part (``ml.hydride.search``), and each fold's network is an
ensemble of ``evaluation_members`` members, each on a random (1 − ``validation_fraction``) of
that part, trained for the chosen epochs: the deployed procedure, repeated per fold. The forest
(``forest_trees`` trees, ``forest_min_leaf`` points per leaf, fixed a priori) and ordinary least
squares are refitted on the same training parts.

Each prediction of the network and the forest comes with a spread (the standard deviation over
the fold ensemble's members, or over the forest's trees), and ``coverage`` says how often the
label lies within one and two of them: whether the spread printed beside a screened T_c means
what it seems to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from tcdb.ml.evaluation import Split, fitted_reproducibly
from tcdb.ml.hydride.ensemble import HydrideMLPConfig, Hyperparameters, build_model
from tcdb.ml.tensorflow_runtime import seed_everything

logger = logging.getLogger(__name__)

MODELS = ("network", "linear", "forest")


def fold_ensembles(
    x: np.ndarray,
    y: np.ndarray,
    splits: Sequence[Split],
    choices: Sequence[Hyperparameters],
    config: HydrideMLPConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) scaled predictions of every test row by its fold's ensemble, and (n, 2) their
    spread over the fold's members (NaN where untested).

    The folds' members train together, one model per batch size among the choices.
    """
    from tcdb.ml.hydride.members import MemberPlan, train_members

    n = len(y)
    predicted = np.full((n, 2), np.nan)
    spread = np.full((n, 2), np.nan)
    rng = np.random.default_rng([config.seed, 1])
    share = 1 - config.validation_fraction
    masks = []
    for train_rows, _ in splits:
        keep = max(1, round(share * len(train_rows)))
        member_masks = np.zeros((config.evaluation_members, n), dtype=bool)
        for member in member_masks:
            member[rng.permutation(train_rows)[:keep]] = True
        masks.append(member_masks)
    for batch in sorted({c.batch_size for c in choices}):
        folds = [f for f, c in enumerate(choices) if c.batch_size == batch]
        train = np.concatenate([masks[f] for f in folds])
        members = len(train)
        repeat = config.evaluation_members
        plan = MemberPlan(
            train=train,
            validation=np.zeros_like(train),
            learning_rate=np.repeat([choices[f].learning_rate for f in folds], repeat),
            l2=np.repeat([choices[f].l2 for f in folds], repeat),
            epochs=np.repeat([choices[f].epochs for f in folds], repeat),
            batch_size=batch,
        )
        seed_everything(config.seed)
        model = build_model(config, x.shape[1], members)
        train_members(model, plan, x, y, seed=config.seed, record_errors=False)
        outputs = model(x.astype(np.float32)).numpy().astype(float)
        for position, fold in enumerate(folds):
            test = splits[fold][1]
            mine = outputs[position * repeat : (position + 1) * repeat]
            predicted[test] = mine[:, test].mean(axis=0)
            spread[test] = mine[:, test].std(axis=0)
    return predicted, spread


def forest(config: HydrideMLPConfig):
    """The tree-ensemble baseline (scikit-learn), both targets at once."""
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(
        n_estimators=config.forest_trees,
        min_samples_leaf=config.forest_min_leaf,
        random_state=config.seed,
        n_jobs=2,
    )


def linear():
    """Ordinary least squares, the paper's baseline."""
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def baseline_predictions(
    X: np.ndarray, y: np.ndarray, splits: Sequence[Split], config: HydrideMLPConfig
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Out-of-fold (n, 2) predictions of the linear and forest baselines in K and GPa, each
    with its spread: the standard deviation over the forest's trees, None for least
    squares."""
    from tcdb.ml.hydride.forest import tree_spread

    found = {}
    for name, make in (("linear", linear), ("forest", lambda: forest(config))):
        predicted = np.full(y.shape, np.nan)
        spread = np.full(y.shape, np.nan) if name == "forest" else None
        for train, test in splits:
            fitted = fitted_reproducibly(make(), X[train], y[train])
            predicted[test] = fitted.predict(X[test])
            if spread is not None:
                spread[test] = tree_spread(fitted, X[test])
        found[name] = (predicted, spread)
    return found


def in_sample_baselines(X: np.ndarray, y: np.ndarray, config: HydrideMLPConfig) -> dict:
    """The baselines fitted on every point: their predictions of those points, and the fits."""
    fits = {
        "linear": fitted_reproducibly(linear(), X, y),
        "forest": fitted_reproducibly(forest(config), X, y),
    }
    return {name: (model.predict(X), model) for name, model in fits.items()}


def coverage(
    y: np.ndarray, predicted: np.ndarray, spread: np.ndarray, prefixes: Sequence[str]
) -> dict[str, float]:
    """Per target, the share of labels within ±1 and ±2 spreads of the prediction
    (``<prefix>_within_1sd``, ``<prefix>_within_2sd``; ``ml.metrics.coverage``), over the rows
    the errors are scored on (none of the targets, predictions or spreads NaN). A spread that
    is a standard deviation of normal errors would cover 68 % and 95 %."""
    from tcdb.ml import metrics

    y, predicted, spread = (np.asarray(a, dtype=float) for a in (y, predicted, spread))
    keep = ~(np.isnan(y) | np.isnan(predicted) | np.isnan(spread)).any(axis=1)
    found = {}
    for column, prefix in enumerate(prefixes):
        shares = metrics.coverage(y[keep, column], predicted[keep, column], spread[keep, column])
        for k in (1, 2):
            found[f"{prefix}_within_{k}sd"] = shares.get(f"within_{k}_sigma", np.nan)
    return found
