"""The recipe: a model is one module plus one registry line.

The model below (a ridge regression of T_c on two composition descriptors) is defined in this
file and registered for the test; ``tcdb train``, the stored predictions, loading it back and
``tcdb report`` then work for it as for the built-in models, with nothing else changed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tcdb.cli import app
from tcdb.ml import evaluation, registry
from tcdb.ml.contract import FitContext, Fitted, Model, Override
from tests.conftest import query

# ------------------------------------------------------------------ the model: one module


def descriptors(compositions: list[dict[str, float]]) -> np.ndarray:
    """Number of elements and the largest atomic fraction of each composition."""
    rows = []
    for amounts in compositions:
        total = sum(amounts.values())
        rows.append([len(amounts), max(amounts.values()) / total])
    return np.array(rows, dtype=float)


def fit_ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """Ridge on centred descriptors: (coefficients, intercept)."""
    mean = X.mean(axis=0)
    centred = X - mean
    coef = np.linalg.solve(centred.T @ centred + alpha * np.eye(X.shape[1]), centred.T @ y)
    return coef, float(y.mean() - mean @ coef)


@dataclass(frozen=True)
class RidgeConfig:
    alpha: float = 1.0
    protocol: str = "grouped-by-composition"
    folds: int = 5
    last_training_year: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class RidgePredictor:
    coef: np.ndarray
    intercept: float

    def predict(self, inputs):
        return descriptors(list(inputs)) @ self.coef + self.intercept


class TwoDescriptorRidge(Model):
    name = "ridge-2"
    kind = "structures"
    help = "Ridge regression of T_c on two composition descriptors (a recipe example)."
    profiles: ClassVar = {"paper": {"folds": 10}, "quick": {}, "smoke": {"folds": 3}}
    overrides = (
        Override("alpha", float, "ridge penalty"),
        Override("protocol", str, "grouped-by-composition or by-time"),
    )
    config_class = RidgeConfig

    def record(self, config):
        return {"ridge": asdict(config), "descriptors": ["n_elements", "largest_fraction"]}

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        entries = snapshot.entries
        entries = entries[entries["origin"] == "supercon"].reset_index(drop=True)
        X = descriptors([json.loads(c) for c in entries["composition_json"]])
        y = entries["label_tc_K"].to_numpy(dtype=float)
        if config.protocol == "by-time":
            protocol = evaluation.ByTime(config.last_training_year)
            splits = protocol.splits(len(y), years=evaluation.years_of(entries, snapshot.id))
        else:
            protocol = evaluation.GroupedByComposition(config.folds, config.seed)
            splits = protocol.splits(len(y), groups=entries["material_id"].to_numpy())

        def fit_predict(X_fit, y_fit, X_test):
            coef, intercept = fit_ridge(X_fit, y_fit, config.alpha)
            return X_test @ coef + intercept

        oof = evaluation.out_of_fold(fit_predict, X, y, splits)
        coef, intercept = fit_ridge(X, y, config.alpha)
        rows = [
            {"subject_kind": "material", "subject_id": f"{m}:{i}", "material_id": m,
             "formula": f, "tc_K": float(t)}
            for i, (m, f, t) in enumerate(zip(entries["material_id"], entries["reduced_formula"],
                                              oof, strict=True))
        ]  # fmt: skip
        return Fitted(
            artefacts={"ridge.json": json.dumps({"coef": coef.tolist(), "intercept": intercept})
                       .encode()},
            metrics={"cross_validation": evaluation.score(protocol, y, oof)},
            notes={"rows": len(y)},
            predictions=rows,
        )  # fmt: skip

    def load(self, run) -> RidgePredictor:
        run.require_model(self.name)
        saved = run.read_json("ridge.json")
        return RidgePredictor(np.asarray(saved["coef"]), saved["intercept"])


# ------------------------------------------------------------------ the one registry line


@pytest.fixture
def ridge():
    model = registry.register(TwoDescriptorRidge())
    yield model
    registry.unregister(model.name)


# ------------------------------------------------------------------ through the command line


@pytest.fixture
def training_db(structures_snapshot, curated_db):
    """A curated database with the structures snapshot where the commands look for it."""
    shutil.copytree(
        structures_snapshot.path, curated_db.parent / "snapshots" / structures_snapshot.id
    )
    return curated_db


def tcdb(db, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), *args])


def test_a_registered_model_trains_predicts_and_reports_through_the_cli(
    ridge, training_db, structures_snapshot, curated_sources, tmp_path
):
    snapshot = structures_snapshot.id
    trained = tcdb(training_db, "train", "ridge-2", "--snapshot", snapshot, "--profile", "smoke",
                   "--alpha", "0.5")  # fmt: skip
    assert trained.exit_code == 0, trained.output
    (run_id, metrics_json, config_json) = query(
        training_db, "SELECT id, metrics_json, config_json FROM model_run WHERE model = 'ridge-2'"
    )[0]
    assert f"model run {run_id} on snapshot {snapshot} (profile smoke)" in trained.output
    assert json.loads(config_json)["ridge"]["alpha"] == 0.5  # the override over the profile
    scored = json.loads(metrics_json)["cross_validation"]
    supercon = structures_snapshot.entries.query("origin == 'supercon'")
    assert scored["protocol"] == "grouped-by-composition" and scored["folds"] == 3
    assert scored["n"] == len(supercon)
    assert "cross_validation (grouped-by-composition): folds 3" in trained.output
    # the out-of-fold predictions are stored, one per label, and are the model's own numbers
    stored = query(training_db, "SELECT tc_K FROM prediction WHERE model_run_id = ? "
                   "ORDER BY subject_id", run_id)  # fmt: skip
    assert len(stored) == scored["n"]
    assert np.isfinite([t for (t,) in stored]).all()
    assert 0 < scored["rmse_K"] < supercon["label_tc_K"].std()  # better than the mean

    # loaded back through the run checks, as every loader does, it predicts new compositions
    from tcdb.schema.database import connect
    from tcdb.store.model_runs import resolve_run

    conn = connect(training_db, read_only=True)
    try:
        run = resolve_run(training_db.parent / "runs", conn, "latest", "ridge-2")
    finally:
        conn.close()
    predicted = ridge.load(run).predict([{"La": 2, "Cu": 1, "O": 4}, {"Nb": 3, "Sn": 1}])
    coef, intercept = fit_ridge(
        descriptors([json.loads(c) for c in supercon["composition_json"]]),
        supercon["label_tc_K"].to_numpy(dtype=float),
        0.5,
    )
    expected = descriptors([{"La": 2, "Cu": 1, "O": 4}, {"Nb": 3, "Sn": 1}]) @ coef + intercept
    np.testing.assert_allclose(predicted, expected)

    # the report lists the run's evaluation with its protocol and n
    out = tmp_path / "report"
    reported = tcdb(training_db, "--sources", str(curated_sources), "report", "--out", str(out))
    assert reported.exit_code == 0, reported.output
    evaluations = pd.read_csv(out / "model_evaluations.csv")
    row = evaluations.set_index("run").loc[run_id]
    assert (row.model, row.protocol, row.n) == ("ridge-2", "grouped-by-composition", scored["n"])
    assert f"rmse_K {scored['rmse_K']:.4g}" in row.scores


def test_a_split_by_time_reads_the_years_the_snapshot_carries(
    ridge, training_db, structures_snapshot
):
    trained = tcdb(training_db, "train", "ridge-2", "--snapshot", structures_snapshot.id,
                   "--protocol", "by-time")  # fmt: skip
    assert trained.exit_code == 0, trained.output
    (metrics_json,) = query(training_db, "SELECT metrics_json FROM model_run "
                            "WHERE model = 'ridge-2'")[0]  # fmt: skip
    scored = json.loads(metrics_json)["cross_validation"]
    supercon = structures_snapshot.entries.query("origin == 'supercon'")
    later = int((supercon["year"] > 2000).sum())
    assert (scored["protocol"], scored["last_training_year"]) == ("by-time", 2000)
    assert scored["n"] == later  # only the compositions first reported after 2000 are scored


def test_options_are_checked_against_the_model(ridge, training_db, structures_snapshot):
    snapshot = structures_snapshot.id
    other = tcdb(training_db, "train", "ridge-2", "--snapshot", snapshot, "--epochs", "3")
    assert "ridge-2 takes no option '--epochs'" in str(other.exception)
    assert "--alpha, --protocol" in str(other.exception)
    typed = tcdb(training_db, "train", "ridge-2", "--snapshot", snapshot, "--alpha", "much")
    assert "--alpha takes a number, not 'much'" in str(typed.exception)
    unknown = tcdb(training_db, "train", "ridge-3", "--snapshot", snapshot)
    assert (
        "Unknown model 'ridge-3'; choose hydride-mlp, composition, cvcnn, structure-experts, "
        "ridge-2" in str(unknown.exception)
    )
    wrong_kind = tcdb(training_db, "train", "hydride-mlp", "--snapshot", snapshot,
                      "--profile", "smoke")  # fmt: skip
    assert "is of kind 'structures', not 'hydrides'" in str(wrong_kind.exception)


def test_train_help_lists_every_built_in_model_with_its_own_options():
    shown = CliRunner().invoke(app, ["train", "--help"], terminal_width=200)
    assert shown.exit_code == 0
    for model in registry.MODELS.values():
        assert f"{model.name} ({model.kind} snapshot)" in shown.output
        for override in model.overrides:
            assert override.option in shown.output


def test_the_registry_refuses_a_second_model_of_a_name_and_an_unknown_kind(ridge):
    with pytest.raises(ValueError, match="already registered"):
        registry.register(TwoDescriptorRidge())

    class Misfiled(TwoDescriptorRidge):
        name = "misfiled"
        kind = "measurements"

    with pytest.raises(TypeError, match="kind 'measurements'"):
        registry.register(Misfiled())
