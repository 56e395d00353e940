"""The vectorised (T_c, P) ensemble: equal to independent networks, masked, seeded, saved."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tcdb.ml.hydride import ensemble as he
from tcdb.ml.hydride.training import METRIC_PREFIXES as TARGETS
from tcdb.ml.metrics import regression_targets

REPO = Path(__file__).resolve().parents[3]
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def synthetic(n: int = 24, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Eight descriptors and noisy (T_c, P) labels of the data's size and units."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)) * 5 + 10
    y = np.column_stack([100 + 10 * X[:, 0], 150 - 5 * X[:, 1]]) + rng.normal(0, 60, (n, 2))
    return X, y


def small_config(**changes) -> he.HydrideMLPConfig:
    values = {"members": 4, "max_epochs": 150, "learning_rate": 1e-2, "l2": 1e-4, "seed": 7}
    return he.HydrideMLPConfig(**{**values, **changes})


def fit_small(X, y, **changes) -> he.HydrideEnsemble:
    return he.HydrideEnsemble(small_config(**changes)).fit(X, y, X.mean(axis=0), X.std(axis=0))


def member_weights(ensemble: he.HydrideEnsemble, member: int) -> list[np.ndarray]:
    return [w[member] for w in ensemble.model_.get_weights()]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return synthetic()


@pytest.fixture(scope="module")
def fitted(data) -> he.HydrideEnsemble:
    return fit_small(*data)


def selu(x: np.ndarray) -> np.ndarray:
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1))


def test_importing_the_module_does_not_import_tensorflow():
    code = "import sys, tcdb.ml.hydride.ensemble; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "False"


def test_ensemble_layers_equal_independent_dense_stacks_in_numpy():
    members, sizes = 5, (8, 32, 32, 2)
    layers = [
        he.EnsembleDense(members, units, activation=act, dtype="float64")
        for units, act in zip(sizes[1:], ("selu", "selu", None), strict=True)
    ]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(11, sizes[0]))
    out = x
    for layer, fan_in in zip(layers, sizes[:-1], strict=True):
        layer.build((None, fan_in))
        kernel = rng.normal(size=layer.kernel.shape) / np.sqrt(fan_in)
        layer.set_weights([kernel, rng.normal(size=layer.bias.shape)])
        out = layer(out)
    out = out.numpy()
    assert out.shape == (members, 11, 2)
    for m in range(members):
        h = x
        for index, layer in enumerate(layers):
            kernel, bias = (w[m] for w in layer.get_weights())
            h = h @ kernel + bias
            h = selu(h) if index < 2 else h
        np.testing.assert_allclose(out[m], h, rtol=1e-12, atol=1e-12)


def test_validation_masks_are_seeded_quarter_splits():
    masks = he.validation_masks(40, 64, 0.25, seed=5)
    assert masks.shape == (64, 40) and masks.dtype == bool
    assert (masks.sum(axis=1) == 10).all()
    assert len({row.tobytes() for row in masks}) == 64
    np.testing.assert_array_equal(masks, he.validation_masks(40, 64, 0.25, seed=5))
    assert not np.array_equal(masks, he.validation_masks(40, 64, 0.25, seed=6))


def test_validation_targets_do_not_touch_the_member_holding_them_out(data):
    X, y = data
    first = fit_small(X, y, max_epochs=25)
    masks = first.validation_masks_
    moved = masks[0] & ~masks[1]  # held out by member 0, trained on by member 1
    assert moved.any()
    y_moved = y.copy()
    y_moved[moved] += 300.0
    second = fit_small(X, y_moved, max_epochs=25)
    for a, b in zip(member_weights(first, 0), member_weights(second, 0), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.history_["train"][:, 0], second.history_["train"][:, 0])
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(member_weights(first, 1), member_weights(second, 1), strict=True)
    ]
    assert all(changed)


def scaled_validation_error(ensemble: he.HydrideEnsemble) -> np.ndarray:
    """Each member's mean |(ΔT_c, ΔP)|² / 100² over its own validation points."""
    error = (ensemble.predict_members(ensemble.X_train_) - ensemble.y_train_) / 100.0
    squared = (error**2).sum(axis=-1)
    masks = ensemble.validation_masks_
    return (squared * masks).sum(axis=1) / masks.sum(axis=1)


@pytest.mark.parametrize("output", ["softplus", "linear"])
def test_a_member_trains_like_a_lone_keras_network_on_its_own_split(data, output):
    X, y = data
    mean, std = X.mean(axis=0), X.std(axis=0)
    config = small_config(members=3, max_epochs=20, l2=0.05, output_activation=output)
    ensemble = he.HydrideEnsemble(config).fit(X, y, mean, std)
    # Full batch: an epoch's errors are measured before its update, so the last recorded
    # held-out error is not yet the final weights'; one more forward pass says what it is.
    assert ensemble.history_["validation"].shape == (20, 3)
    initial = he.build_model(config, X.shape[1]).get_weights()
    tf = he._tf()
    for member in (0, 2):
        lone = tf.keras.Sequential(
            [
                tf.keras.layers.Dense(
                    32, "selu", kernel_regularizer=tf.keras.regularizers.L2(0.05)
                ),
                tf.keras.layers.Dense(
                    32, "selu", kernel_regularizer=tf.keras.regularizers.L2(0.05)
                ),
                tf.keras.layers.Dense(2, None if output == "linear" else output),
            ]
        )
        lone.build((None, X.shape[1]))
        lone.set_weights([w[member] for w in initial])
        lone.compile(
            optimizer=tf.keras.optimizers.Adam(config.learning_rate),
            loss=lambda t, p: tf.reduce_sum(tf.square(t - p), axis=-1),
        )
        train = ~ensemble.validation_masks_[member]
        x_train = ((X[train] - mean) / std).astype(np.float32)
        y_train = (y[train] / 100.0).astype(np.float32)
        lone.fit(x_train, y_train, batch_size=train.sum(), epochs=20, shuffle=False, verbose=0)
        for a, b in zip(lone.get_weights(), member_weights(ensemble, member), strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_every_member_trains_the_chosen_epochs_and_records_its_held_out_curve(fitted):
    val = fitted.history_["validation"]
    assert val.shape == fitted.history_["train"].shape == (150, 4)
    assert fitted.hyperparameters_ == he.Hyperparameters(1e-2, 1e-4, 0, 150)
    # the held-out curve is recorded, never used: the weights are the last epoch's
    assert (val.argmin(axis=0) < 149).any(), "no member overfitted; the check would be empty"
    assert np.all(scaled_validation_error(fitted) >= val.min(axis=0) * (1 - 1e-5))


def test_the_softplus_outputs_are_never_negative_even_far_from_the_data(fitted):
    far = np.random.default_rng(0).normal(size=(200, 8)) * 200
    assert (fitted.predict_members(far) >= 0).all()
    linear = fit_small(*synthetic(), max_epochs=30, output_activation="linear")
    assert (linear.predict_members(far) < 0).any(), "a linear output would go negative here"


def test_same_seed_same_predictions_other_seed_differs(data, fitted):
    X, y = data
    again = fit_small(X, y)
    np.testing.assert_array_equal(again.predict_members(X), fitted.predict_members(X))
    other = fit_small(X, y, seed=8)
    assert not np.allclose(other.predict_members(X), fitted.predict_members(X))
    assert not np.array_equal(other.validation_masks_, fitted.validation_masks_)


def test_save_and_load_predict_identically(fitted, tmp_path):
    fitted.save(tmp_path / "ensemble")
    loaded = he.HydrideEnsemble.load(tmp_path / "ensemble")
    grid = synthetic(50, seed=11)[0]
    np.testing.assert_array_equal(loaded.predict_members(grid), fitted.predict_members(grid))
    np.testing.assert_array_equal(loaded.oof_predictions(), fitted.oof_predictions())
    np.testing.assert_array_equal(loaded.validation_masks_, fitted.validation_masks_)
    assert loaded.hyperparameters_ == fitted.hyperparameters_
    np.testing.assert_array_equal(loaded.history_["validation"], fitted.history_["validation"])
    assert loaded.config == fitted.config


def test_oof_averages_only_the_members_that_held_each_point_out(fitted):
    members = fitted.predict_members(fitted.X_train_)
    masks = fitted.validation_masks_
    oof = fitted.oof_predictions()
    counts = masks.sum(axis=0)
    assert (counts == 0).any() and (counts >= 2).any(), "need unheld and multiply held points"
    for i in range(masks.shape[1]):
        holders = np.flatnonzero(masks[:, i])
        if holders.size == 0:
            assert np.isnan(oof[i]).all()
        else:
            np.testing.assert_allclose(oof[i], members[holders, i].mean(axis=0), rtol=1e-12)
    held = counts > 0
    assert not np.allclose(oof[held], members.mean(axis=0)[held])


def test_linear_baseline_recovers_an_exact_linear_law_out_of_fold():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 8))
    y = X @ rng.normal(size=(8, 2)) + np.array([100.0, 50.0])
    masks = he.validation_masks(30, 6, 0.25, seed=0)
    oof = he.linear_baseline_oof(X, y, masks)
    held = masks.any(axis=0)
    assert np.isnan(oof[~held]).all()
    np.testing.assert_allclose(oof[held], y[held], atol=1e-8)
    np.testing.assert_allclose(he.fit_linear(X, y).predict(X), y, atol=1e-8)


def test_regression_metrics_ignore_nan_rows():
    y_true = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    y_pred = np.array([[1.0, 12.0], [4.0, 20.0], [np.nan, 0.0], [4.0, 40.0]])
    m = regression_targets(y_true, y_pred, TARGETS)
    assert m["n"] == 3
    assert m["tc_rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert m["tc_mae"] == pytest.approx(2 / 3)
    assert m["tc_r2"] == pytest.approx(1 - 4 / (14 / 3))  # SST = (16 + 1 + 25) / 9
    assert m["pressure_rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert m["pressure_mae"] == pytest.approx(2 / 3)
    assert m["pressure_r2"] == pytest.approx(1 - 4 / (4200 / 9))  # SST = (1600 + 100 + 2500) / 9


def test_config_round_trips_and_rejects_nonsense():
    config = he.HydrideMLPConfig(hidden_units=[16, 8], seed=3)
    assert config.hidden_units == (16, 8)
    assert he.HydrideMLPConfig.from_dict(config.as_dict()) == config
    defaults = he.HydrideMLPConfig()
    assert (defaults.members, defaults.hidden_units, defaults.activation) == (64, (32, 32), "selu")
    assert (defaults.output_activation, defaults.search) == ("softplus", True)
    with pytest.raises(ValueError, match="validation_fraction"):
        he.HydrideMLPConfig(validation_fraction=0.0)
    with pytest.raises(ValueError, match="output_activation"):
        he.HydrideMLPConfig(output_activation="relu6")


def test_a_configuration_recorded_before_constrained_outputs_loads_as_it_was_trained():
    old = {"members": 64, "hidden_units": [32, 32], "activation": "selu", "l2": 1e-4,
           "learning_rate": 1e-3, "max_epochs": 2000, "validation_fraction": 0.25, "seed": 0,
           "tc_scale_K": 100.0, "pressure_scale_GPa": 100.0}  # fmt: skip
    config = he.HydrideMLPConfig.from_dict(old)
    assert (config.output_activation, config.search) == ("linear", False)
    assert config.fixed == he.Hyperparameters(1e-3, 1e-4, 0, 2000)


@pytest.mark.slow
def test_small_real_run_beats_the_mean_and_the_baseline_is_finite(hydride_snapshot):
    from tcdb.ml.hydride.descriptors import hydride_matrix, screening_grid

    frame = hydride_snapshot.entries
    X, _ = hydride_matrix(frame["element"].tolist(), frame["n_h"].to_numpy())
    y = frame[["tc_K", "pressure_GPa"]].to_numpy(dtype=float)
    grid, _, _ = screening_grid()
    config = he.HydrideMLPConfig(members=8, max_epochs=300, learning_rate=3e-3)
    ensemble = he.HydrideEnsemble(config).fit(X, y, grid.mean(axis=0), grid.std(axis=0))
    masks = ensemble.validation_masks_
    mean_oof = he._oof_mean(
        np.stack([np.broadcast_to(y[~m].mean(axis=0), y.shape) for m in masks]), masks
    )
    network = regression_targets(y, ensemble.oof_predictions(), TARGETS)
    mean_only = regression_targets(y, mean_oof, TARGETS)
    assert network["n"] == mean_only["n"] > 50
    assert network["tc_rmse"] < mean_only["tc_rmse"]
    linear = regression_targets(y, he.linear_baseline_oof(X, y, masks), TARGETS)
    assert all(np.isfinite(value) for value in linear.values())
