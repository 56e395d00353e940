"""Choosing how the hydride network trains, by an inner cross-validation inside a training set.

Why: with about a hundred points, the learning rate, L2 strength, batch size and length of
training decide whether the network underfits or memorises, and the paper gives none of them.
They are chosen here on the training set alone: its points are cut into ``inner_folds`` folds;
for every grid point (learning rate × L2, for each batch size) and fold, ``inner_members``
members each train on a random share (1 − ``validation_fraction``) of the other folds, as the
deployed ensemble's members do, and their mean predicts the held-out fold after every
``checkpoint_every`` epochs. The choice is the grid point and epoch count whose pooled
held-out error |(ΔT_c, ΔP)|² (scaled units) is lowest. Scoring the mean of a few members rather
than one member judges what is deployed: an average of members overfits less than each of them.

Several training sets (the whole data for the model that is kept, and every outer fold of the
nested estimates) are searched in one call, so all their members train together.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcdb.ml.hydride.ensemble import HydrideMLPConfig, Hyperparameters, build_model
from tcdb.ml.tensorflow_runtime import seed_everything

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchResult:
    """The choice for one training set, its inner score, and every candidate's best score."""

    chosen: Hyperparameters
    score: float  # pooled inner held-out mean of |(ΔT_c, ΔP)|², scaled units
    candidates: list[dict]  # per grid point: its best epochs and score, and its score curve
    checkpoints: tuple[int, ...]

    def as_dict(self) -> dict:
        return {
            "chosen": self.chosen.as_dict(),
            "inner_score": self.score,
            "checkpoints": list(self.checkpoints),
            "candidates": self.candidates,
        }


def checkpoints(config: HydrideMLPConfig) -> tuple[int, ...]:
    """The epoch counts at which the inner ensembles are scored (the last is max_epochs)."""
    marks = set(range(config.checkpoint_every, config.max_epochs + 1, config.checkpoint_every))
    return tuple(sorted(marks | {config.max_epochs}))


def inner_layout(
    training_sets: Sequence[np.ndarray], n: int, config: HydrideMLPConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members of one grid point: (train (M, n), held-out (M, n), [set, fold] (M, 2)).

    Seeded by ``config.seed`` and the set's position, so the same data give the same folds.
    """
    from sklearn.model_selection import KFold

    train, held, owner = [], [], []
    for number, rows in enumerate(training_sets):
        rows = np.asarray(rows)
        rng = np.random.default_rng([config.seed, number])
        folds = KFold(config.inner_folds, shuffle=True, random_state=config.seed + number)
        for fold, (inner_train, inner_test) in enumerate(folds.split(rows)):
            keep = max(1, round((1 - config.validation_fraction) * len(inner_train)))
            for _ in range(config.inner_members):
                chosen = np.zeros(n, dtype=bool)
                chosen[rng.permutation(rows[inner_train])[:keep]] = True
                tested = np.zeros(n, dtype=bool)
                tested[rows[inner_test]] = True
                train.append(chosen)
                held.append(tested)
                owner.append((number, fold))
    return np.array(train), np.array(held), np.array(owner)


def search(
    x: np.ndarray,
    y: np.ndarray,
    training_sets: Sequence[np.ndarray],
    config: HydrideMLPConfig,
) -> list[SearchResult]:
    """The inner-CV choice for each training set (row indices into scaled ``x``, ``y``)."""
    from tcdb.ml.hydride.members import MemberPlan, train_members

    marks = checkpoints(config)
    grid = list(itertools.product(config.learning_rates, config.l2_values))
    train, held, owner = inner_layout(training_sets, len(y), config)
    per_point = len(train)
    # errors[set][(lr, l2, batch)] = pooled held-out error at each checkpoint
    errors: list[dict[tuple, np.ndarray]] = [{} for _ in training_sets]
    for batch in config.batch_sizes:
        members = per_point * len(grid)
        plan = MemberPlan(
            train=np.tile(train, (len(grid), 1)),
            validation=np.tile(held, (len(grid), 1)),
            learning_rate=np.repeat([lr for lr, _ in grid], per_point),
            l2=np.repeat([l2 for _, l2 in grid], per_point),
            epochs=np.full(members, config.max_epochs),
            batch_size=batch,
        )
        seed_everything(config.seed)
        model = build_model(config, x.shape[1], members)
        logger.info(
            "inner search: %d members (%d training sets × %d grid points × %d folds × %d), "
            "%s, up to %d epochs",
            members, len(training_sets), len(grid), config.inner_folds, config.inner_members,
            f"batches of {batch}" if batch else "full batch", config.max_epochs,
        )  # fmt: skip
        history = train_members(
            model, plan, x, y, seed=config.seed, checkpoints=marks, record_errors=False
        )
        predictions = history.predictions.reshape(len(marks), len(grid), per_point, len(y), 2)
        for g, (lr, l2) in enumerate(grid):
            for number in range(len(training_sets)):
                errors[number][(lr, l2, batch)] = _pooled_errors(
                    predictions[:, g], y, held, owner, number
                )
    return [_choose(found, marks) for found in errors]


def _pooled_errors(
    predictions: np.ndarray, y: np.ndarray, held: np.ndarray, owner: np.ndarray, number: int
) -> np.ndarray:
    """Per checkpoint: the mean over every inner held-out point of one training set of the
    squared error of its fold's member mean. ``predictions`` (checkpoints, M, n, 2)."""
    squared = []
    for fold in np.unique(owner[owner[:, 0] == number, 1]):
        mine = (owner[:, 0] == number) & (owner[:, 1] == fold)
        points = held[np.flatnonzero(mine)[0]]
        mean = predictions[:, mine][:, :, points].mean(axis=1)  # (checkpoints, points, 2)
        squared.append(((mean - y[points][None]) ** 2).sum(axis=-1))
    return np.concatenate(squared, axis=1).mean(axis=1)


def _choose(found: dict[tuple, np.ndarray], marks: tuple[int, ...]) -> SearchResult:
    """The grid point and checkpoint with the lowest pooled error (ties: the earlier listed)."""
    candidates = []
    best: tuple[float, Hyperparameters] | None = None
    for (lr, l2, batch), curve in found.items():
        at = int(np.argmin(curve))
        candidate = Hyperparameters(lr, l2, batch, marks[at])
        candidates.append(
            candidate.as_dict() | {"inner_score": float(curve[at]), "curve": curve.tolist()}
        )
        if best is None or curve[at] < best[0]:
            best = (float(curve[at]), candidate)
    assert best is not None
    return SearchResult(best[1], best[0], candidates, marks)
