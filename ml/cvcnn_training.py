"""Training the structural model of Novakovic et al. (2023) on a ``structures`` snapshot.

Every labelled structure of the snapshot gets its Fourier coefficients and 175 numerical
descriptors (``ml.structure_features``, cached by content); structures whose descriptors
cannot be computed (elements beyond Z = 86, noble gases) are left out and counted. A seeded
random 80/20 split of the labelled structures gives the validation set the paper reports r² on;
the numerical descriptors are standardised with the training split's statistics only.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import TcdbError
from ml.contract import Fitted
from ml.evaluation import RandomSplit, score
from store.snapshots import Snapshot

log = logging.getLogger(__name__)

PAPER_R2 = 0.9429
SPLIT = "seeded random {train:.0%}/{validation:.0%} over labelled structures"


def record(config) -> dict:
    """The configuration as the run manifest records it: its name, every field, and the
    feature preset it names with every value of that preset."""
    from ml.structure_features import feature_preset

    return {
        "configuration": config.configuration,
        "cvcnn": config.as_dict(),
        "feature_preset": config.features,
        "features": feature_preset(config.features).as_dict(),
        "numerical_scaling": "mean and std of the training split",
        "split": SPLIT.format(train=1 - config.validation_fraction,
                              validation=config.validation_fraction),
    }  # fmt: skip


def fit(snapshot: Snapshot, config, cache_dir: Path | None = None, progress: bool = True) -> Fitted:
    """Features, split, training with best-validation restore, metrics, artefacts and the
    validation predictions, from the snapshot alone."""
    from ml.cvcnn import predict, save_model, train_cvcnn
    from ml.structure_features import feature_preset, structure_features

    frame = snapshot.require_kind("structures").structures
    preset = feature_preset(config.features)
    features = structure_features(frame, preset, cache_dir, progress=progress)
    labels = frame["label_tc_K"].to_numpy(dtype=float)
    rows = np.flatnonzero(features.valid & np.isfinite(labels))
    if len(rows) < 10:
        raise TcdbError(f"Snapshot {snapshot.id} has only {len(rows)} usable structures.")
    fourier, numerical, y = features.fourier[rows], features.numerical[rows], labels[rows]
    protocol = RandomSplit(config.validation_fraction, config.seed)
    ((train_rows, _),) = protocol.splits(len(y))
    mean = numerical[train_rows].mean(axis=0)
    std = numerical[train_rows].std(axis=0)
    model, history, validation = train_cvcnn(config, fourier, numerical, y, mean, std, progress)
    predicted = predict(model, fourier[validation], numerical[validation], mean, std)
    with tempfile.TemporaryDirectory() as folder:
        network = save_model(model, Path(folder) / "model.keras").read_bytes()
    parity = frame.iloc[rows[validation]][["structure_id", "reduced_formula", "origin"]].assign(
        label_tc_K=y[validation], predicted_tc_K=predicted
    )
    scaling = io.BytesIO()
    np.savez(scaling, mean=mean, std=std)
    artefacts = {
        "model.keras": network,
        "scaling.npz": scaling.getvalue(),
        "history.json": json.dumps(history).encode(),
        "validation_parity.parquet": parity.to_parquet(index=False),
    }
    metrics = {
        "validation": score(protocol, y[validation], predicted),
        "paper_validation_r2": PAPER_R2,
        "best_epoch": history["best_epoch"],
        "epochs_run": history["epochs_run"],
        "training_seconds": history["seconds"],
        "n_train": len(y) - len(validation),
    }
    notes = {
        "structures_left_out": len(frame) - len(rows),
        "left_out_examples": [features.errors[i] for i in sorted(features.errors)[:10]],
        "feature_cache_hit": features.cache_hit,
    }
    return Fitted(artefacts, metrics, notes, _validation_rows(parity))


def _validation_rows(parity: pd.DataFrame) -> list[dict]:
    return [
        {
            "subject_kind": "structure",
            "subject_id": f"{r.structure_id}:{i}",
            "structure_id": r.structure_id,
            "formula": r.reduced_formula,
            "tc_K": float(r.predicted_tc_K),
            "extra_json": json.dumps({"kind": "validation", "label_tc_K": r.label_tc_K}),
        }
        for i, r in enumerate(parity.itertuples(index=False))
    ]
