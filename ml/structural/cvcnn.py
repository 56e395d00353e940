"""The structural T_c network of Novakovic et al. (2023): complex 3-D convolutions + dense layers.

Why: the paper reads a crystal as the Fourier coefficients of its charge and mass densities
(δ×δ×δ×2 complex numbers, ``ml.fourier``) plus 175 numerical descriptors, and
predicts T_c with a two-branch network. The Fourier coefficients keep their phase only as
complex numbers, so the spatial branch uses cvnn's complex-valued layers:

- spatial: complex input (δ, δ, δ, 2) → ComplexConv3D(32, 3×3×3, cartesian ReLU) → complex
  average pooling 2×2×2 → ComplexDropout(0.5) → ComplexConv3D(32, 3×3×3) with the absolute
  value as activation (complex → real) → flatten;
- numerical: (175,) → 4 × Dense(256, ReLU);
- head: concatenate → 4 × (Dense(512, ReLU) + Dropout(0.5)) → Dense(1) = T_c in K.

With the default configuration this has 1,663,745 trainable parameters (each complex weight
counts as its real and imaginary parts), the ≈1.66 M of ``docs/STACK.md``.

Two named configurations (``CVCNN_CONFIGURATIONS`` of ``ml.structural.parameters``, built by
``configured``): ``tcdb``, the network above, and ``authors``, the network of the authors'
public code (METHODS.md section 3): a second average pooling and complex dropout after the
second convolution (``spatial_pools=2``: with δ = 13 the spatial branch ends in 1×1×1×32 values),
BatchNormalization after every Dense(ReLU) of both dense parts (``dense_normalisation="batch"``)
and no dense dropout (``head_dropout=0``), a ReLU output (``output_activation="relu"``), Adam
2.7e-4 with batches of 500, and the ``authors`` feature preset (``features``). It has 1,243,905
trainable parameters (and 6,144 non-trainable: the batch normalisations' running statistics).
cvnn's average pooling and dropout take the real tensor the |z| convolution gives as they take a
complex one (real and imaginary parts pooled separately; the mask cast to the input's type).

Choices of the ``tcdb`` configuration, fixed a priori (``CVCNNConfig``, recorded with
``as_dict()``; the ``authors`` configuration changes only what the paragraph above lists):

- Loss: Huber with δ = 7 K on T_c in kelvin, unscaled, so the paper's δ = 7 K applies as written
  (no label statistics enter the model, so nothing leaks from the validation points).
- Optimiser: Adam with ``learning_rate = 1e-3`` (Kingma & Ba's and Keras's default; our choice,
  the paper states none); ``batch_size = 32`` (Keras's default); 300 epochs as in the paper.
- Split: the caller gives the training and validation rows (``ml.evaluation``'s ``paper`` or
  ``grouped`` protocol, ``CVCNNConfig.protocol``); rows in neither, such as a test part, are
  never read. The weights of the epoch with the lowest validation loss are restored at the
  end (the paper keeps the best of 300 epochs). ``patience`` (default ``None``: off) stops
  training early after that many epochs without improvement; it is recorded in the config.
- ``members`` (default 1) is read by the training around ``train_cvcnn``
  (``ml.structural.ensemble``): that many networks on the split of ``seed``, member k with
  ``weight_seed = seed + k``; the network built here does not depend on it.
- Numerical inputs are standardised with a mean and standard deviation given by the caller
  (zero deviations are treated as one); the Fourier input is passed as complex64 unchanged.

cvnn 2.0 works only with the legacy Keras (tf-keras), so TensorFlow comes from
``ml.tensorflow_runtime`` and neither TensorFlow nor cvnn is imported at module level: importing
this module is cheap. cvnn is unmaintained and lives only here, so it can be swapped.

Serialization: cvnn's ``Zeros`` initializer (every cvnn layer's default bias initializer) has no
``get_config``, so a ``.keras`` file saves but does not load. ``register_cvnn_serialization``
adds ``get_config``/``from_config`` to that class once (a monkeypatch, not a subclass: the
layers create ``Zeros()`` themselves, so a subclass would have to be passed to every layer and
models built elsewhere would still fail to load) and returns the ``custom_objects`` that loading
needs. ``save_model`` and ``load_model`` call it; ``.h5`` is not supported (it does not reload).

Loading runs no code from the file: ``load_model`` accepts only a ``.keras`` zip archive (an HDF5
file, whatever its name, goes to Keras's legacy loader, where ``safe_mode`` does not apply, so
it is refused before any loader sees it), holding only the three members ``save_model`` writes,
whose ``config.json`` names only the classes and functions this network is built from
(``ARCHIVE_OBJECTS``): tf-keras's ``safe_mode`` stops ``lambda`` layers but still imports any
module a config names. Then tf-keras loads it with ``safe_mode=True`` and without compiling.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tcdb.core.errors import TcdbError
from tcdb.ml.evaluation import part_protocol
from tcdb.ml.parameters import BY_TIME_LAST_TRAINING_YEAR
from tcdb.ml.structural.parameters import CVCNN_CONFIGURATIONS, DEFAULT_CVCNN_CONFIGURATION
from tcdb.ml.tensorflow_runtime import seed_everything, tensorflow

logger = logging.getLogger(__name__)

N_NUMERICAL = 175
FOURIER_INPUT = "fourier"
NUMERICAL_INPUT = "numerical"


DENSE_NORMALISATIONS = ("none", "batch")
OUTPUT_ACTIVATIONS = ("linear", "relu")


@dataclass(frozen=True)
class CVCNNConfig:
    """Architecture and training settings (defaults: the paper's, plus our stated choices)."""

    delta: int = 13
    conv_filters: int = 32
    kernel: int = 3
    pool: int = 2
    dropout: float = 0.5
    numerical_units: tuple[int, ...] = (256, 256, 256, 256)
    head_units: tuple[int, ...] = (512, 512, 512, 512)
    head_dropout: float = 0.5
    configuration: str = "tcdb"  # the name of the configuration these values came from
    spatial_pools: int = 1  # 1: pool + dropout after the first convolution; 2: after both
    dense_normalisation: str = "none"  # "batch": BatchNormalization after every Dense(ReLU)
    output_activation: str = "linear"  # "relu": T_c ≥ 0, as the authors' code
    features: str = "tcdb"  # the feature preset (ml.structure_features.FEATURE_PRESETS)
    huber_delta_K: float = 7.0
    learning_rate: float = 1e-3  # Adam; our choice, the paper states none
    batch_size: int = 32
    epochs: int = 300
    patience: int | None = None  # early stopping off unless set
    validation_fraction: float = 0.2
    test_fraction: float = 0.2  # of the formulas, under the grouped protocol only
    # ml.evaluation: paper (random 80/20, optimistic) | grouped | grouped-by-system | by-time
    protocol: str = "paper"
    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR  # by-time only
    # The composition baselines' tree settings: a profile of the composition model, checked
    # through the registry when the run starts (ml.structural.baselines.baseline_trees;
    # Hamidieh's unbounded trees under "paper" are slow; "quick" caps the leaves).
    baseline_trees: str = "paper"
    seed: int = 0
    members: int = 1  # networks trained on the same split, member k from weight seed seed + k

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError(f"members must be at least 1, not {self.members}")
        if self.spatial_pools < 1:
            raise ValueError(f"spatial_pools must be at least 1, got {self.spatial_pools}")
        if not 0 <= self.head_dropout < 1:
            raise ValueError(f"head_dropout must be in [0, 1), got {self.head_dropout}")
        for name, allowed in (("dense_normalisation", DENSE_NORMALISATIONS),
                              ("output_activation", OUTPUT_ACTIVATIONS)):  # fmt: skip
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        self.split_protocol()  # an unknown protocol or a bad fraction is refused here

    def split_protocol(self):
        """The evaluation protocol these settings name (``ml.evaluation``)."""
        return part_protocol(self.protocol, self.validation_fraction, self.test_fraction, self.seed,
                             self.last_training_year)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-ready values."""
        values = asdict(self)
        values["numerical_units"] = list(self.numerical_units)
        values["head_units"] = list(self.head_units)
        return values


class ConfigurationError(TcdbError):
    """A configuration name that ``ml.structural.parameters.CVCNN_CONFIGURATIONS`` does not hold."""


def configured(name: str = DEFAULT_CVCNN_CONFIGURATION, **values: Any) -> CVCNNConfig:
    """The named configuration with ``values`` (profile values, explicit options) over it."""
    if name not in CVCNN_CONFIGURATIONS:
        raise ConfigurationError(f"No cvcnn configuration {name!r}; choose "
                                 f"{', '.join(CVCNN_CONFIGURATIONS)}.")  # fmt: skip
    return CVCNNConfig(**(CVCNN_CONFIGURATIONS[name] | values))


def register_cvnn_serialization() -> dict[str, Any]:
    """Make cvnn's ``Zeros`` serializable and return the ``custom_objects`` for loading.

    Idempotent. ``Zeros`` takes no arguments, so its configuration is empty.
    """
    tensorflow()
    from cvnn import activations, initializers, layers

    zeros = initializers.Zeros
    if "get_config" not in vars(zeros):
        zeros.get_config = lambda self: {}
        zeros.from_config = classmethod(lambda cls, config: cls(**config))
    custom: dict[str, Any] = {
        "Zeros": zeros,
        "ComplexGlorotUniform": initializers.ComplexGlorotUniform,
        "ComplexInput": layers.ComplexInput,
        "ComplexConv3D": layers.ComplexConv3D,
        "ComplexAvgPooling3D": layers.ComplexAvgPooling3D,
        "ComplexDropout": layers.ComplexDropout,
        "ComplexFlatten": layers.ComplexFlatten,
    }
    custom.update(activations.act_dispatcher)
    return custom


def spatial_output_size(config: CVCNNConfig) -> int:
    """Edge of the spatial branch's output cube (≤ 0: the cutoff is too small for it)."""
    d, k, p = config.delta, config.kernel, config.pool
    size = (d - k + 1) // p - k + 1
    for _ in range(config.spatial_pools - 1):
        size //= p
    return size


def _spatial_branch(config: CVCNNConfig) -> tuple[Any, Any]:
    """Complex input → conv (cart. ReLU) → avg pool → dropout → conv (|z|) → flatten, with
    ``spatial_pools − 1`` further (avg pool → dropout) after the second convolution."""
    tf = tensorflow()
    from cvnn import layers as cl

    d, k, p = config.delta, config.kernel, config.pool
    if (d - k + 1) // p < k or spatial_output_size(config) < 1:
        raise ValueError(f"delta={d} is too small for two {k}-wide convolutions with "
                         f"{config.spatial_pools} {p}-pool(s)")  # fmt: skip
    inputs = cl.complex_input(shape=(d, d, d, 2), name=FOURIER_INPUT)
    x = cl.ComplexConv3D(config.conv_filters, (k, k, k), activation="cart_relu")(inputs)
    x = cl.ComplexAvgPooling3D(pool_size=(p, p, p))(x)
    x = cl.ComplexDropout(config.dropout)(x)
    x = cl.ComplexConv3D(config.conv_filters, (k, k, k), activation="convert_to_real_with_abs")(x)
    for _ in range(config.spatial_pools - 1):  # on the real |z| tensor
        x = cl.ComplexAvgPooling3D(pool_size=(p, p, p))(x)
        x = cl.ComplexDropout(config.dropout)(x)
    return inputs, tf.keras.layers.Flatten()(x)


def _dense(x: Any, units: int, config: CVCNNConfig) -> Any:
    """Dense(ReLU), then BatchNormalization if the configuration asks for it."""
    tf = tensorflow()
    x = tf.keras.layers.Dense(units, activation="relu")(x)
    if config.dense_normalisation == "batch":
        x = tf.keras.layers.BatchNormalization()(x)
    return x


def _numerical_branch(config: CVCNNConfig, n_numerical: int) -> tuple[Any, Any]:
    """Real input → stacked ReLU dense layers (each batch-normalised if configured)."""
    tf = tensorflow()
    inputs = tf.keras.Input(shape=(n_numerical,), name=NUMERICAL_INPUT)
    x = inputs
    for units in config.numerical_units:
        x = _dense(x, units, config)
    return inputs, x


def build_cvcnn(config: CVCNNConfig = CVCNNConfig(), n_numerical: int = N_NUMERICAL) -> Any:
    """The compiled two-input model: ``[fourier (δ,δ,δ,2) complex, numerical (n,)]`` → T_c (K)."""
    tf = tensorflow()
    register_cvnn_serialization()
    fourier_in, spatial = _spatial_branch(config)
    numerical_in, numerical = _numerical_branch(config, n_numerical)
    x = tf.keras.layers.Concatenate()([spatial, numerical])
    for units in config.head_units:
        x = _dense(x, units, config)
        if config.head_dropout > 0:
            x = tf.keras.layers.Dropout(config.head_dropout)(x)
    activation = None if config.output_activation == "linear" else config.output_activation
    tc = tf.keras.layers.Dense(1, activation=activation, name="tc_K")(x)
    model = tf.keras.Model(inputs=[fourier_in, numerical_in], outputs=tc, name="cvcnn")
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=tf.keras.losses.Huber(delta=config.huber_delta_K),
    )
    return model


def trainable_parameter_count(model_or_layer: Any) -> int:
    """Number of trainable scalars (a complex cvnn weight is stored as two real variables)."""
    return int(sum(np.prod(w.shape) for w in model_or_layer.trainable_weights))


def save_model(model: Any, path: str | Path) -> Path:
    """Save to a ``.keras`` file (the only format that reloads with cvnn layers)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"save to a .keras file, not {path.name!r}")
    register_cvnn_serialization()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # tf-keras warns that Zeros is no Keras Initializer
        warnings.filterwarnings(
            "ignore", message=".*initializers.serialize.*", category=UserWarning
        )
        model.save(path)
    return path


ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ARCHIVE_MEMBERS = {"metadata.json", "config.json", "model.weights.h5"}
# (module, class_name) of every object the network's config.json names, as save_model writes it.
ARCHIVE_OBJECTS = {
    ("tf_keras.src.engine.functional", "Functional"),
    ("cvnn.layers.core", "ComplexInput"),
    ("cvnn.layers.core", "ComplexDropout"),
    ("cvnn.layers.convolutional", "ComplexConv3D"),
    ("cvnn.layers.pooling", "ComplexAvgPooling3D"),
    ("cvnn.initializers", "ComplexGlorotUniform"),
    ("cvnn.initializers", "Zeros"),
    ("keras.layers", "InputLayer"),
    ("keras.layers", "Dense"),
    ("keras.layers", "Dropout"),
    ("keras.layers", "Flatten"),
    ("keras.layers", "Concatenate"),
    ("keras.layers", "BatchNormalization"),  # the authors' configuration
    ("keras.initializers", "GlorotUniform"),
    ("keras.initializers", "Zeros"),
    ("keras.initializers", "Ones"),  # BatchNormalization's gamma and moving variance
    ("keras.losses", "Huber"),
    ("keras.optimizers", "Adam"),
    ("builtins", "function"),
}
ARCHIVE_FUNCTIONS = {"cart_relu", "convert_to_real_with_abs"}  # cvnn activations, by name


class ModelFileError(ValueError):
    """A model file is not a ``.keras`` archive this module wrote; it was not loaded."""


def check_model_archive(path: str | Path) -> None:
    """Refuse, before any loader reads it, a file that is not a ``.keras`` zip archive with
    only ``save_model``'s members and only allow-listed objects in its configuration."""
    import json
    import zipfile

    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path.name}: only .keras archives are loaded, not {path.suffix!r}")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(HDF5_MAGIC):
        raise ModelFileError(f"{path.name} is an HDF5 file, not a .keras zip archive")
    if not head.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name} is not a .keras zip archive")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if names != ARCHIVE_MEMBERS:
            odd = sorted(names ^ ARCHIVE_MEMBERS)
            raise ModelFileError(f"{path.name} holds unexpected or missing members: {odd}")
        try:
            config = json.loads(archive.read("config.json"))
        except ValueError:
            raise ModelFileError(f"{path.name}: config.json is not JSON") from None
    for node in _config_objects(config):
        named = (node.get("module"), node.get("class_name"))
        registered = node.get("registered_name", named[1])
        if named not in ARCHIVE_OBJECTS or registered not in (None, named[1]):
            raise ModelFileError(f"{path.name} names {named[1]!r} from {named[0]!r}, "
                                 "which this network never uses")  # fmt: skip
        if named == ("builtins", "function") and node.get("config") not in ARCHIVE_FUNCTIONS:
            raise ModelFileError(f"{path.name} names the function {node.get('config')!r}, "
                                 "which this network never uses")  # fmt: skip


def _config_objects(value: Any):
    """Every dict in a Keras config that names a class or function to deserialise."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def load_model(path: str | Path) -> Any:
    """Load a model written by ``save_model``: checked first, then loaded in safe mode."""
    check_model_archive(path)
    tf = tensorflow()
    custom = register_cvnn_serialization()
    with warnings.catch_warnings():  # the same Zeros warning as on saving
        warnings.filterwarnings(
            "ignore", message=".*initializers.serialize.*", category=UserWarning
        )
        return tf.keras.models.load_model(
            Path(path), custom_objects=custom, compile=False, safe_mode=True
        )


def load_model_bytes(data: bytes) -> Any:
    """Load a model from bytes already checked against a run manifest, through a private
    temporary file, so the loader reads exactly the bytes that were hashed."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tcdb-model-") as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        return load_model(path)


def _scale(numerical: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Standardise the numerical inputs (zero deviations count as one), as float32."""
    std = np.where(np.asarray(std, dtype=float) > 0, std, 1.0)
    return ((np.asarray(numerical, dtype=float) - mean) / std).astype(np.float32)


def _inputs(fourier: np.ndarray, numerical: np.ndarray, mean: Any, std: Any) -> list[np.ndarray]:
    """The model's two inputs: complex64 Fourier coefficients and scaled descriptors."""
    if len(fourier) != len(numerical):
        raise ValueError(f"{len(fourier)} Fourier arrays but {len(numerical)} descriptor rows")
    return [np.asarray(fourier, dtype=np.complex64), _scale(numerical, mean, std)]


def _best_weights_callback(patience: int | None) -> Any:
    """A callback that keeps the lowest-validation-loss weights, restores them, may stop early."""
    tf = tensorflow()

    class KeepBest(tf.keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.best_loss = np.inf
            self.best_epoch = -1
            self.best_weights: list[np.ndarray] | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            loss = (logs or {}).get("val_loss", np.nan)
            if np.isfinite(loss) and loss < self.best_loss:
                self.best_loss, self.best_epoch = float(loss), epoch
                self.best_weights = self.model.get_weights()
            elif patience is not None and epoch - self.best_epoch >= patience:
                self.model.stop_training = True

        def on_train_end(self, logs: dict[str, float] | None = None) -> None:
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    return KeepBest()


def _epoch_timer() -> Any:
    """A callback that records each epoch's wall time: training, validation and the other
    callbacks' work (it runs last). The first epoch also traces the graph."""
    tf = tensorflow()

    class EpochTimer(tf.keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self.started = 0.0

        def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            self.seconds.append(time.perf_counter() - self.started)

    return EpochTimer()


def _checked_split(split: tuple[np.ndarray, np.ndarray], n: int) -> tuple[np.ndarray, ...]:
    """The (training, validation) rows as integer arrays: non-empty, disjoint, within n."""
    train, val = (np.asarray(part, dtype=np.int64).reshape(-1) for part in split)
    if not len(train) or not len(val):
        raise ValueError(f"{len(train)} training and {len(val)} validation rows: need both")
    if min(train.min(), val.min()) < 0 or max(train.max(), val.max()) >= n:
        raise ValueError(f"split rows outside the {n} samples")
    if np.intersect1d(train, val).size:
        raise ValueError("a row is in both the training and the validation part")
    return train, val


def train_cvcnn(
    config: CVCNNConfig,
    fourier: np.ndarray,
    numerical: np.ndarray,
    y: np.ndarray,
    numerical_mean: np.ndarray,
    numerical_std: np.ndarray,
    progress: bool = True,
    weight_seed: int | None = None,
    *,
    split: tuple[np.ndarray, np.ndarray],
) -> tuple[Any, dict[str, Any], np.ndarray]:
    """Train on the caller's ``split`` = (training rows, validation rows); the checkpoint is the
    epoch with the lowest loss on the validation rows. Rows in neither (a test part) are never
    read. Returns (model at its best epoch, history, validation rows).

    The split always comes from ``config.seed``; the initial weights and the shuffling from
    ``weight_seed`` (default ``config.seed``), so ensemble members share one split.

    ``history`` holds the per-epoch ``loss`` and ``val_loss`` lists (Huber, K), ``best_epoch``
    (0-based index into them; −1 if no validation loss was finite), ``best_val_loss``,
    ``epochs_run``, ``seconds`` and ``epoch_seconds`` (each epoch's wall time).
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    x = _inputs(fourier, numerical, numerical_mean, numerical_std)
    if len(y) != len(x[0]):
        raise ValueError(f"{len(y)} labels for {len(x[0])} samples")
    train, val = _checked_split(split, len(y))
    seed_everything(config.seed if weight_seed is None else weight_seed)
    model = build_cvcnn(config, x[1].shape[1])
    keep = _best_weights_callback(config.patience)
    timer = _epoch_timer()
    start = time.perf_counter()
    fitted = model.fit(
        [a[train] for a in x],
        y[train],
        validation_data=([a[val] for a in x], y[val]),
        batch_size=config.batch_size,
        epochs=config.epochs,
        shuffle=True,
        callbacks=[keep, timer],
        verbose=2 if progress else 0,
    )
    seconds = time.perf_counter() - start
    history: dict[str, Any] = {
        key: [float(v) for v in vals] for key, vals in fitted.history.items()
    }
    history.update(
        best_epoch=keep.best_epoch,
        best_val_loss=keep.best_loss,
        epochs_run=len(history.get("loss", [])),
        seconds=seconds,
        epoch_seconds=timer.seconds,
    )
    logger.info(
        "trained the CVCNN on %d samples for %d epochs in %.0f s; best epoch %d (val. Huber %.3g)",
        len(train),
        history["epochs_run"],
        seconds,
        keep.best_epoch,
        keep.best_loss,
    )
    return model, history, val


def predict(
    model: Any,
    fourier: np.ndarray,
    numerical: np.ndarray,
    numerical_mean: np.ndarray,
    numerical_std: np.ndarray,
    batch_size: int = 256,
) -> np.ndarray:
    """Predicted T_c (K), one per sample, computed in batches.

    Each batch goes through ``predict_on_batch``, the compiled forward pass ``predict`` runs
    per batch, without the dataset and callbacks ``predict`` builds around it on every call:
    the same floats in three quarters of the time for the morph engine's 2,048-structure
    batches (measured 2026-12-07)."""
    x = _inputs(fourier, numerical, numerical_mean, numerical_std)
    if len(x[0]) == 0:
        return np.empty(0, dtype=np.float32)
    out = [
        np.asarray(model.predict_on_batch([part[start : start + batch_size] for part in x]))
        for start in range(0, len(x[0]), batch_size)
    ]
    return np.concatenate(out).reshape(-1)
