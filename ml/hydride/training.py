"""Training the (T_c, P) model of Hutcheon et al. (2020) on a hydrides snapshot, and loading a
trained run back (screening and predicting EH_n: ``ml.hydride.screening``).

The training data are the snapshot's binary hydrides EH_n (one row per material, phase,
pressure and reference). Inputs are the 8 descriptors of ``ml.hydride.descriptors``,
standardised with the mean and spread of the screening grid (every screenable E × n = 1 … 31),
which do not depend on any label. How the members train is chosen by an inner cross-validation
(``ml.hydride.search``); the metrics are the three figures of ``ml.hydride.evaluation``
(in-sample, random folds, grouped by formula) for the network, the linear baseline and a
forest, plus the paper's member-held-out estimate.
A loaded run predicts with every member: the mean is the prediction, the spread its
uncertainty, and D = |P/GPa| + |T_c/K − 293| its distance to ambient conditions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from tcdb.core.errors import TcdbError
from tcdb.ml.contract import Fitted
from tcdb.ml.evaluation import (
    GroupedByComposition,
    InSample,
    RandomFolds,
    RepeatedRandomSplits,
    score_targets,
)
from tcdb.ml.hydride.descriptors import (
    HydrideDescriptorConfig,
    hydride_matrix,
    missing_descriptors,
    screening_grid,
)
from tcdb.ml.model_names import HYDRIDE_MLP
from tcdb.store.model_runs import VerifiedRun
from tcdb.store.snapshots import Snapshot

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


# Column slugs of out_of_fold.parquet, by protocol name.
PROTOCOL_SLUGS = {
    "in-sample": "in_sample",
    "random-folds": "random_folds",
    "grouped-by-composition": "grouped",
    "random-repeated": "member_held_out",
}


def fit(snapshot: Snapshot, config, descriptors: HydrideDescriptorConfig | None = None) -> Fitted:
    """Choose how to train by inner cross-validation, train the ensemble that is kept, and
    score it beside the linear and forest baselines in-sample, out of fold and grouped by
    formula (``ml.hydride.evaluation``), plus the paper's member-held-out estimate."""
    from tcdb.ml.hydride.ensemble import HydrideEnsemble, linear_baseline_oof
    from tcdb.ml.hydride.evaluation import baseline_predictions, fold_ensembles, in_sample_baselines
    from tcdb.ml.hydride.search import search

    descriptors = descriptors or HydrideDescriptorConfig()
    data = training_data(snapshot, descriptors)
    n = len(data.y)
    x_mean, x_std = grid_scaling(descriptors)
    x = ((data.X - x_mean) / x_std).astype(np.float32)
    y_scaled = data.y / config.output_scales
    formulas = data.entries["formula"].to_numpy()
    outer = {
        "random-folds": RandomFolds(config.outer_folds, config.seed),
        "grouped-by-composition": GroupedByComposition(config.outer_folds, config.seed),
    }
    splits = {name: protocol.splits(n, groups=formulas) for name, protocol in outer.items()}
    training_sets = [np.arange(n)] + [train for name in outer for train, _ in splits[name]]
    if config.search:
        log.info("inner search over %d training sets", len(training_sets))
        results = search(x, y_scaled, training_sets, config)
        choices = [r.chosen for r in results]
    else:
        results, choices = None, [config.fixed] * len(training_sets)
    log.info("training %d members on %d points (%s)", config.members, n, choices[0])
    ensemble = HydrideEnsemble(config).fit(data.X, data.y, x_mean, x_std, choices[0])
    predictions = {("network", "in-sample"): ensemble.predict(data.X)[0]}
    in_sample = in_sample_baselines(data.X, data.y, config)
    for name, (fitted, _) in in_sample.items():
        predictions[(name, "in-sample")] = fitted
    offset = 1
    for name in outer:
        fold_choices = choices[offset : offset + len(splits[name])]
        offset += len(splits[name])
        network = fold_ensembles(x, y_scaled, splits[name], fold_choices, config)
        predictions[("network", name)] = network * config.output_scales
        for model, found in baseline_predictions(data.X, data.y, splits[name], config).items():
            predictions[(model, name)] = found
    predictions[("network", "random-repeated")] = ensemble.oof_predictions()
    predictions[("linear", "random-repeated")] = linear_baseline_oof(
        data.X, data.y, ensemble.validation_masks_
    )
    protocols = outer | {
        "in-sample": InSample(),
        "random-repeated": RepeatedRandomSplits(
            config.members, config.validation_fraction, config.seed
        ),
    }
    metrics: dict = {"n_points": n, "hyperparameters": choices[0].as_dict()}
    for (model, name), predicted in predictions.items():
        scored = score_targets(protocols[name], data.y, predicted, METRIC_PREFIXES)
        if name == "grouped-by-composition":
            scored["groups"] = "formula EH_n"
        metrics[f"{model} {name}"] = scored | {"model": model}
    if results is not None:
        metrics["hyperparameters"] |= {"inner_score": results[0].score}
        metrics["outer_fold_hyperparameters"] = [c.as_dict() for c in choices[1:]]
    artefacts = {f"ensemble/{name}": content for name, content in ensemble.files().items()}
    linear = in_sample["linear"][1]  # least squares on every point, kept for screening
    artefacts["linear.json"] = json.dumps(
        {"coef": linear.coef_.tolist(), "intercept": linear.intercept_.tolist()}
    ).encode()
    if results is not None:
        searched = [{"training_set": "all points", **results[0].as_dict()}]
        position = 1
        for name in outer:
            for fold in range(len(splits[name])):
                searched.append({"training_set": f"{name} fold {fold + 1}",
                                 **results[position].as_dict()})  # fmt: skip
                position += 1
        artefacts["search.json"] = json.dumps(searched, indent=1).encode()
    frame = data.entries[["literature_entry_id", "formula", "element", "n_h", "tc_K",
                          "pressure_GPa", "method"]].copy()  # fmt: skip
    for (model, name), predicted in predictions.items():
        slug = f"{model}_{PROTOCOL_SLUGS[name]}"
        frame[[f"{slug}_tc_K", f"{slug}_pressure_GPa"]] = predicted
    artefacts["out_of_fold.parquet"] = frame.to_parquet(index=False)
    return Fitted(artefacts, metrics, {"dropped_rows": data.dropped}, _oof_prediction_rows(frame))


def _oof_prediction_rows(frame: pd.DataFrame) -> list[dict]:
    """The network's out-of-fold prediction of every training point (random folds), with the
    baselines' beside it, as prediction rows."""
    rows = []
    for r in frame.itertuples(index=False):
        tc, pressure = r.network_random_folds_tc_K, r.network_random_folds_pressure_GPa
        if np.isnan(tc):
            continue
        rows.append(
            {
                "subject_kind": "literature_entry",
                "subject_id": r.literature_entry_id,
                "formula": r.formula,
                "tc_K": float(tc),
                "pressure_GPa": float(pressure),
                "distance_to_ambient": float(distance_to_ambient(tc, pressure)),
                "extra_json": json.dumps(
                    {
                        "kind": "out_of_fold",
                        "protocol": "random-folds",
                        "observed_tc_K": r.tc_K,
                        "observed_pressure_GPa": r.pressure_GPa,
                        "linear_tc_K": r.linear_random_folds_tc_K,
                        "linear_pressure_GPa": r.linear_random_folds_pressure_GPa,
                        "forest_tc_K": r.forest_random_folds_tc_K,
                        "forest_pressure_GPa": r.forest_random_folds_pressure_GPa,
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
    ensemble: object  # ml.hydride.ensemble.HydrideEnsemble
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
    from tcdb.ml.hydride.ensemble import HydrideEnsemble

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
