"""Training the structural model of Novakovic et al. (2023) on a ``structures`` snapshot.

Every labelled structure of the snapshot gets its Fourier coefficients and 175 numerical
descriptors (``ml.structure_features``, cached by content); structures whose descriptors
cannot be computed (elements beyond Z = 86, noble gases) are left out and counted. A seeded
random 80/20 split of the labelled structures gives the validation set the paper reports r² on;
the numerical descriptors are standardised with the training split's statistics only. With
``members`` > 1 that many networks are trained on the same split (``ml.cvcnn_ensemble``); the
validation score is the mean's, beside each member's own and the mean spread.
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
ENSEMBLE = (
    "{n} networks on the split of seed; member k from initial weights and shuffling of seed + k, "
    "each at its best validation epoch (model.keras, model-1.keras … model-{last}.keras); "
    "predictions are the mean over members, tc_std_K their standard deviation"
)
SPLIT = "seeded random {train:.0%}/{validation:.0%} over labelled structures"


def record(config) -> dict:
    """The configuration as the run manifest records it: its name, every field, and the
    feature preset it names with every value of that preset."""
    from ml.structure_features import feature_preset

    recorded = {
        "configuration": config.configuration,
        "cvcnn": config.as_dict(),
        "feature_preset": config.features,
        "features": feature_preset(config.features).as_dict(),
        "numerical_scaling": "mean and std of the training split",
        "split": SPLIT.format(train=1 - config.validation_fraction,
                              validation=config.validation_fraction),
    }  # fmt: skip
    if config.members > 1:
        recorded["ensemble"] = ENSEMBLE.format(n=config.members, last=config.members - 1)
    return recorded


def fit(snapshot: Snapshot, config, cache_dir: Path | None = None, progress: bool = True) -> Fitted:
    """Features, split, training with best-validation restore, metrics, artefacts and the
    validation predictions, from the snapshot alone."""
    from ml.cvcnn import predict
    from ml.cvcnn_ensemble import mean_and_spread, train_members
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
    members, validation = train_members(config, fourier, numerical, y, mean, std, progress)
    per_member = np.stack([
        predict(m.model, fourier[validation], numerical[validation], mean, std) for m in members
    ])  # fmt: skip
    predicted, spread = mean_and_spread(per_member)
    parity = frame.iloc[rows[validation]][["structure_id", "reduced_formula", "origin"]].assign(
        label_tc_K=y[validation], predicted_tc_K=predicted
    )
    if config.members > 1:
        parity = parity.assign(predicted_std_K=spread)
    scaling = io.BytesIO()
    np.savez(scaling, mean=mean, std=std)
    artefacts = {
        **_member_artefacts(members),
        "scaling.npz": scaling.getvalue(),
        "validation_parity.parquet": parity.to_parquet(index=False),
    }
    first = members[0].history
    metrics = {
        "validation": score(protocol, y[validation], predicted),
        "paper_validation_r2": PAPER_R2,
        "best_epoch": first["best_epoch"],
        "epochs_run": first["epochs_run"],
        "training_seconds": sum(m.history["seconds"] for m in members),
        "n_train": len(y) - len(validation),
    }
    if config.members > 1:
        metrics.update(_ensemble_metrics(protocol, y[validation], per_member, spread, members))
    notes = {
        "structures_left_out": len(frame) - len(rows),
        "left_out_examples": [features.errors[i] for i in sorted(features.errors)[:10]],
        "feature_cache_hit": features.cache_hit,
    }
    return Fitted(artefacts, metrics, notes, _validation_rows(parity))


def _member_artefacts(members: list) -> dict[str, bytes]:
    """Each member's network and history: ``model.keras`` and ``history.json`` for member 0
    (the names of a one-member run), ``model-1.keras`` and ``history-1.json`` … after it."""
    from ml.cvcnn import save_model
    from ml.cvcnn_ensemble import member_file

    artefacts: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as folder:
        for member in members:
            name = member_file(member.index)
            artefacts[name] = save_model(member.model, Path(folder) / name).read_bytes()
            history = member.history
            if len(members) > 1:
                history = history | {"member": member.index, "weight_seed": member.weight_seed}
            artefacts[member_file(member.index, "history", ".json")] = json.dumps(history).encode()
    return artefacts


def _ensemble_metrics(
    protocol: RandomSplit,
    truth: np.ndarray,
    per_member: np.ndarray,
    spread: np.ndarray,
    members: list,
) -> dict:
    """Each member's own validation score beside the mean's, and the mean spread (K)."""
    return {
        "members": len(members),
        "member_validation": [score(protocol, truth, values) for values in per_member],
        "member_best_epochs": [m.history["best_epoch"] for m in members],
        "validation_spread_mean_K": float(np.mean(spread)),
    }


def _validation_rows(parity: pd.DataFrame) -> list[dict]:
    spread = parity.get("predicted_std_K")
    return [
        {
            "subject_kind": "structure",
            "subject_id": f"{r.structure_id}:{i}",
            "structure_id": r.structure_id,
            "formula": r.reduced_formula,
            "tc_K": float(r.predicted_tc_K),
            "tc_std_K": None if spread is None else float(spread.iloc[i]),
            "extra_json": json.dumps({"kind": "validation", "label_tc_K": r.label_tc_K}),
        }
        for i, r in enumerate(parity.itertuples(index=False))
    ]
