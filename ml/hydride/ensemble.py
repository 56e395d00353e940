"""The (T_c, P) network of Hutcheon et al. (2020), trained as a 64-member ensemble in one model.

Why: the paper estimates its error by training the same small network 64 times, each time on a
different random 75 % of the hydrides, and averaging the 64 predictions (the spread is the
uncertainty). The members are independent, so they are trained together
(``ml.hydride.members``): ``EnsembleDense`` holds a kernel (members, in, units) and a bias
(members, units) and applies them with one ``einsum``; three of them are 64 independent copies
of input → Dense(32, SELU) → Dense(32, SELU) → Dense(2).

How each member trains (learning rate, L2, batch size, epochs) is chosen by an inner
cross-validation inside the training set (``ml.hydride.search``), not fixed here; the paper's
per-member checkpoint on its own 25 % is replaced by that choice, so the 25 % a member holds out
is never used to pick anything and its error curve is a fair held-out curve.

Choices, fixed a priori (``HydrideMLPConfig``, recorded with ``as_dict()``):

- ``members = 64``, ``validation_fraction = 0.25``: the paper's 64 random 25 % hold-outs, drawn
  with ``np.random.default_rng(seed)``, each of exactly ``round(0.25 n)`` points.
- ``hidden_units = (32, 32)``, ``activation = "selu"``: the paper's Fig. 2 topology and its
  self-normalising activation. Hidden kernels use LeCun-normal initialisation (truncated normal,
  variance 1/fan_in per member), which SELU's self-normalisation assumes (Klambauer et al.
  2017); the output kernel uses Glorot-uniform, Keras's default for Dense; biases start at zero.
- ``output_activation = "softplus"``: T_c ≥ 0 and P ≥ 0 by construction (softplus(z) =
  log(1 + e^z) > 0, smooth, and linear for large z, so high T_c are not squashed). Runs
  recorded before carry ``"linear"`` and load unchanged.
- Loss: per point the squared error summed over the two outputs, |(ΔT_c, ΔP)|² (the paper's
  cost), averaged over the member's training points, in scaled units; L2 on the two hidden
  kernels only ("the parameters in the intermediate dense nodes").
- The search grid (``learning_rates``, ``l2_values``, ``batch_sizes``, up to ``max_epochs``,
  scored every ``checkpoint_every`` epochs) spans Adam's default 1e-3 region upward and L2 from
  a mild brake to one of the size of the data term; the profiles in
  ``ml/hydride/parameters.py`` set its size.
- Scaling: inputs are standardised with a mean and standard deviation given by the caller (the
  screening grid's, which do not depend on labels); outputs are divided by fixed scales,
  ``tc_scale_K = pressure_scale_GPa = 100`` (no label statistics, so nothing leaks from held-out
  points into the scaling).
- Float32, as Keras trains by default.

``oof_predictions`` averages, for each training point, only the members that held it out (the
paper's estimate). The hyper-parameters were chosen by an inner cross-validation over all the
points, so the figure is slightly optimistic; ``ml.hydride.evaluation`` gives the nested ones.

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
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from tcdb.core.safe_reads import npz_arrays
from tcdb.ml.tensorflow_runtime import seed_everything

logger = logging.getLogger(__name__)

TARGET_LABELS: tuple[str, str] = ("tc_K", "pressure_GPa")
WEIGHTS_FILE = "ensemble.weights.npz"  # arrays only: no HDF5, no pickle
STATE_FILE = "ensemble.json"
HISTORY_FILE = "history.npz"
FORMAT_VERSION = 3  # 2: weights in an .npz archive; 3: chosen hyper-parameters, no best epochs
READABLE_FORMATS = (2, 3)
OUTPUT_ACTIVATIONS = ("softplus", "linear")  # softplus: T_c >= 0 and P >= 0 by construction

CITATIONS: tuple[str, ...] = (
    "M. J. Hutcheon, A. M. Shipley, R. J. Needs, Predicting novel superconducting hydrides using "
    "machine learning approaches, Phys. Rev. B 101, 144505 (2020), doi:10.1103/PhysRevB.101.144505",
    "G. Klambauer, T. Unterthiner, A. Mayr, S. Hochreiter, Self-normalizing neural networks, "
    "NeurIPS 30 (2017)",
    "D. P. Kingma, J. Ba, Adam: a method for stochastic optimization, ICLR (2015)",
)


@dataclass(frozen=True)
class Hyperparameters:
    """How a member is trained: Adam's learning rate, the L2 strength on the hidden kernels,
    the batch size (0 = every training point in each step) and the number of epochs."""

    learning_rate: float
    l2: float
    batch_size: int
    epochs: int

    def __post_init__(self) -> None:
        if self.learning_rate <= 0 or self.l2 < 0 or self.batch_size < 0 or self.epochs < 1:
            raise ValueError(f"invalid hyper-parameters {self}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HydrideMLPConfig:
    """Hyper-parameters of the ensemble and of the inner search that picks how it trains (see
    the module docstring for why these defaults)."""

    members: int = 64
    hidden_units: tuple[int, ...] = field(default=(32, 32))
    activation: str = "selu"
    output_activation: str = "softplus"
    validation_fraction: float = 0.25
    seed: int = 0
    tc_scale_K: float = 100.0
    pressure_scale_GPa: float = 100.0
    # Used as they are when ``search`` is off; otherwise the inner search chooses among:
    learning_rate: float = 1e-2
    l2: float = 1e-2
    batch_size: int = 0
    max_epochs: int = 800
    search: bool = True
    learning_rates: tuple[float, ...] = (3e-3, 1e-2)
    l2_values: tuple[float, ...] = (1e-4, 1e-2)
    batch_sizes: tuple[int, ...] = (0, 32)
    inner_folds: int = 3
    inner_members: int = 2
    checkpoint_every: int = 100
    # The nested estimates of skill: outer folds, each with its own inner search and ensemble.
    outer_folds: int = 5
    evaluation_members: int = 8
    forest_trees: int = 500
    forest_min_leaf: int = 2

    def __post_init__(self) -> None:
        for name in ("hidden_units", "batch_sizes"):
            object.__setattr__(self, name, tuple(int(u) for u in getattr(self, name)))
        for name in ("learning_rates", "l2_values"):
            object.__setattr__(self, name, tuple(float(u) for u in getattr(self, name)))
        if self.members < 1 or self.evaluation_members < 1 or self.inner_members < 1:
            raise ValueError("members, evaluation_members and inner_members must be at least 1")
        if not self.hidden_units or min(self.hidden_units) < 1:
            raise ValueError(f"hidden_units must be positive, not {self.hidden_units}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1), not {self.validation_fraction}"
            )
        if self.max_epochs < 1 or self.checkpoint_every < 1:
            raise ValueError("max_epochs and checkpoint_every must be at least 1")
        if self.l2 < 0 or self.learning_rate <= 0 or self.batch_size < 0:
            raise ValueError("l2 must be >= 0, learning_rate > 0 and batch_size >= 0")
        if not (self.learning_rates and self.l2_values and self.batch_sizes):
            raise ValueError("the search grid needs at least one value of each")
        if min(self.learning_rates) <= 0 or min(self.l2_values) < 0 or min(self.batch_sizes) < 0:
            raise ValueError("grid learning rates must be > 0, L2 and batch sizes >= 0")
        if self.inner_folds < 2 or self.outer_folds < 2:
            raise ValueError("inner_folds and outer_folds must be at least 2")
        if self.tc_scale_K <= 0 or self.pressure_scale_GPa <= 0:
            raise ValueError("output scales must be positive")
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"output_activation must be one of {OUTPUT_ACTIVATIONS}, "
                f"not {self.output_activation!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        """The hyper-parameters as plain JSON types, for a run manifest."""
        values = asdict(self)
        for name in ("hidden_units", "learning_rates", "l2_values", "batch_sizes"):
            values[name] = list(getattr(self, name))
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HydrideMLPConfig:
        """Inverse of ``as_dict``; a configuration recorded before outputs were constrained
        had a linear output and no search."""
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in values.items() if k in known}
        given.setdefault("output_activation", "linear")
        given.setdefault("search", False)
        return cls(**given)

    @property
    def output_scales(self) -> np.ndarray:
        """Divisors of (T_c in K, P in GPa) giving the network's targets."""
        return np.array([self.tc_scale_K, self.pressure_scale_GPa])

    @property
    def fixed(self) -> Hyperparameters:
        """The hyper-parameters used when the search is off."""
        return Hyperparameters(self.learning_rate, self.l2, self.batch_size, self.max_epochs)


# --------------------------------------------------------------------------- TensorFlow setup


def _tf() -> Any:
    """TensorFlow with legacy Keras, imported on first use (``ml.tensorflow_runtime``)."""
    from tcdb.ml.tensorflow_runtime import tensorflow

    return tensorflow()


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


def build_model(config: HydrideMLPConfig, n_features: int, members: int | None = None) -> Any:
    """The ensemble network, built for inputs (batch, n_features) → outputs (members, batch, 2);
    ``members`` defaults to the configuration's."""
    tf = _tf()
    dense = _ensemble_dense_class()
    members = members or config.members
    layers = [
        dense(
            members,
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
            members,
            len(TARGET_LABELS),
            activation=None if config.output_activation == "linear" else config.output_activation,
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
    from tcdb.ml.evaluation import random_masks

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


# --------------------------------------------------------------------------- the ensemble


class HydrideEnsemble:
    """64 copies of the paper's network, each trained on its own random 75 % of the points.

    After ``fit``: ``validation_masks_`` (members, n) bool, the points each member held out;
    ``hyperparameters_`` (how every member was trained); ``history_`` {"train", "validation"}
    arrays (epochs, members) of each member's mean |(ΔT_c, ΔP)|² in scaled units on its own
    training points and on the points it held out (never used to pick anything, so the
    validation curve is a fair held-out curve for the chosen hyper-parameters); ``x_mean_``,
    ``x_std_``.
    """

    def __init__(self, config: HydrideMLPConfig | None = None) -> None:
        self.config = config or HydrideMLPConfig()
        self.model_: Any = None
        self.hyperparameters_: Hyperparameters | None = None

    # -- fitting ---------------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        x_mean: np.ndarray,
        x_std: np.ndarray,
        hyperparameters: Hyperparameters | None = None,
    ) -> HydrideEnsemble:
        """Train every member on X (n, d) → y (n, 2) = [T_c K, P GPa] for exactly
        ``hyperparameters.epochs`` epochs (default: the configuration's fixed values)."""
        from tcdb.ml.hydride.members import MemberPlan, train_members

        X, y = _check_xy(X, y)
        cfg = self.config
        hyper = hyperparameters or cfg.fixed
        self.x_mean_, self.x_std_ = _check_scaling(x_mean, x_std, X.shape[1])
        self.X_train_, self.y_train_ = X, y
        masks = validation_masks(X.shape[0], cfg.members, cfg.validation_fraction, cfg.seed)
        self.validation_masks_ = masks
        seed_everything(cfg.seed)
        self.model_ = build_model(cfg, X.shape[1])
        plan = MemberPlan(
            train=~masks,
            validation=masks,
            learning_rate=np.full(cfg.members, hyper.learning_rate),
            l2=np.full(cfg.members, hyper.l2),
            epochs=np.full(cfg.members, hyper.epochs),
            batch_size=hyper.batch_size,
        )
        history = train_members(
            self.model_, plan, self._scale_x(X), y / cfg.output_scales, seed=cfg.seed
        )
        self.history_ = {"train": history.train, "validation": history.validation}
        self.hyperparameters_ = hyper
        logger.info(
            "trained %d members for %d epochs on %d points (learning rate %g, L2 %g, %s)",
            cfg.members,
            hyper.epochs,
            X.shape[0],
            hyper.learning_rate,
            hyper.l2,
            f"batches of {hyper.batch_size}" if hyper.batch_size else "full batch",
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

    def oof_spread(self) -> np.ndarray:
        """(n, 2): per training point, the standard deviation over the members that held it
        out (NaN if none)."""
        self._require_fitted()
        members = self.predict_members(self.X_train_)
        mean = _oof_mean(members, self.validation_masks_)
        return np.sqrt(_oof_mean((members - mean) ** 2, self.validation_masks_))

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
            "hyperparameters": (
                self.hyperparameters_.as_dict() if self.hyperparameters_ is not None else None
            ),
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
        if state.get("format_version") not in READABLE_FORMATS:
            raise ValueError(f"unsupported ensemble format {state.get('format_version')!r}")
        ensemble = cls(HydrideMLPConfig.from_dict(state["config"]))
        ensemble.x_mean_ = np.asarray(state["scaling"]["x_mean"], dtype=float)
        ensemble.x_std_ = np.asarray(state["scaling"]["x_std"], dtype=float)
        ensemble.validation_masks_ = np.asarray(state["validation_masks"], dtype=bool)
        recorded = state.get("hyperparameters")
        ensemble.hyperparameters_ = Hyperparameters(**recorded) if recorded else None
        ensemble.X_train_ = np.asarray(state["X_train"], dtype=float)
        ensemble.y_train_ = np.asarray(state["y_train"], dtype=float)
        ensemble.history_ = _arrays(read(HISTORY_FILE), HISTORY_FILE)
        ensemble.model_ = build_model(ensemble.config, ensemble.x_mean_.shape[0])
        weights = _arrays(read(WEIGHTS_FILE), WEIGHTS_FILE)
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


def _arrays(data: bytes, name: str = "the ensemble's arrays") -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, refusing object arrays (which would unpickle) and
    headers claiming more than the archive holds, before numpy allocates anything (an
    ``ArrayArchiveError``, a ValueError)."""
    return npz_arrays(data, name)


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
