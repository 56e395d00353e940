"""Training the structural model of Novakovic et al. (2023) on a ``structures`` snapshot.

Every labelled structure of the snapshot gets its Fourier coefficients and 175 numerical
descriptors (``ml.structure_features``, cached by content); structures whose descriptors
cannot be computed (elements beyond Z = 86, noble gases) are left out and counted. A seeded
random 80/20 split of the labelled structures gives the validation set the paper reports r² on;
the numerical descriptors are standardised with the training split's statistics only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import TcdbError
from schema.database import Target, storing
from store.model_runs import Run, finish_run, start_run, write_predictions
from store.snapshots import Snapshot

log = logging.getLogger(__name__)

MODEL = "cvcnn"
PAPER_R2 = 0.9429


def validation_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    return {
        "r2": float(r2_score(y, predicted)),
        "rmse_K": float(np.sqrt(mean_squared_error(y, predicted))),
        "mae_K": float(mean_absolute_error(y, predicted)),
        "n": len(y),
    }


def train(
    db: Target,
    snapshot: Snapshot,
    runs_root: Path,
    config=None,
    cache_dir: Path | None = None,
    profile: str | None = None,
    progress: bool = True,
) -> Run:
    """Features, split, training with best-validation restore, metrics, artefacts, predictions.

    The snapshot is read from disk; ``db`` is opened for writing only at the end, to record
    the run and its predictions, so others can use the database while the network trains."""
    from ml.cvcnn import CVCNNConfig, predict, save_model, split_indices, train_cvcnn
    from ml.structure_features import FeatureConfig, structure_features

    snapshot.require_kind("structures")
    config = config or CVCNNConfig()
    frame = snapshot.structures
    features = structure_features(frame, FeatureConfig(), cache_dir, progress=progress)
    labels = frame["label_tc_K"].to_numpy(dtype=float)
    rows = np.flatnonzero(features.valid & np.isfinite(labels))
    if len(rows) < 10:
        raise TcdbError(f"Snapshot {snapshot.id} has only {len(rows)} usable structures.")
    fourier, numerical, y = features.fourier[rows], features.numerical[rows], labels[rows]
    train_rows, _ = split_indices(len(y), config.validation_fraction, config.seed)
    mean = numerical[train_rows].mean(axis=0)
    std = numerical[train_rows].std(axis=0)
    run = start_run(
        MODEL,
        snapshot.id,
        {
            "cvcnn": config.as_dict(),
            "features": features.config.as_dict(),
            "numerical_scaling": "mean and std of the training split",
            "split": f"seeded random {1 - config.validation_fraction:.0%}/"
            f"{config.validation_fraction:.0%} over labelled structures",
        },
        config.seed,
        runs_root,
        profile,
    )
    model, history, validation = train_cvcnn(config, fourier, numerical, y, mean, std, progress)
    predicted = predict(model, fourier[validation], numerical[validation], mean, std)
    save_model(model, run.path / "model.keras")
    np.savez(run.path / "scaling.npz", mean=mean, std=std)
    (run.path / "history.json").write_text(json.dumps(history))
    parity = frame.iloc[rows[validation]][["structure_id", "reduced_formula", "origin"]].assign(
        label_tc_K=y[validation], predicted_tc_K=predicted
    )
    parity.to_parquet(run.path / "validation_parity.parquet", index=False)
    run.metrics = {
        "validation": validation_metrics(y[validation], predicted),
        "paper_validation_r2": PAPER_R2,
        "best_epoch": history["best_epoch"],
        "epochs_run": history["epochs_run"],
        "training_seconds": history["seconds"],
        "n_train": len(y) - len(validation),
    }
    run.notes = {
        "structures_left_out": len(frame) - len(rows),
        "left_out_examples": [features.errors[i] for i in sorted(features.errors)[:10]],
        "feature_cache_hit": features.cache_hit,
    }
    with storing(db, f"run {run.id} (its folder {run.path} is not registered)") as conn:
        finish_run(conn, run)
        write_predictions(conn, _validation_rows(run.id, parity))
    return run


def _validation_rows(run_id: str, parity: pd.DataFrame) -> list[dict]:
    return [
        {
            "model_run_id": run_id,
            "subject_kind": "structure",
            "subject_id": f"{r.structure_id}:{i}",
            "structure_id": r.structure_id,
            "formula": r.reduced_formula,
            "tc_K": float(r.predicted_tc_K),
            "extra_json": json.dumps({"kind": "validation", "label_tc_K": r.label_tc_K}),
        }
        for i, r in enumerate(parity.itertuples(index=False))
    ]
