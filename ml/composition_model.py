"""The composition-only baseline ("T_c chem" in Novakovic et al. 2023's tables).

Hamidieh (2018) fitted gradient-boosted trees to the 81 composition descriptors of SuperCon
(XGBoost: 374 trees, learning rate 0.02, maximum depth 16, minimum child weight 1, half the
columns per tree; RMSE ≈ 9.5 K, R² ≈ 0.92). Here the same settings drive scikit-learn's
histogram gradient boosting, on the SuperCon compositions of a ``structures`` snapshot (its
labels under the snapshot's variance policy). Evaluation is 10-fold cross-validation with
folds grouped by composition, so no composition is in both a training and a test fold.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import TcdbError
from ml.composition_descriptors import CompositionDescriptorConfig, composition_matrix
from schema.database import Target, storing
from store.model_runs import Run, VerifiedRun, finish_run, start_run, write_predictions
from store.snapshots import Snapshot

log = logging.getLogger(__name__)

MODEL = "composition"
MODEL_FILE = "model.npz"  # the trees as arrays (ml.boosted_trees); never a pickle


@dataclass(frozen=True)
class CompositionModelConfig:
    """Hamidieh's XGBoost settings in scikit-learn's terms; folds and seed for the evaluation."""

    max_iter: int = 374
    learning_rate: float = 0.02
    max_depth: int = 16
    min_samples_leaf: int = 1
    max_features: float = 0.5
    max_leaf_nodes: int | None = None
    l2_regularization: float = 1.0  # XGBoost's default lambda
    folds: int = 10
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def estimator(self):
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.seed,
        )


@dataclass(frozen=True)
class CompositionData:
    entries: pd.DataFrame  # one row per label: material_id, reduced_formula, label_tc_K
    X: np.ndarray
    y: np.ndarray
    dropped: dict[str, str]  # material id -> why its descriptors could not be computed


def composition_data(
    snapshot: Snapshot, descriptors: CompositionDescriptorConfig | None = None
) -> CompositionData:
    """The snapshot's SuperCon labels with their 81 composition descriptors."""
    snapshot.require_kind("structures")
    entries = snapshot.entries
    entries = entries[entries["origin"] == "supercon"].reset_index(drop=True)
    compositions = [json.loads(c) for c in entries["composition_json"]]
    batch = composition_matrix(compositions, descriptors or CompositionDescriptorConfig())
    valid = batch.valid
    dropped = {entries["material_id"][i]: reason for i, reason in batch.errors.items()}
    entries = entries[valid].reset_index(drop=True)
    return CompositionData(entries, batch.X[valid], entries["label_tc_K"].to_numpy(), dropped)


def grouped_oof(config: CompositionModelConfig, data: CompositionData) -> np.ndarray:
    """Out-of-fold predictions of k-fold cross-validation grouped by composition."""
    from sklearn.model_selection import GroupKFold

    folds = GroupKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    oof = np.full(len(data.y), np.nan)
    groups = data.entries["material_id"].to_numpy()
    for number, (train, test) in enumerate(folds.split(data.X, data.y, groups), start=1):
        model = config.estimator().fit(data.X[train], data.y[train])
        oof[test] = model.predict(data.X[test])
        log.info("fold %d/%d done", number, config.folds)
    return oof


def metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "rmse_K": float(np.sqrt(mean_squared_error(y, predicted))),
        "mae_K": float(mean_absolute_error(y, predicted)),
        "r2": float(r2_score(y, predicted)),
        "n": len(y),
    }


def train(
    db: Target,
    snapshot: Snapshot,
    runs_root: Path,
    config: CompositionModelConfig | None = None,
    descriptors: CompositionDescriptorConfig | None = None,
    profile: str | None = None,
) -> Run:
    """Cross-validate, fit on every composition, save, record the run and its predictions
    (``db`` is opened for writing only for the record, at the end)."""
    config = config or CompositionModelConfig()
    descriptors = descriptors or CompositionDescriptorConfig()
    data = composition_data(snapshot, descriptors)
    run = start_run(
        MODEL,
        snapshot.id,
        {"model": config.as_dict(), "descriptors": descriptors.as_dict()},
        config.seed,
        runs_root,
        profile,
    )
    oof = grouped_oof(config, data)
    model = config.estimator().fit(data.X, data.y)
    save_trees(model, data.X, run.path / MODEL_FILE)
    run.metrics = {
        "protocol": f"{config.folds}-fold cross-validation grouped by composition "
        "(out-of-fold predictions)",
        "cross_validation": metrics(data.y, oof),
        "anchor_hamidieh_2018": {"rmse_K": 9.5, "r2": 0.92},
    }
    run.notes = {"dropped_compositions": data.dropped}
    frame = data.entries[["material_id", "reduced_formula", "label_tc_K"]].assign(oof_tc_K=oof)
    frame.to_parquet(run.path / "out_of_fold.parquet", index=False)
    rows = [
        {
            "model_run_id": run.id,
            "subject_kind": "material",
            "subject_id": f"{r.material_id}:{i}",
            "material_id": r.material_id,
            "formula": r.reduced_formula,
            "tc_K": float(r.oof_tc_K),
            "extra_json": json.dumps({"kind": "out_of_fold", "label_tc_K": r.label_tc_K}),
        }
        for i, r in enumerate(frame.itertuples(index=False))
    ]
    with storing(db, f"run {run.id} (its folder {run.path} is not registered)") as conn:
        finish_run(conn, run)
        write_predictions(conn, rows)
    return run


def save_trees(model, X: np.ndarray, path: Path) -> None:
    """Write the fitted trees as arrays, after checking they predict exactly as the estimator
    on (up to 2,000 of) the training rows: a change in scikit-learn's internals fails here,
    at training, not later as wrong predictions."""
    from ml.boosted_trees import export

    trees = export(model)
    sample = X[:2000]
    if not np.array_equal(trees.predict(sample), model.predict(sample)):
        raise TcdbError(
            "The exported trees do not predict as the fitted model; this scikit-learn version "
            "stores its trees differently (see ml/boosted_trees.py)."
        )
    Path(path).write_bytes(trees.to_bytes())


def load_model(run: VerifiedRun):
    """The fitted trees of a checked composition run (arrays only: nothing runs on load)."""
    from ml.boosted_trees import BoostedTrees, TreeFormatError

    run.require_model(MODEL)
    try:
        return BoostedTrees.from_bytes(run.read_bytes(MODEL_FILE))
    except (TreeFormatError, ValueError) as exc:
        raise TcdbError(
            f"Run {run.id}: {MODEL_FILE} is not a valid tree archive ({exc})."
        ) from None


def predict_compositions(run: VerifiedRun, compositions: list[dict]) -> tuple[np.ndarray, dict]:
    """T_c of compositions (element → amount) with a composition run; errors per row."""
    recorded = run.manifest["config"]["descriptors"]
    descriptors = CompositionDescriptorConfig(**{k: recorded[k] for k in ("impute", "nonpositive")})
    batch = composition_matrix(compositions, descriptors)
    predicted = np.full(len(compositions), np.nan)
    if batch.valid.any():
        predicted[batch.valid] = load_model(run).predict(batch.X[batch.valid])
    return predicted, batch.errors


def composition_prediction_rows(composition_run: VerifiedRun, formulas: list[str]) -> list[dict]:
    """Composition-baseline predictions of distinct reduced formulas (subject 'composition')."""
    from pymatgen.core import Composition

    distinct = sorted(set(formulas))
    amounts = [
        {el.symbol: float(n) for el, n in Composition(f).element_composition.items()}
        for f in distinct
    ]
    predicted, errors = predict_compositions(composition_run, amounts)
    run_id = composition_run.id
    return [
        {
            "model_run_id": run_id,
            "subject_kind": "composition",
            "subject_id": formula,
            "formula": formula,
            "tc_K": float(tc),
        }
        for i, (formula, tc) in enumerate(zip(distinct, predicted, strict=True))
        if i not in errors and np.isfinite(tc)
    ]
