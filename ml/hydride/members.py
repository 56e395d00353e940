"""Many independent copies of the hydride network trained at once, each with its own data,
learning rate, L2 strength and number of epochs.

Why: an inner cross-validation over learning rates and L2 strengths, repeated inside every
outer training fold, needs hundreds of tiny networks (8 → 32 → 32 → 2) on about a hundred
points each. One at a time that costs minutes of Python and Keras overhead; as members of one
``EnsembleDense`` model they cost one batched matrix product per step.

Why this equals separate fits: the loss is the sum over members of each member's mean squared
error over its own training points plus its own L2 penalty, so member m's gradient depends on
member m's weights and data only. Adam (Kingma & Ba 2015) is written out here so that each
member has its own learning rate and its own step count; its update is element-wise, so each
member follows exactly the trajectory it would follow alone. A member stops updating after its
own number of epochs (its weights then stay as they were), and in a mini-batch epoch a member
whose batch is empty skips the step.

``batch_size`` is shared by one call (0 = the whole training set in each step). Mini-batches are
a fresh seeded permutation of each member's training points every epoch.

Errors are recorded every epoch for every member: the mean over its training points and over its
validation points of |(ΔT_c, ΔP)|² in scaled units (the training loss without the penalty). In a
full-batch epoch both are measured on the weights before that epoch's update; in a mini-batch
epoch after its last step.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_EPOCH_CHUNK = 250  # epochs per compiled call; only sets how often progress is logged
_BETA_1, _BETA_2, _EPSILON = 0.9, 0.999, 1e-7  # Adam's (and Keras's) defaults


@dataclass(frozen=True)
class MemberPlan:
    """What each member trains on and how: arrays over members (M) and points (n)."""

    train: np.ndarray  # (M, n) bool
    validation: np.ndarray  # (M, n) bool; a member with none records NaN
    learning_rate: np.ndarray  # (M,)
    l2: np.ndarray  # (M,) on the hidden kernels
    epochs: np.ndarray  # (M,) int: updates stop after this many epochs
    batch_size: int = 0  # 0: full batch

    def __post_init__(self) -> None:
        train = np.asarray(self.train, dtype=bool)
        members = train.shape[0]
        for name in ("learning_rate", "l2", "epochs"):
            values = np.asarray(getattr(self, name))
            if values.shape != (members,):
                raise ValueError(f"{name} must have one value per member ({members})")
        if np.asarray(self.validation).shape != train.shape:
            raise ValueError("validation must have the shape of train")
        if (train.sum(axis=1) == 0).any():
            raise ValueError("every member needs at least one training point")
        if (np.asarray(self.epochs) < 1).any() or self.batch_size < 0:
            raise ValueError("epochs must be at least 1 and batch_size at least 0")

    @property
    def members(self) -> int:
        return int(np.asarray(self.train).shape[0])

    @property
    def max_epochs(self) -> int:
        return int(np.max(self.epochs))


@dataclass(frozen=True)
class MemberHistory:
    """Per epoch and member: training and validation error (epochs, M), scaled units; and
    every member's prediction of every point after each checkpoint epoch (checkpoints, M, n, 2)
    when checkpoints were asked for."""

    train: np.ndarray
    validation: np.ndarray
    checkpoints: tuple[int, ...] = ()
    predictions: np.ndarray | None = None


class _ExpectedRetracing(logging.Filter):
    """Every call traces its own compiled loop (the plan is part of it); TensorFlow's warning
    about repeated tracing says nothing here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _tf() -> Any:
    from tcdb.ml.tensorflow_runtime import tensorflow

    tf = tensorflow()
    quiet = tf.get_logger()
    if not any(isinstance(f, _ExpectedRetracing) for f in quiet.filters):
        quiet.addFilter(_ExpectedRetracing())
    return tf


def _per_member(values: np.ndarray, rank: int) -> Any:
    """A (M,) vector shaped to broadcast over a variable of the given rank."""
    tf = _tf()
    return tf.reshape(tf.constant(values, dtype=tf.float32), [-1] + [1] * (rank - 1))


def _mean_weights(mask: np.ndarray) -> np.ndarray:
    """Row-normalised weights (a member's mean over its points); zero rows stay zero."""
    mask = np.asarray(mask, dtype=np.float32)
    counts = mask.sum(axis=1, keepdims=True)
    return np.divide(mask, counts, out=np.zeros_like(mask), where=counts > 0)


def train_members(
    model: Any,
    plan: MemberPlan,
    x: np.ndarray,
    y: np.ndarray,
    seed: int = 0,
    checkpoints: tuple[int, ...] = (),
    record_errors: bool = True,
) -> MemberHistory:
    """Train every member of ``model`` (built with ``plan.members`` members) in place.

    ``x`` (n, d) scaled inputs, ``y`` (n, 2) scaled targets. The hidden layers are the layers
    named ``hidden_*``; their kernels carry each member's L2. After each epoch count in
    ``checkpoints`` every member predicts every point (for scoring ensembles of members at
    several lengths of training without training them again). ``record_errors=False`` skips
    the per-epoch errors of mini-batch epochs (they cost a pass over every point); the
    history then holds NaN there.
    """
    tf = _tf()
    x_t = tf.constant(x, dtype=tf.float32)
    y_t = tf.constant(y, dtype=tf.float32)
    train_w = tf.constant(_mean_weights(plan.train))
    val_w = tf.constant(_mean_weights(plan.validation))
    has_val = np.asarray(plan.validation).any(axis=1)
    stop = tf.constant(np.asarray(plan.epochs, dtype=np.int32))
    variables = model.trainable_variables
    hidden = [layer.kernel for layer in model.layers if layer.name.startswith("hidden_")]
    l2 = tf.constant(np.asarray(plan.l2, dtype=np.float32))
    rates = [_per_member(np.asarray(plan.learning_rate), v.shape.rank) for v in variables]
    moments = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
    squares = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
    steps = tf.Variable(tf.zeros([plan.members]), trainable=False)
    n_train = np.asarray(plan.train).sum(axis=1)
    batch = int(plan.batch_size) if 0 < plan.batch_size < n_train.max() else 0
    steps_per_epoch = int(np.ceil(n_train.max() / batch)) if batch else 1
    # Each member's training points first, in a per-epoch random order (ties broken by index).
    not_train = tf.constant((~np.asarray(plan.train, dtype=bool)).astype(np.float32))
    n_train_t = tf.constant(n_train.astype(np.int32))

    def penalty() -> Any:
        return tf.add_n([tf.reduce_sum(l2 * tf.reduce_sum(tf.square(k), axis=[1, 2]))
                         for k in hidden])  # fmt: skip

    def adam(grads: list, active: Any) -> None:
        steps.assign_add(tf.cast(active, tf.float32))
        t = tf.maximum(steps, 1.0)
        correction = tf.sqrt(1.0 - tf.pow(_BETA_2, t)) / (1.0 - tf.pow(_BETA_1, t))
        for var, grad, m, v, rate in zip(variables, grads, moments, squares, rates, strict=True):
            shape = [-1] + [1] * (var.shape.rank - 1)
            on = tf.reshape(tf.cast(active, tf.float32), shape)
            m.assign(on * (_BETA_1 * m + (1 - _BETA_1) * grad) + (1 - on) * m)
            v.assign(on * (_BETA_2 * v + (1 - _BETA_2) * tf.square(grad)) + (1 - on) * v)
            step = rate * tf.reshape(correction, shape) * m / (tf.sqrt(v) + _EPSILON)
            var.assign_sub(on * step)

    def errors() -> tuple[Any, Any]:
        if not record_errors:
            nothing = tf.fill([plan.members], np.float32(np.nan))
            return nothing, nothing
        squared = tf.reduce_sum(tf.square(model(x_t) - y_t[None]), axis=-1)
        return tf.reduce_sum(squared * train_w, axis=1), tf.reduce_sum(squared * val_w, axis=1)

    def full_batch_epoch(epoch: Any) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            squared = tf.reduce_sum(tf.square(model(x_t) - y_t[None]), axis=-1)
            train = tf.reduce_sum(squared * train_w, axis=1)
            total = tf.reduce_sum(train) + penalty()
        val = tf.reduce_sum(tf.stop_gradient(squared) * val_w, axis=1)
        adam(tape.gradient(total, variables), epoch < stop)
        return train, val

    def mini_batch_epoch(epoch: Any) -> tuple[Any, Any]:
        pair = tf.stack([tf.constant(seed, tf.int32), tf.cast(epoch, tf.int32)])
        keys = tf.random.stateless_uniform(tf.shape(not_train), pair) + 2.0 * not_train
        order = tf.argsort(keys, axis=1, stable=True)
        for s in range(steps_per_epoch):  # a handful: unrolled in the graph
            positions = s * batch + tf.range(batch)
            index = tf.gather(order, tf.minimum(positions, tf.shape(order)[1] - 1), axis=1)
            valid = tf.cast(positions[None, :] < n_train_t[:, None], tf.float32)
            counts = tf.reduce_sum(valid, axis=1)
            with tf.GradientTape() as tape:
                predicted = model(tf.gather(x_t, index))
                squared = tf.reduce_sum(tf.square(predicted - tf.gather(y_t, index)), axis=-1)
                per_member = tf.reduce_sum(squared * valid, axis=1) / tf.maximum(counts, 1.0)
                total = tf.reduce_sum(per_member) + penalty()
            adam(tape.gradient(total, variables), (epoch < stop) & (counts > 0))
        return errors()

    epoch_step = mini_batch_epoch if batch else full_batch_epoch

    @tf.function
    def run(start: Any, count: Any) -> tuple[Any, Any]:
        train_hist = tf.TensorArray(tf.float32, size=count)
        val_hist = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            train, val = epoch_step(start + i)
            train_hist = train_hist.write(i, train)
            val_hist = val_hist.write(i, val)
        return train_hist.stack(), val_hist.stack()

    marks = sorted({int(c) for c in checkpoints if 0 < c <= plan.max_epochs})
    bounds = sorted({*range(0, plan.max_epochs, _EPOCH_CHUNK), *marks, plan.max_epochs})
    train_parts, val_parts, predictions = [], [], []
    for start, end in itertools.pairwise(bounds):
        train, val = run(tf.constant(start), tf.constant(end - start))
        train_parts.append(train.numpy())
        val_parts.append(val.numpy())
        if end in marks:
            predictions.append(model(x_t).numpy())
        logger.debug("epochs %d-%d of %d members done", start + 1, end, plan.members)
    validation = np.concatenate(val_parts).astype(float)
    validation[:, ~has_val] = np.nan
    return MemberHistory(
        np.concatenate(train_parts).astype(float),
        validation,
        tuple(marks),
        np.stack(predictions).astype(float) if predictions else None,
    )
