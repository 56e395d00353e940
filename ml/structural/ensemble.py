"""Several structural networks trained on one split, so every prediction has a spread.

Why: one network gives a number with nothing to say how far to trust it; the hydride model
already stores a spread over its members (``prediction.tc_std_K``). Here member k is the same
network trained on the run's one split from initial weights and shuffling seeded
with ``config.seed + k``, each keeping its own best-validation epoch. Member 0 is exactly the
single network a one-member run trains, so ``model.keras`` is member 0 in every run and runs
made before ensembles load unchanged.

The spread is the standard deviation over members (population form, as the hydride ensemble).
A one-member run has no spread: it is NaN here and NULL in the database, never 0, because a
single network says nothing about its own uncertainty and 0 would read as certainty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def member_file(k: int, stem: str = "model", suffix: str = ".keras") -> str:
    """The artefact name of member k: ``model.keras`` for member 0 (as single runs name it),
    ``model-1.keras`` … for the others; the same for histories (``history-1.json``)."""
    return f"{stem}{suffix}" if k == 0 else f"{stem}-{k}{suffix}"


@dataclass
class Member:
    """One trained network of an ensemble: its weight seed, the model and its history."""

    index: int
    weight_seed: int
    model: Any
    history: dict[str, Any]


def train_members(
    config: Any,
    fourier: np.ndarray,
    numerical: np.ndarray,
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    progress: bool = True,
    *,
    split: tuple[np.ndarray, np.ndarray],
) -> list[Member]:
    """``config.members`` networks on one ``split`` = (training rows, validation rows)."""
    from tcdb.ml.structural.cvcnn import train_cvcnn

    members: list[Member] = []
    for k in range(config.members):
        seed = config.seed + k
        model, history, _ = train_cvcnn(
            config, fourier, numerical, y, mean, std, progress, weight_seed=seed, split=split
        )
        members.append(Member(k, seed, model, history))
        if config.members > 1:
            log.info("ensemble member %d of %d trained (weight seed %d)", k + 1,
                     config.members, seed)  # fmt: skip
    return members


def mean_and_spread(per_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over members (axis 0) of an (members, n) array; the
    spread is NaN with one member (see the module docstring)."""
    values = np.asarray(per_member, dtype=float)
    if values.ndim != 2 or len(values) == 0:
        raise ValueError(f"expected an array of (members, n) predictions, not {values.shape}")
    if len(values) == 1:
        return values[0].copy(), np.full(values.shape[1], np.nan)
    return values.mean(axis=0), values.std(axis=0)
