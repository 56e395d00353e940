"""The complex-valued structural model: shapes, trainable complex kernels, seeding, reloading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tcdb.ml.evaluation import random_split
from tcdb.ml.structural import cvcnn

REPO = Path(__file__).resolve().parents[3]
N_NUMERICAL = 6


def tiny_config(**changes) -> cvcnn.CVCNNConfig:
    values = {
        "delta": 7,
        "kernel": 2,
        "conv_filters": 2,
        "numerical_units": (8, 8),
        "head_units": (16, 16),
        "head_dropout": 0.1,
        "dropout": 0.1,
        "learning_rate": 1e-2,
        "batch_size": 16,
        "epochs": 3,
        "seed": 11,
    }
    return cvcnn.CVCNNConfig(**{**values, **changes})


def structured_data(n: int = 64, delta: int = 7, seed: int = 2) -> tuple[np.ndarray, ...]:
    """Fourier arrays and descriptors with T_c depending on both (tens of kelvin)."""
    rng = np.random.default_rng(seed)
    amplitude = rng.uniform(0.5, 2.0, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=(n, delta, delta, delta, 2))
    fourier = (amplitude[:, None, None, None, None] * np.exp(1j * phase)).astype(np.complex64)
    numerical = rng.normal(10.0, 3.0, size=(n, N_NUMERICAL))
    y = 20 * amplitude + 3 * numerical[:, 0] + rng.normal(0, 1, size=n)
    return fourier, numerical, y, numerical.mean(axis=0), numerical.std(axis=0)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, ...]:
    return structured_data()


def seeded_split(data) -> tuple[np.ndarray, np.ndarray]:
    return random_split(len(data[2]), 0.2, tiny_config().seed)


@pytest.fixture(scope="module")
def trained(data) -> tuple:
    return cvcnn.train_cvcnn(tiny_config(), *data, progress=False, split=seeded_split(data))


def test_importing_the_module_does_not_import_tensorflow():
    code = (
        "import tcdb.ml.structural.cvcnn, sys; "
        "print('tensorflow' in sys.modules or 'cvnn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_config_records_its_values():
    values = cvcnn.CVCNNConfig().as_dict()
    assert values["delta"] == 13 and values["huber_delta_K"] == 7.0
    assert values["head_units"] == [512] * 4 and values["patience"] is None


def test_too_small_a_cutoff_is_refused():
    with pytest.raises(ValueError, match="too small"):
        cvcnn.build_cvcnn(tiny_config(delta=5, kernel=3), N_NUMERICAL)


def test_build_gives_one_output_and_trainable_complex_kernels():
    config = tiny_config()
    model = cvcnn.build_cvcnn(config, N_NUMERICAL)
    fourier, numerical, *_ = structured_data(n=3)
    out = model([fourier, numerical.astype(np.float32)], training=False)
    assert tuple(out.shape) == (3, 1)
    convs = [layer for layer in model.layers if type(layer).__name__ == "ComplexConv3D"]
    assert len(convs) == 2
    for layer in convs:
        assert layer.my_dtype.is_complex
        names = {w.name.split("/")[-1].split(":")[0] for w in layer.trainable_weights}
        assert {"kernel_r", "kernel_i"} <= names
        assert cvcnn.trainable_parameter_count(layer) > 0


def test_default_model_has_about_1_66_million_parameters():
    model = cvcnn.build_cvcnn()
    assert cvcnn.trainable_parameter_count(model) == 1_663_745
    assert model.count_params() == 1_663_745


def test_training_reduces_the_loss_on_the_callers_split(data, trained):
    _, history, validation = trained
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["val_loss"]) == history["epochs_run"] == 3
    assert history["best_epoch"] == int(np.argmin(history["val_loss"]))
    epochs = history["epoch_seconds"]  # each epoch timed, together no longer than the fit
    assert len(epochs) == 3 and all(s > 0 for s in epochs) and sum(epochs) <= history["seconds"]
    np.testing.assert_array_equal(validation, seeded_split(data)[1])


@pytest.mark.parametrize(
    "split, reason",
    [((np.arange(0, 40), np.arange(30, 50)), "both"), ((np.arange(10), np.arange(0)), "need"),
     ((np.arange(10), np.array([70])), "outside")],
)  # fmt: skip
def test_a_split_that_overlaps_is_empty_or_out_of_range_is_refused(data, split, reason):
    with pytest.raises(ValueError, match=reason):
        cvcnn.train_cvcnn(tiny_config(), *data, progress=False, split=split)


def test_rows_outside_the_split_are_never_read(data, trained):
    """Labels of rows in neither part (a test part) can be anything: training is unchanged."""
    fourier, numerical, y, mean, std = data
    train, val = seeded_split(data)
    train, outside = train[8:], train[:8]
    spoiled = y.copy()
    spoiled[outside] = 1e6
    again, history, _ = cvcnn.train_cvcnn(tiny_config(), fourier, numerical, spoiled, mean, std,
                                          progress=False, split=(train, val))  # fmt: skip
    reference, reference_history, _ = cvcnn.train_cvcnn(
        tiny_config(), fourier, numerical, y, mean, std, progress=False, split=(train, val)
    )
    assert history["val_loss"] == reference_history["val_loss"]
    np.testing.assert_array_equal(
        cvcnn.predict(again, fourier, numerical, mean, std),
        cvcnn.predict(reference, fourier, numerical, mean, std),
    )


def test_training_is_reproducible(data, trained):
    model, _, _ = trained
    again, _, _ = cvcnn.train_cvcnn(tiny_config(), *data, progress=False, split=seeded_split(data))
    fourier, numerical, _, mean, std = data
    first = cvcnn.predict(model, fourier, numerical, mean, std)
    second = cvcnn.predict(again, fourier, numerical, mean, std)
    assert first.shape == (len(fourier),)
    np.testing.assert_array_equal(first, second)


def test_predict_is_batched_consistently(data, trained):
    model, _, _ = trained
    fourier, numerical, _, mean, std = data
    whole = cvcnn.predict(model, fourier, numerical, mean, std, batch_size=256)
    pieces = cvcnn.predict(model, fourier, numerical, mean, std, batch_size=7)
    np.testing.assert_allclose(whole, pieces, rtol=0, atol=1e-5)


def test_save_and_load_give_identical_predictions(tmp_path, data, trained):
    model, _, _ = trained
    fourier, numerical, _, mean, std = data
    path = cvcnn.save_model(model, tmp_path / "cvcnn.keras")
    loaded = cvcnn.load_model(path)
    np.testing.assert_array_equal(
        cvcnn.predict(loaded, fourier, numerical, mean, std),
        cvcnn.predict(model, fourier, numerical, mean, std),
    )


def test_save_refuses_other_formats(tmp_path, trained):
    with pytest.raises(ValueError, match=r"\.keras"):
        cvcnn.save_model(trained[0], tmp_path / "cvcnn.h5")


def test_best_weights_are_restored_and_patience_stops(data):
    model = cvcnn.build_cvcnn(tiny_config(), N_NUMERICAL)
    keep = cvcnn._best_weights_callback(patience=2)
    keep.set_model(model)
    best = [w.copy() for w in model.get_weights()]
    for epoch, loss in enumerate([5.0, 3.0, 4.0]):
        if epoch == 2:
            model.set_weights([w + 1 for w in best])
        keep.on_epoch_end(epoch, {"val_loss": loss})
        if epoch == 1:
            best = [w.copy() for w in model.get_weights()]
    assert keep.best_epoch == 1 and not model.stop_training
    keep.on_epoch_end(3, {"val_loss": 4.0})
    assert model.stop_training
    keep.on_train_end()
    for restored, kept in zip(model.get_weights(), best, strict=True):
        np.testing.assert_array_equal(restored, kept)


# --- the two named configurations ------------------------------------------------------------


def expected_trainable(config: cvcnn.CVCNNConfig, n_numerical: int) -> int:
    """Trainable scalars counted from the architecture: a complex weight is two reals, a batch
    normalisation trains a scale and an offset per unit."""
    k, f = config.kernel, config.conv_filters
    spatial = 2 * (k**3 * 2 * f + f) + 2 * (k**3 * f * f + f)
    flat = cvcnn.spatial_output_size(config) ** 3 * f
    normalised = 2 if config.dense_normalisation == "batch" else 0
    dense, width = 0, n_numerical
    for units in config.numerical_units:
        dense += width * units + units + normalised * units
        width = units
    width += flat
    for units in config.head_units:
        dense += width * units + units + normalised * units
        width = units
    return spatial + dense + width + 1


def test_the_default_configuration_is_tcdb_and_is_the_dataclass_default():
    from tcdb.ml.structural.parameters import CVCNN_CONFIGURATIONS, DEFAULT_CVCNN_CONFIGURATION

    assert DEFAULT_CVCNN_CONFIGURATION == "tcdb"
    assert cvcnn.configured() == cvcnn.configured("tcdb") == cvcnn.CVCNNConfig()
    assert set(CVCNN_CONFIGURATIONS["tcdb"]) == set(CVCNN_CONFIGURATIONS["authors"])


def test_the_authors_configuration_has_the_values_of_their_code():
    authors, tcdb = cvcnn.configured("authors"), cvcnn.CVCNNConfig()
    recorded = authors.as_dict()
    assert recorded["configuration"] == "authors" and recorded["features"] == "authors"
    assert (authors.spatial_pools, authors.dense_normalisation, authors.head_dropout,
            authors.output_activation) == (2, "batch", 0.0, "relu")  # fmt: skip
    assert (authors.learning_rate, authors.batch_size) == (2.7e-4, 500)
    # what the authors' code shares with ours stays ours
    same = ("delta", "conv_filters", "kernel", "pool", "dropout", "numerical_units",
            "head_units", "huber_delta_K", "epochs", "validation_fraction")  # fmt: skip
    assert all(getattr(authors, name) == getattr(tcdb, name) for name in same)


def test_values_given_go_over_the_configuration_and_bad_ones_are_refused():
    assert cvcnn.configured("authors", epochs=2, batch_size=8).batch_size == 8
    with pytest.raises(cvcnn.ConfigurationError, match="choose tcdb, authors"):
        cvcnn.configured("paper")
    with pytest.raises(ValueError, match="dense_normalisation"):
        cvcnn.CVCNNConfig(dense_normalisation="layer")
    with pytest.raises(ValueError, match="output_activation"):
        cvcnn.CVCNNConfig(output_activation="softplus")
    with pytest.raises(ValueError, match="too small"):
        cvcnn.build_cvcnn(cvcnn.configured("authors", delta=8), N_NUMERICAL)


@pytest.mark.parametrize("name", ["tcdb", "authors"])
def test_both_full_size_networks_count_their_parameters(name):
    config = cvcnn.configured(name)
    model = cvcnn.build_cvcnn(config)
    assert cvcnn.trainable_parameter_count(model) == expected_trainable(config, cvcnn.N_NUMERICAL)
    kinds = [type(layer).__name__ for layer in model.layers]
    if name == "tcdb":
        assert cvcnn.trainable_parameter_count(model) == 1_663_745
        assert (kinds.count("ComplexAvgPooling3D"), kinds.count("BatchNormalization")) == (1, 0)
        return
    assert cvcnn.spatial_output_size(config) == 1  # δ = 13 leaves 1×1×1×32 values
    assert cvcnn.trainable_parameter_count(model) == 1_243_905
    assert kinds.count("ComplexAvgPooling3D") == kinds.count("ComplexDropout") == 2
    assert kinds.count("BatchNormalization") == 8 and "Dropout" not in kinds
    normalisations = 4 * 2 * (256 + 512)  # running mean and variance, not trained
    assert model.count_params() == cvcnn.trainable_parameter_count(model) + normalisations
    assert model.get_layer("tc_K").get_config()["activation"] == "relu"


def test_cvnn_pools_and_drops_the_real_tensor_after_the_absolute_value():
    from cvnn import layers as cl

    real = np.random.default_rng(5).uniform(1, 2, size=(2, 4, 4, 4, 3)).astype(np.float32)
    pooled = cl.ComplexAvgPooling3D(pool_size=(2, 2, 2))(real).numpy()
    assert pooled.dtype == np.float32 and pooled.shape == (2, 2, 2, 2, 3)
    np.testing.assert_allclose(pooled[0, 0, 0, 0], real[0, :2, :2, :2].mean(axis=(0, 1, 2)),
                               rtol=1e-6)  # fmt: skip
    dropout = cl.ComplexDropout(0.5, seed=3)
    np.testing.assert_array_equal(dropout(real, training=False).numpy(), real)
    dropped = dropout(real, training=True).numpy()
    assert dropped.dtype == np.float32
    kept = dropped != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(dropped[kept], 2 * real[kept], rtol=1e-6)


def authors_tiny(**changes) -> cvcnn.CVCNNConfig:
    values = {"delta": 7, "kernel": 2, "conv_filters": 2, "numerical_units": (8, 8),
              "head_units": (16, 16), "learning_rate": 1e-2, "epochs": 3, "seed": 11}  # fmt: skip
    return cvcnn.configured("authors", **{**values, **changes})


def test_the_authors_network_trains_saves_passes_the_archive_check_and_reloads(tmp_path, data):
    model, history, _ = cvcnn.train_cvcnn(
        authors_tiny(), *data, progress=False, split=seeded_split(data)
    )
    assert history["epochs_run"] == 3
    fourier, numerical, _, mean, std = data
    predicted = cvcnn.predict(model, fourier, numerical, mean, std)
    assert (predicted >= 0).all()  # the ReLU output
    path = cvcnn.save_model(model, tmp_path / "authors.keras")
    cvcnn.check_model_archive(path)
    loaded = cvcnn.load_model(path)
    kinds = [type(layer).__name__ for layer in loaded.layers]
    assert kinds.count("BatchNormalization") == 4 and kinds.count("ComplexAvgPooling3D") == 2
    np.testing.assert_array_equal(cvcnn.predict(loaded, fourier, numerical, mean, std), predicted)
