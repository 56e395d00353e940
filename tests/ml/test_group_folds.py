"""Folds grouped by composition or chemical system are split on integer codes of the groups:
the same folds as on the group names themselves (so every recorded metric stays what it
was), without numpy comparing Python strings pair by pair (seconds per training)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from tcdb.ml.evaluation import GroupedByChemicalSystem, GroupedByComposition, group_codes


def material_ids(rows: int, distinct: int, seed: int = 0) -> np.ndarray:
    """Ids shaped like the material ids of a snapshot, as the Python strings pandas holds."""
    rng = np.random.default_rng(seed)
    names = np.array([f"mat-{value:016x}" for value in rng.integers(0, 2**62, distinct)],
                     dtype=object)  # fmt: skip
    return names[rng.integers(0, distinct, rows)]


@pytest.mark.parametrize("protocol", [GroupedByComposition, GroupedByChemicalSystem])
def test_the_folds_are_those_of_the_group_names(protocol):
    groups = material_ids(1500, 1200)
    ours = protocol(folds=10, seed=3).splits(len(groups), groups=groups)
    named = GroupKFold(n_splits=10, shuffle=True, random_state=3)
    theirs = list(named.split(np.zeros((len(groups), 1)), groups=groups))
    assert len(ours) == len(theirs) == 10
    for (train, test), (train_named, test_named) in zip(ours, theirs, strict=True):
        assert np.array_equal(train, train_named) and np.array_equal(test, test_named)


def test_codes_number_the_groups_in_sorted_order():
    codes = group_codes(np.array(["b", "a", "c", "a"], dtype=object))
    assert codes.tolist() == [1, 0, 2, 0]


def test_a_snapshots_worth_of_compositions_is_split_in_well_under_a_second():
    groups = material_ids(14_838, 13_000)
    started = time.perf_counter()
    splits = GroupedByComposition(folds=10, seed=0).splits(len(groups), groups=groups)
    assert time.perf_counter() - started < 1.0  # names compared pair by pair: 2.8-8 s
    assert sum(len(test) for _, test in splits) == len(groups)
