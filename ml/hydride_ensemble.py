"""The (T_c, P) network of Hutcheon et al. (2020), trained as a 64-member ensemble in one model.

Why: the paper estimates its error by training the same small network 64 times, each time on a
different random 75 % of the hydrides, choosing for each run the epoch with the lowest error on
the other 25 %, and averaging the 64 predictions (the spread is the uncertainty). Fitting 64
Keras models one after another costs minutes; the members are independent, so they are trained
together instead. ``EnsembleDense`` holds a kernel (members, in, units) and a bias
(members, units) and applies them with one ``einsum``; three of them are 64 independent copies
of input → Dense(32, SELU) → Dense(32, SELU) → Dense(2).

Why this is the same as 64 separate fits: the training loss is the sum over members of each
member's mean squared error over its own training points (its validation points are masked
out) plus the L2 penalty of its own hidden kernels. The gradient with respect to member m's
weights therefore depends only on member m's weights and data, and Adam updates every weight
element-wise, so each member follows exactly the trajectory it would follow alone (full batch).
After every epoch each member's validation error is computed on its own validation points, and
the member's weights are copied (``tf.where`` over the member axis) when that error is the
lowest so far; at the end every member is reset to its best epoch.

Choices, fixed a priori (``HydrideMLPConfig``, recorded with ``as_dict()``):

- ``members = 64``, ``validation_fraction = 0.25``: the paper's 64 random 25 % validation splits.
  Each member's split is drawn with ``np.random.default_rng(seed)`` and has exactly
  ``round(0.25 n)`` validation points (at least one, and at least one training point).
- ``hidden_units = (32, 32)``, ``activation = "selu"``: the paper's Fig. 2 topology and its
  self-normalising activation. Hidden kernels use LeCun-normal initialisation (truncated normal,
  variance 1/fan_in per member), which SELU's self-normalisation assumes (Klambauer et al.
  2017); the linear output kernel uses Glorot-uniform, Keras's default for Dense; biases start
  at zero.
- Loss: per point the squared error summed over the two outputs, |(ΔT_c, ΔP)|² (the paper's
  cost), averaged over the member's training points, in scaled units.
- ``l2 = 1e-4`` on the two hidden kernels only ("the parameters in the intermediate dense
  nodes"; biases and the output layer are not penalised). The paper gives no value. With
  LeCun initialisation each hidden kernel starts with Σw² ≈ 32, so 1e-4 adds ≈ 0.006 to a data
  loss of order 1 in the scaled units: a mild brake on overfitting, while the choice of the
  best validation epoch stays the main guard. Keras's old default of 1e-2 would be of the same
  size as the data term itself and would shrink the fit rather than regularise it.
- ``learning_rate = 1e-3``: Adam's recommended default (Kingma & Ba 2015) and Keras's; the paper
  states none.
- Full batch, ``max_epochs = 2000``: with about 100 training points per member one full-batch
  step is one epoch, the gradient is exact and the members stay independent. The paper does
  not give an epoch count; with steps of about 1e-3 per weight, weights of order one need of
  order 1000 steps to move, so 2000 leaves room for the validation error to pass its minimum.
  The benchmark reports the mean best epoch so a cap that binds would show.
- Scaling: inputs are standardised with a mean and standard deviation given by the caller (the
  screening grid's, which do not depend on labels); outputs are divided by fixed scales,
  ``tc_scale_K = pressure_scale_GPa = 100`` (no label statistics, so nothing leaks from
  validation points into the scaling).
- Float32, as Keras trains by default.

``oof_predictions`` averages, for each training point, only the members that held it out. As in
the paper, those same held-out points chose each member's epoch, so these out-of-fold figures
are slightly optimistic; they are still the paper's own estimate.

``fit`` seeds Python, NumPy and TensorFlow and switches on TensorFlow's op determinism, both
process-wide: the same seed, data and configuration give identical predictions (for a fixed
number of threads). TensorFlow is imported only when a model is built, and with
``TF_USE_LEGACY_KERAS=1`` so ``tf.keras`` is tf_keras, as elsewhere in the project.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

TARGET_LABELS: tuple[str, str] = ("tc_K", "pressure_GPa")
WEIGHTS_FILE = "ensemble.weights.npz"  # arrays only: no HDF5, no pickle
STATE_FILE = "ensemble.json"
HISTORY_FILE = "history.npz"
FORMAT_VERSION = 2  # 2: weights in an .npz archive instead of HDF5
_EPOCH_CHUNK = 500  # epochs per compiled call; only sets how often progress is logged

CITATIONS: tuple[str, ...] = (
    "M. J. Hutcheon, A. M. Shipley, R. J. Needs, Predicting novel superconducting hydrides using "
    "machine learning approaches, Phys. Rev. B 101, 144505 (2020), doi:10.1103/PhysRevB.101.144505",
    "G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter, Self-normalizing neural networks, "
    "NeurIPS 30 (2017)",
    "D. P. Kingma, J. Ba, Adam: a method for stochastic optimization, ICLR (2015)",
)


@dataclass(frozen=True)
class HydrideMLPConfig:
    """Hyper-parameters of the ensemble (see the module docstring for why these defaults)."""

    members: int = 64
    hidden_units: tuple[int, ...] = field(default=(32, 32))
    activation: str = "selu"
    l2: float = 1e-4
    learning_rate: float = 1e-3
    max_epochs: int = 2000
    validation_fraction: float = 0.25
    seed: int = 0
    tc_scale_K: float = 100.0
    pressure_scale_GPa: float = 100.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_units", tuple(int(u) for u in self.hidden_units))
        if self.members < 1:
            raise ValueError(f"members must be at least 1, not {self.members}")
        if not self.hidden_units or min(self.hidden_units) < 1:
            raise ValueError(f"hidden_units must be positive, not {self.hidden_units}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1), not {self.validation_fraction}"
            )
        if self.max_epochs < 1:
            raise ValueError(f"max_epochs must be at least 1, not {self.max_epochs}")
        if self.l2 < 0 or self.learning_rate <= 0:
            raise ValueError("l2 must be >= 0 and learning_rate > 0")
        if self.tc_scale_K <= 0 or self.pressure_scale_GPa <= 0:
            raise ValueError("output scales must be positive")

    def as_dict(self) -> dict[str, Any]:
        """The hyper-parameters as plain JSON types, for a run manifest."""
        values = asdict(self)
        values["hidden_units"] = list(self.hidden_units)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HydrideMLPConfig:
        """Inverse of ``as_dict``."""
        return cls(**{**values, "hidden_units": tuple(values["hidden_units"])})

    @property
    def output_scales(self) -> np.ndarray:
        """Divisors of (T_c in K, P in GPa) giving the network's targets."""
        return np.array([self.tc_scale_K, self.pressure_scale_GPa])


# --------------------------------------------------------------------------- TensorFlow setup


def _tf() -> Any:
    """TensorFlow with legacy Keras, imported on first use (``ml.tensorflow_runtime``)."""
    from ml.tensorflow_runtime import tensorflow

    return tensorflow()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic (process-wide)."""
    tf = _tf()
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _member_initializer(kind: str, seed: int) -> Any:
    """Per-member variance scaling: fans are the last two kernel dimensions, not the product."""
    tf = _tf()

    def initialize(shape: Any, dtype: Any = None, **_: Any) -> Any:
        fan_in, fan_out = int(shape[-2]), int(shape[-1])
        dtype = tf.as_dtype(dtype or tf.float32)
        seeds = tf.constant([seed, 0], dtype=tf.int64)
        if kind == "lecun_normal":
            stddev = math.sqrt(1.0 / fan_in) / 0.87962566103423978  # truncation at ±2σ
            values = tf.random.stateless_truncated_normal(shape, seeds, stddev=stddev, dtype=dtype)
        elif kind == "glorot_uniform":
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            values = tf.random.stateless_uniform(shape, seeds, -limit, limit, dtype=dtype)
        else:
            raise ValueError(f"unknown initializer {kind!r}")
        return values

    return initialize


@cache
def _ensemble_dense_class() -> type:
    """Define ``EnsembleDense`` once TensorFlow is imported."""
    tf = _tf()

    @tf.keras.utils.register_keras_serializable(package="tcdb")
    class EnsembleDense(tf.keras.layers.Layer):
        """``members`` independent Dense layers: kernel (members, in, units), bias (members, units).

        Inputs of shape (batch, in) are shared by every member (first layer); inputs of shape
        (members, batch, in) give member m its own slice. Output (members, batch, units).
        ``l2`` penalises the kernel (l2 · Σ w², summed over members).
        """

        def __init__(
            self,
            members: int,
            units: int,
            activation: str | None = None,
            l2: float = 0.0,
            kernel_initializer: str = "glorot_uniform",
            seed: int = 0,
            **kwargs: Any,
        ) -> None:
            super().__init__(**kwargs)
            self.members = int(members)
            self.units = int(units)
            self.activation_name = activation
            self.activation = tf.keras.activations.get(activation)
            self.l2 = float(l2)
            self.kernel_initializer = kernel_initializer
            self.seed = int(seed)

        def build(self, input_shape: Any) -> None:
            in_features = int(input_shape[-1])
            regularizer = tf.keras.regularizers.L2(self.l2) if self.l2 > 0 else None
            self.kernel = self.add_weight(
                name="kernel",
                shape=(self.members, in_features, self.units),
                initializer=_member_initializer(self.kernel_initializer, self.seed),
                regularizer=regularizer,
                trainable=True,
            )
            self.bias = self.add_weight(
                name="bias",
                shape=(self.members, self.units),
                initializer="zeros",
                trainable=True,
            )
            super().build(input_shape)

        def call(self, inputs: Any) -> Any:
            kernel = tf.cast(self.kernel, inputs.dtype)
            if inputs.shape.rank == 2:
                out = tf.einsum("bi,mij->mbj", inputs, kernel)
            else:
                out = tf.einsum("mbi,mij->mbj", inputs, kernel)
            return self.activation(out + tf.cast(self.bias, inputs.dtype)[:, None, :])

        def compute_output_shape(self, input_shape: Any) -> Any:
            batch = input_shape[-2] if len(input_shape) == 3 else input_shape[0]
            return tf.TensorShape((self.members, batch, self.units))

        def get_config(self) -> dict[str, Any]:
            return {
                **super().get_config(),
                "members": self.members,
                "units": self.units,
                "activation": self.activation_name,
                "l2": self.l2,
                "kernel_initializer": self.kernel_initializer,
                "seed": self.seed,
            }

    return EnsembleDense


def __getattr__(name: str) -> Any:
    """``EnsembleDense`` is built on first access so importing this module stays cheap."""
    if name == "EnsembleDense":
        return _ensemble_dense_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_model(config: HydrideMLPConfig, n_features: int) -> Any:
    """The ensemble network, built for inputs (batch, n_features) → outputs (members, batch, 2)."""
    tf = _tf()
    dense = _ensemble_dense_class()
    layers = [
        dense(
            config.members,
            units,
            activation=config.activation,
            l2=config.l2,
            kernel_initializer="lecun_normal",
            seed=config.seed * 1000 + index,
            name=f"hidden_{index}",
        )
        for index, units in enumerate(config.hidden_units)
    ]
    layers.append(
        dense(
            config.members,
            len(TARGET_LABELS),
            activation=None,
            l2=0.0,
            kernel_initializer="glorot_uniform",
            seed=config.seed * 1000 + len(config.hidden_units),
            name="output",
        )
    )
    model = tf.keras.Sequential(layers, name="hydride_ensemble")
    model.build((None, n_features))
    return model


# --------------------------------------------------------------------------- data helpers


def validation_masks(n: int, members: int, fraction: float, seed: int) -> np.ndarray:
    """(members, n) bool: True where a point is in that member's random validation set (the
    ``random-repeated`` protocol of ``ml.evaluation``)."""
    from ml.evaluation import random_masks

    return random_masks(n, members, fraction, seed)


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0], len(TARGET_LABELS)):
        raise ValueError(f"expected X (n, d) and y (n, 2), got {X.shape} and {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X and y must be finite")
    return X, y


def _check_scaling(x_mean: np.ndarray, x_std: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(x_mean, dtype=float).reshape(-1)
    std = np.asarray(x_std, dtype=float).reshape(-1)
    if mean.shape != (d,) or std.shape != (d,):
        raise ValueError(f"x_mean and x_std must have {d} entries")
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
        raise ValueError("x_mean must be finite and x_std finite and positive")
    return mean, std


def _oof_mean(member_predictions: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Mean over the members whose mask holds each point; NaN where none does."""
    weights = masks.astype(float)[:, :, None]
    counts = weights.sum(axis=0)
    summed = np.where(weights > 0, member_predictions, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, summed / counts, np.nan)


# --------------------------------------------------------------------------- training


def _loss_weights(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-member weights that turn summed squared errors into train / validation means."""
    train = (~masks).astype(np.float32)
    val = masks.astype(np.float32)
    return train / train.sum(axis=1, keepdims=True), val / val.sum(axis=1, keepdims=True)


def _train(
    model: Any,
    config: HydrideMLPConfig,
    x: np.ndarray,
    y: np.ndarray,
    masks: np.ndarray,
    restore_best: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch Adam on all members; returns (train loss, validation loss, best epoch)."""
    tf = _tf()
    train_w, val_w = (tf.constant(w) for w in _loss_weights(masks))
    x_t = tf.constant(x, dtype=tf.float32)
    y_t = tf.constant(y, dtype=tf.float32)
    variables = model.trainable_variables
    optimizer = tf.keras.optimizers.Adam(learning_rate=config.learning_rate)
    optimizer.build(variables)
    best = [tf.Variable(v, trainable=False) for v in variables]
    best_loss = tf.Variable(tf.fill([config.members], np.float32(np.inf)), trainable=False)
    best_epoch = tf.Variable(tf.fill([config.members], -1), trainable=False)

    def member_errors(weights: Any) -> Any:
        squared = tf.reduce_sum(tf.square(model(x_t) - y_t[None]), axis=-1)
        return tf.reduce_sum(squared * weights, axis=1)

    def keep_improved(epoch: Any) -> Any:
        val = member_errors(val_w)
        improved = val < best_loss
        for var, copy in zip(variables, best, strict=True):
            shape = [config.members] + [1] * (var.shape.rank - 1)
            copy.assign(tf.where(tf.reshape(improved, shape), var, copy))
        best_loss.assign(tf.where(improved, val, best_loss))
        best_epoch.assign(tf.where(improved, epoch, best_epoch))
        return val

    @tf.function
    def run(start: Any, count: Any) -> tuple[Any, Any]:
        train_hist = tf.TensorArray(tf.float32, size=count)
        val_hist = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            with tf.GradientTape() as tape:
                train = member_errors(train_w)
                total = tf.reduce_sum(train) + tf.add_n([tf.constant(0.0), *model.losses])
            grads = tape.gradient(total, variables)
            optimizer.apply_gradients(zip(grads, variables, strict=True))
            val = keep_improved(start + i)
            train_hist = train_hist.write(i, train)
            val_hist = val_hist.write(i, val)
        return train_hist.stack(), val_hist.stack()

    train_parts, val_parts = [], []
    for start in range(0, config.max_epochs, _EPOCH_CHUNK):
        count = min(_EPOCH_CHUNK, config.max_epochs - start)
        train, val = run(tf.constant(start), tf.constant(count))
        train_parts.append(train.numpy())
        val_parts.append(val.numpy())
        logger.debug("epochs %d-%d done", start + 1, start + count)
    if restore_best:
        for var, copy in zip(variables, best, strict=True):
            var.assign(copy)
    return (
        np.concatenate(train_parts).astype(float),
        np.concatenate(val_parts).astype(float),
        best_epoch.numpy().astype(int),
    )


# --------------------------------------------------------------------------- the ensemble


class HydrideEnsemble:
    """64 copies of the paper's network, each with its own 25 % validation split and best epoch.

    After ``fit``: ``validation_masks_`` (members, n) bool, ``best_epochs_`` (members,) 0-based
    epoch index (epoch e = weights after e + 1 updates; -1 if a member's validation error was
    never finite), ``history_`` {"train", "validation"} arrays (epochs, members) of each member's
    mean |(ΔT_c, ΔP)|² in scaled units (train: before that epoch's update, without the L2 term;
    validation: after it), ``x_mean_``, ``x_std_``.
    """

    def __init__(self, config: HydrideMLPConfig | None = None) -> None:
        self.config = config or HydrideMLPConfig()
        self.model_: Any = None

    # -- fitting ---------------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        x_mean: np.ndarray,
        x_std: np.ndarray,
        *,
        restore_best: bool = True,
    ) -> HydrideEnsemble:
        """Train every member on X (n, d) → y (n, 2) = [T_c K, P GPa].

        ``restore_best=False`` keeps the last epoch's weights (for diagnostics); the default
        resets each member to its lowest-validation-error epoch, as the paper does.
        """
        X, y = _check_xy(X, y)
        cfg = self.config
        self.x_mean_, self.x_std_ = _check_scaling(x_mean, x_std, X.shape[1])
        self.X_train_, self.y_train_ = X, y
        self.validation_masks_ = validation_masks(
            X.shape[0], cfg.members, cfg.validation_fraction, cfg.seed
        )
        seed_everything(cfg.seed)
        self.model_ = build_model(cfg, X.shape[1])
        train, val, best = _train(
            self.model_,
            cfg,
            self._scale_x(X),
            y / cfg.output_scales,
            self.validation_masks_,
            restore_best,
        )
        self.history_ = {"train": train, "validation": val}
        self.best_epochs_ = best
        self.restored_best_ = restore_best
        never = int((best < 0).sum())
        if never:
            logger.warning("%d members never had a finite validation error", never)
        logger.info(
            "trained %d members for %d epochs on %d points; mean best epoch %.0f",
            cfg.members,
            cfg.max_epochs,
            X.shape[0],
            best.mean(),
        )
        return self

    # -- prediction ------------------------------------------------------------------------

    def _require_fitted(self) -> None:
        if self.model_ is None:
            raise RuntimeError("the ensemble has not been fitted or loaded")

    def _scale_x(self, X: np.ndarray) -> np.ndarray:
        return ((np.asarray(X, dtype=float) - self.x_mean_) / self.x_std_).astype(np.float32)

    def predict_members(self, X: np.ndarray) -> np.ndarray:
        """Every member's prediction, (members, n, 2) in K and GPa."""
        self._require_fitted()
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.x_mean_.shape[0]:
            raise ValueError(f"expected X of shape (n, {self.x_mean_.shape[0]}), got {X.shape}")
        scaled = self.model_(self._scale_x(X)).numpy().astype(float)
        return scaled * self.config.output_scales

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean (n, 2) and standard deviation over members (n, 2)."""
        members = self.predict_members(X)
        return members.mean(axis=0), members.std(axis=0)

    def oof_predictions(self) -> np.ndarray:
        """(n, 2): per training point, the mean of the members that held it out (NaN if none)."""
        self._require_fitted()
        return _oof_mean(self.predict_members(self.X_train_), self.validation_masks_)

    # -- persistence -----------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "config": self.config.as_dict(),
            "target_labels": list(TARGET_LABELS),
            "scaling": {
                "x_mean": self.x_mean_.tolist(),
                "x_std": self.x_std_.tolist(),
                "output_scales": self.config.output_scales.tolist(),
            },
            "validation_masks": self.validation_masks_.astype(int).tolist(),
            "best_epochs": self.best_epochs_.tolist(),
            "restored_best": self.restored_best_,
            "X_train": self.X_train_.tolist(),
            "y_train": self.y_train_.tolist(),
        }

    def files(self) -> dict[str, bytes]:
        """The weights and training history (``.npz``) and the state (JSON), by file name."""
        self._require_fitted()
        weights = {f"w{i}": w for i, w in enumerate(self.model_.get_weights())}
        return {
            WEIGHTS_FILE: _npz(np.savez, weights),
            STATE_FILE: json.dumps(self._state(), indent=1).encode(),
            HISTORY_FILE: _npz(np.savez_compressed, self.history_),
        }

    def save(self, folder: Path) -> None:
        """Write ``files()`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in self.files().items():
            (folder / name).write_bytes(content)
        logger.info("saved the ensemble to %s", folder)

    @classmethod
    def load(cls, folder: Path) -> HydrideEnsemble:
        """Rebuild an ensemble written by ``save``; it predicts exactly as before."""
        folder = Path(folder)
        return cls.load_from(lambda name: (folder / name).read_bytes())

    @classmethod
    def load_from(cls, read: Callable[[str], bytes]) -> HydrideEnsemble:
        """Rebuild an ensemble from its files' bytes (``read(name)``, e.g. checked against a
        run manifest); JSON and ``.npz`` arrays only, so nothing in them can run code."""
        state = json.loads(read(STATE_FILE))
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported ensemble format {state.get('format_version')!r}")
        ensemble = cls(HydrideMLPConfig.from_dict(state["config"]))
        ensemble.x_mean_ = np.asarray(state["scaling"]["x_mean"], dtype=float)
        ensemble.x_std_ = np.asarray(state["scaling"]["x_std"], dtype=float)
        ensemble.validation_masks_ = np.asarray(state["validation_masks"], dtype=bool)
        ensemble.best_epochs_ = np.asarray(state["best_epochs"], dtype=int)
        ensemble.restored_best_ = bool(state["restored_best"])
        ensemble.X_train_ = np.asarray(state["X_train"], dtype=float)
        ensemble.y_train_ = np.asarray(state["y_train"], dtype=float)
        ensemble.history_ = _arrays(read(HISTORY_FILE))
        ensemble.model_ = build_model(ensemble.config, ensemble.x_mean_.shape[0])
        weights = _arrays(read(WEIGHTS_FILE))
        expected = ensemble.model_.get_weights()
        if len(weights) != len(expected):
            raise ValueError(f"{len(weights)} weight arrays for a model of {len(expected)}")
        loaded = [weights[f"w{i}"] for i in range(len(expected))]
        for got, want in zip(loaded, expected, strict=True):
            if got.shape != want.shape:
                raise ValueError(f"a weight array of shape {got.shape}, expected {want.shape}")
        ensemble.model_.set_weights(loaded)
        return ensemble


def _npz(write: Callable[..., None], arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` archive's bytes (``np.savez`` or ``np.savez_compressed``)."""
    buffer = io.BytesIO()
    write(buffer, **arrays)
    return buffer.getvalue()


def _arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, refusing object arrays (which would unpickle)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


# --------------------------------------------------------------------------- linear baseline


def fit_linear(X: np.ndarray, y: np.ndarray) -> Any:
    """Ordinary least squares on all data (the paper's baseline), for screening."""
    from sklearn.linear_model import LinearRegression

    X, y = _check_xy(X, y)
    return LinearRegression().fit(X, y)


def linear_baseline_oof(X: np.ndarray, y: np.ndarray, validation_masks: np.ndarray) -> np.ndarray:
    """Linear regression refitted on each member's training points, averaged out of fold.

    Same splits as the ensemble, so the two are compared on equal terms. Least squares is
    unchanged by standardising the inputs, so raw descriptors are used.
    """
    X, y = _check_xy(X, y)
    masks = np.asarray(validation_masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != X.shape[0]:
        raise ValueError(f"validation_masks must be (members, {X.shape[0]})")
    predictions = np.zeros((masks.shape[0], *y.shape))
    for member, held_out in enumerate(masks):
        predictions[member] = fit_linear(X[~held_out], y[~held_out]).predict(X)
    return _oof_mean(predictions, masks)
