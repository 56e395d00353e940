"""Training the (T_c, P) model of Hutcheon et al. (2020) on a hydrides snapshot, and loading a
trained run back (screening and predicting EH_n: ``ml.hydride_screening``).

The training data are the snapshot's binary hydrides EH_n (one row per material, phase,
pressure and reference). Inputs are the 8 descriptors of ``ml.hydride_descriptors``,
standardised with the mean and spread of the screening grid (every screenable E × n = 1 … 31),
which do not depend on any label. Metrics are out of fold: each point is predicted by the
members that held it out, for the MLP ensemble and for the linear baseline on the same splits.
A loaded run predicts with every member: the mean is the prediction, the spread its
uncertainty, and D = |P/GPa| + |T_c/K − 293| its distance to ambient conditions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from core.errors import TcdbError
from ml.contract import Fitted
from ml.evaluation import RepeatedRandomSplits, score_targets
from ml.hydride_descriptors import (
    HydrideDescriptorConfig,
    hydride_matrix,
    missing_descriptors,
    screening_grid,
)
from ml.model_names import HYDRIDE_MLP
from store.model_runs import VerifiedRun
from store.snapshots import Snapshot

log = logging.getLogger(__name__)

METRIC_PREFIXES = ("tc", "pressure")  # metric keys: tc_rmse, pressure_rmse, ...
AMBIENT_T_K = 293.0


def distance_to_ambient(tc_K: np.ndarray, pressure_GPa: np.ndarray) -> np.ndarray:
    """D = |P| + |T_c − 293| with P in GPa and T_c in K (Hutcheon et al. 2020, Sec. III)."""
    return np.abs(pressure_GPa) + np.abs(tc_K - AMBIENT_T_K)


@dataclass(frozen=True)
class TrainingData:
    entries: pd.DataFrame  # the snapshot rows used, in order
    X: np.ndarray
    y: np.ndarray  # (n, 2): T_c in K, P in GPa
    dropped: list[str]  # "formula: reason" for rows left out


def training_data(snapshot: Snapshot, descriptors: HydrideDescriptorConfig) -> TrainingData:
    """The snapshot's EH_n as descriptors and targets; rows whose element lacks a descriptor
    are left out and named."""
    snapshot.require_kind("hydrides")
    entries = snapshot.entries
    dropped = []
    usable = []
    for element in entries["element"]:
        lacking = missing_descriptors(element, descriptors)
        usable.append(not lacking)
        if lacking:
            dropped.append(f"{element}: lacks {', '.join(lacking)}")
    entries = entries[np.array(usable, dtype=bool)].reset_index(drop=True)
    X, _ = hydride_matrix(entries["element"].tolist(), entries["n_h"].to_numpy(), descriptors)
    y = entries[["tc_K", "pressure_GPa"]].to_numpy(dtype=float)
    return TrainingData(entries, X, y, dropped)


def grid_scaling(descriptors: HydrideDescriptorConfig) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the screening grid's descriptors (label-free)."""
    X_grid, _, _ = screening_grid(descriptors)
    std = X_grid.std(axis=0)
    return X_grid.mean(axis=0), np.where(std > 0, std, 1.0)


def record(config, descriptors: HydrideDescriptorConfig | None = None) -> dict:
    """The configuration as the run manifest records it."""
    return {
        "mlp": config.as_dict(),
        "descriptors": (descriptors or HydrideDescriptorConfig()).as_dict(),
        "input_scaling": "mean and std of the screening grid (every screenable E, n = 1..31)",
    }


def fit(snapshot: Snapshot, config, descriptors: HydrideDescriptorConfig | None = None) -> Fitted:
    """Train the ensemble and the linear baseline on the same random validation splits;
    out-of-fold metrics of both, their files, and the out-of-fold predictions."""
    from ml.hydride_ensemble import HydrideEnsemble, fit_linear, linear_baseline_oof

    descriptors = descriptors or HydrideDescriptorConfig()
    data = training_data(snapshot, descriptors)
    x_mean, x_std = grid_scaling(descriptors)
    log.info("training %d members on %d points", config.members, len(data.y))
    ensemble = HydrideEnsemble(config).fit(data.X, data.y, x_mean, x_std)
    artefacts = {f"ensemble/{name}": content for name, content in ensemble.files().items()}
    linear = fit_linear(data.X, data.y)
    artefacts["linear.json"] = json.dumps(
        {"coef": linear.coef_.tolist(), "intercept": linear.intercept_.tolist()}
    ).encode()
    oof = ensemble.oof_predictions()
    linear_oof = linear_baseline_oof(data.X, data.y, ensemble.validation_masks_)
    protocol = RepeatedRandomSplits(config.members, config.validation_fraction, config.seed)
    metrics = {
        "protocol": f"{config.members} random {config.validation_fraction:.0%} validation "
        "splits; each point predicted by the members that held it out (out of fold)",
        "n_points": len(data.y),
        "mlp_ensemble": score_targets(protocol, data.y, oof, METRIC_PREFIXES),
        "linear_baseline": score_targets(protocol, data.y, linear_oof, METRIC_PREFIXES),
        "mean_best_epoch": float(np.mean(ensemble.best_epochs_)),
    }
    frame = data.entries[["literature_entry_id", "formula", "element", "n_h", "tc_K",
                          "pressure_GPa", "method"]].copy()  # fmt: skip
    frame[["oof_tc_K", "oof_pressure_GPa"]] = oof
    frame[["linear_oof_tc_K", "linear_oof_pressure_GPa"]] = linear_oof
    artefacts["out_of_fold.parquet"] = frame.to_parquet(index=False)
    return Fitted(artefacts, metrics, {"dropped_rows": data.dropped}, _oof_prediction_rows(frame))


def _oof_prediction_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for r in frame.itertuples(index=False):
        if np.isnan(r.oof_tc_K):
            continue
        rows.append(
            {
                "subject_kind": "literature_entry",
                "subject_id": r.literature_entry_id,
                "formula": r.formula,
                "tc_K": float(r.oof_tc_K),
                "pressure_GPa": float(r.oof_pressure_GPa),
                "distance_to_ambient": float(distance_to_ambient(r.oof_tc_K, r.oof_pressure_GPa)),
                "extra_json": json.dumps(
                    {
                        "kind": "out_of_fold",
                        "observed_tc_K": r.tc_K,
                        "observed_pressure_GPa": r.pressure_GPa,
                        "linear_tc_K": r.linear_oof_tc_K,
                        "linear_pressure_GPa": r.linear_oof_pressure_GPa,
                    }
                ),
            }
        )
    return rows


@dataclass(frozen=True)
class HydridePredictor:
    """A hydride-mlp run loaded back: the ensemble, the linear baseline and the descriptors
    the run was trained with."""

    run_id: str
    ensemble: object  # ml.hydride_ensemble.HydrideEnsemble
    linear_coef: np.ndarray
    linear_intercept: np.ndarray
    descriptors: HydrideDescriptorConfig

    def predict(self, inputs) -> np.ndarray:
        """(n, 2) ensemble means of (T_c K, P GPa) for (element, n_h) pairs; NaN for an
        element lacking a descriptor."""
        predicted = np.full((len(inputs), 2), np.nan)
        usable = [
            i for i, (element, _) in enumerate(inputs)
            if not missing_descriptors(element, self.descriptors)
        ]  # fmt: skip
        if usable:
            elements = [inputs[i][0] for i in usable]
            n_h = np.array([inputs[i][1] for i in usable])
            X, _ = hydride_matrix(elements, n_h, self.descriptors)
            predicted[usable] = self.ensemble.predict(X)[0]
        return predicted

    def linear(self, X: np.ndarray) -> np.ndarray:
        """The linear baseline's (T_c, P) for descriptor rows."""
        return X @ self.linear_coef.T + self.linear_intercept


def load(run: VerifiedRun) -> HydridePredictor:
    """The trained ensemble of a checked hydride-mlp run (JSON and ``.npz`` arrays only)."""
    from ml.hydride_ensemble import HydrideEnsemble

    run.require_model(HYDRIDE_MLP)
    recorded = run.manifest["config"]["descriptors"]
    descriptors = HydrideDescriptorConfig(
        **{f.name: recorded[f.name] for f in fields(HydrideDescriptorConfig)}
    )
    try:
        ensemble = HydrideEnsemble.load_from(lambda name: run.read_bytes(f"ensemble/{name}"))
    except (ValueError, KeyError) as exc:
        raise TcdbError(f"Run {run.id}: the ensemble was not loaded: {exc}.") from None
    linear = run.read_json("linear.json")
    return HydridePredictor(run.id, ensemble, np.asarray(linear["coef"]),
                            np.asarray(linear["intercept"]), descriptors)  # fmt: skip
