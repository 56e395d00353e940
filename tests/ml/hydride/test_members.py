"""Many members trained at once: each stops at its own epoch count, sees only its own points,
and a mini-batch member is not moved by another member's data."""

from __future__ import annotations

import numpy as np
import pytest

from tcdb.ml.hydride import ensemble as he
from tcdb.ml.hydride.members import MemberPlan, train_members
from tcdb.ml.tensorflow_runtime import seed_everything


def problem(n: int = 30, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = np.abs(np.column_stack([x[:, 0] + 1, 0.5 * x[:, 1] + 1]) + rng.normal(0, 0.3, (n, 2)))
    return x, y


def plan(members: int, n: int, epochs, batch: int = 0, seed: int = 0) -> MemberPlan:
    rng = np.random.default_rng(seed)
    train = rng.random((members, n)) < 0.7
    return MemberPlan(
        train=train,
        validation=~train,
        learning_rate=np.linspace(3e-3, 1e-2, members),
        l2=np.linspace(0.0, 1e-2, members),
        epochs=np.broadcast_to(epochs, (members,)).copy(),
        batch_size=batch,
    )


def trained(p: MemberPlan, x, y) -> tuple[list[np.ndarray], object]:
    seed_everything(0)
    model = he.build_model(he.HydrideMLPConfig(), x.shape[1], p.members)
    history = train_members(model, p, x, y, checkpoints=(5,))
    return model.get_weights(), history


def test_a_member_stops_at_its_own_epoch_count_as_if_trained_alone():
    x, y = problem()
    together = plan(3, len(y), [5, 12, 12])
    alone = plan(3, len(y), [5, 5, 5])
    weights, history = trained(together, x, y)
    short, _ = trained(alone, x, y)
    for a, b in zip(weights, short, strict=True):
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6, atol=1e-7)
        assert not np.allclose(a[1], b[1])
    assert history.train.shape == (12, 3)
    assert history.predictions.shape == (1, 3, len(y), 2)


@pytest.mark.parametrize("batch", [0, 8])
def test_a_member_is_not_moved_by_the_points_only_others_train_on(batch):
    x, y = problem()
    p = plan(3, len(y), 10, batch=batch)
    others_only = ~p.train[0] & p.train[1]
    assert others_only.any()
    moved = y.copy()
    moved[others_only] += 5.0
    first, _ = trained(p, x, y)
    second, _ = trained(p, x, moved)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, second, strict=True))


def test_a_mini_batch_run_differs_from_a_full_batch_run_and_is_seeded():
    x, y = problem()
    full, _ = trained(plan(2, len(y), 6), x, y)
    batched, _ = trained(plan(2, len(y), 6, batch=8), x, y)
    again, _ = trained(plan(2, len(y), 6, batch=8), x, y)
    assert not np.allclose(full[0], batched[0])
    for a, b in zip(batched, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_plan_refuses_a_member_without_training_points():
    p = plan(2, 10, 5)
    empty = p.train.copy()
    empty[1] = False
    with pytest.raises(ValueError, match="at least one training point"):
        MemberPlan(empty, ~empty, p.learning_rate, p.l2, p.epochs)
