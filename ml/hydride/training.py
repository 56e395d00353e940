"""Training the (T_c, P) model of Hutcheon et al. (2020) on a hydrides snapshot, and loading a
trained run back (screening and predicting EH_n: ``ml.hydride.screening``).

The training data are the snapshot's binary hydrides EH_n (one row per material, phase,
pressure and reference). Inputs are the 8 descriptors of ``ml.hydride.descriptors``,
standardised with the mean and spread of the screening grid (every screenable E × n = 1 … 31),
which do not depend on any label. How the members train is chosen by an inner cross-validation
(``ml.hydride.search``); the metrics are the three figures of ``ml.hydride.evaluation``
(in-sample, random folds, grouped by formula) for the network, the linear baseline and a
forest, plus the paper's member-held-out estimate, with the coverage of the network's and the
forest's spreads. The forest and least squares fitted on every point are kept with the
ensemble, and the model that ranks the screen (the network or the forest) is chosen by the rule
of ``ml.hydride.selection`` from the grouped scores and recorded in the metrics.
A loaded run predicts with every member (or tree): the mean is the prediction, the spread its
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
    """The configuration as the run manifest records it, with the rule that chooses the model
    that ranks the screen."""
    from tcdb.ml.hydride.parameters import HYDRIDE_SELECTION

    return {
        "mlp": config.as_dict(),
        "descriptors": (descriptors or HydrideDescriptorConfig()).as_dict(),
        "input_scaling": "mean and std of the screening grid (every screenable E, n = 1..31)",
        "screening_model_rule": HYDRIDE_SELECTION.as_dict(),
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
    formula (``ml.hydride.evaluation``), plus the paper's member-held-out estimate; the
    network's and the forest's spreads are scored by their coverage. The forest and least
    squares fitted on every point are kept beside the ensemble, and the model that ranks the
    screen is chosen from the grouped scores (``ml.hydride.selection``)."""
    from tcdb.ml.hydride.ensemble import HydrideEnsemble, linear_baseline_oof
    from tcdb.ml.hydride.evaluation import (
        baseline_predictions,
        coverage,
        fold_ensembles,
        in_sample_baselines,
    )
    from tcdb.ml.hydride.forest import FOREST_FILE
    from tcdb.ml.hydride.search import search
    from tcdb.ml.hydride.selection import RECORD_KEY, choose

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
    predictions, spreads = {}, {}
    predictions[("network", "in-sample")], spreads[("network", "in-sample")] = ensemble.predict(
        data.X
    )
    in_sample = in_sample_baselines(data.X, data.y, config)
    for name, (fitted, _) in in_sample.items():
        predictions[(name, "in-sample")] = fitted
    forest = checked_forest(in_sample["forest"][1], data.X)
    spreads[("forest", "in-sample")] = forest.predict(data.X)[1]
    offset = 1
    for name in outer:
        fold_choices = choices[offset : offset + len(splits[name])]
        offset += len(splits[name])
        network, spread = fold_ensembles(x, y_scaled, splits[name], fold_choices, config)
        predictions[("network", name)] = network * config.output_scales
        spreads[("network", name)] = spread * config.output_scales
        for model, (found, spread) in baseline_predictions(
            data.X, data.y, splits[name], config
        ).items():
            predictions[(model, name)] = found
            if spread is not None:
                spreads[(model, name)] = spread
    predictions[("network", "random-repeated")] = ensemble.oof_predictions()
    spreads[("network", "random-repeated")] = ensemble.oof_spread()
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
        if (model, name) in spreads:
            scored |= coverage(data.y, predicted, spreads[(model, name)], METRIC_PREFIXES)
            scored["spread"] = SPREADS[(model, name)]
        metrics[f"{model} {name}"] = scored | {"model": model}
    if results is not None:
        metrics["hyperparameters"] |= {"inner_score": results[0].score}
        metrics["outer_fold_hyperparameters"] = [c.as_dict() for c in choices[1:]]
    metrics[RECORD_KEY] = choose(metrics)
    artefacts = {f"ensemble/{name}": content for name, content in ensemble.files().items()}
    linear = in_sample["linear"][1]  # least squares on every point, kept for screening
    artefacts["linear.json"] = json.dumps(
        {"coef": linear.coef_.tolist(), "intercept": linear.intercept_.tolist()}
    ).encode()
    artefacts[FOREST_FILE] = forest.to_bytes()
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
        if (model, name) in spreads:
            frame[[f"{slug}_tc_std_K", f"{slug}_pressure_std_GPa"]] = spreads[(model, name)]
    artefacts["out_of_fold.parquet"] = frame.to_parquet(index=False)
    return Fitted(artefacts, metrics, {"dropped_rows": data.dropped}, _oof_prediction_rows(frame))


# What each scored spread is.
_FOLD_MEMBERS = "standard deviation over the members of each fold's ensemble"
_FOLD_TREES = "standard deviation over the trees of each fold's forest"
SPREADS = {
    ("network", "in-sample"): "standard deviation over the kept ensemble's members",
    ("network", "random-folds"): _FOLD_MEMBERS,
    ("network", "grouped-by-composition"): _FOLD_MEMBERS,
    ("network", "random-repeated"): "standard deviation over the kept members that held the "
    "point out",
    ("forest", "in-sample"): "standard deviation over the trees of the forest fitted on every "
    "point",
    ("forest", "random-folds"): _FOLD_TREES,
    ("forest", "grouped-by-composition"): _FOLD_TREES,
}


def checked_forest(estimator, X: np.ndarray):
    """The forest fitted on every point as arrays (``ml.hydride.forest``), after checking
    that, read back as a run is read, it predicts the estimator's exact floats on every
    training point: a change in scikit-learn's internals fails here, at training."""
    from tcdb.ml.boosted_trees import TreeFormatError
    from tcdb.ml.hydride.forest import stored_forest

    try:
        forest = stored_forest(estimator, X)
    except TreeFormatError as exc:
        raise TcdbError(f"The forest is refused when read back ({exc}).") from None
    if not np.array_equal(forest.predict(X)[0], estimator.predict(X)):
        raise TcdbError(
            "The forest read back from its arrays does not predict as the fitted one; this "
            "scikit-learn version stores its trees differently (see ml/forest_trees.py)."
        )
    return forest


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
    """A hydride-mlp run loaded back: the ensemble, the forest (None for runs recorded before
    forests were kept), the linear baseline, the descriptors the run was trained with and the
    model its rule chose to rank with (``chosen``: "network" or "forest")."""

    run_id: str
    ensemble: object  # ml.hydride.ensemble.HydrideEnsemble
    linear_coef: np.ndarray
    linear_intercept: np.ndarray
    descriptors: HydrideDescriptorConfig
    forest: object | None = None  # ml.forest_trees.ForestTrees of (T_c, P)
    chosen: str = "network"

    @property
    def models(self) -> tuple[str, ...]:
        """The models that can predict a screen, the network first."""
        return ("network", "forest") if self.forest is not None else ("network",)

    def members(self, X: np.ndarray, model: str) -> np.ndarray:
        """Every member's (network) or tree's (forest) (T_c, P), (members, n, 2)."""
        if model == "network":
            return self.ensemble.predict_members(X)
        if model == "forest" and self.forest is not None:
            return self.forest.predict_trees(X)
        raise TcdbError(f"Run {self.run_id} holds no {model}; it holds {', '.join(self.models)}.")

    def mean(self, members: np.ndarray, model: str) -> np.ndarray:
        """The prediction: the members' mean (the forest's, as scikit-learn sums it)."""
        return self.forest.mean(members) if model == "forest" else members.mean(axis=0)

    def predict(self, inputs) -> np.ndarray:
        """(n, 2) predictions of (T_c K, P GPa) for (element, n_h) pairs by the model the
        run ranks with; NaN for an element lacking a descriptor."""
        predicted = np.full((len(inputs), 2), np.nan)
        usable = [
            i for i, (element, _) in enumerate(inputs)
            if not missing_descriptors(element, self.descriptors)
        ]  # fmt: skip
        if usable:
            elements = [inputs[i][0] for i in usable]
            n_h = np.array([inputs[i][1] for i in usable])
            X, _ = hydride_matrix(elements, n_h, self.descriptors)
            predicted[usable] = self.mean(self.members(X, self.chosen), self.chosen)
        return predicted

    def linear(self, X: np.ndarray) -> np.ndarray:
        """The linear baseline's (T_c, P) for descriptor rows."""
        return X @ self.linear_coef.T + self.linear_intercept


def load(run: VerifiedRun) -> HydridePredictor:
    """The trained ensemble of a checked hydride-mlp run, and its forest when it has one (JSON
    and ``.npz`` arrays only)."""
    from tcdb.ml.boosted_trees import TreeFormatError
    from tcdb.ml.hydride.ensemble import HydrideEnsemble
    from tcdb.ml.hydride.forest import FOREST_FILE, read_forest
    from tcdb.ml.hydride.selection import chosen_model

    run.require_model(HYDRIDE_MLP)
    recorded = run.manifest["config"]["descriptors"]
    descriptors = HydrideDescriptorConfig(
        **{f.name: recorded[f.name] for f in fields(HydrideDescriptorConfig)}
    )
    try:
        ensemble = HydrideEnsemble.load_from(lambda name: run.read_bytes(f"ensemble/{name}"))
    except (ValueError, KeyError) as exc:
        raise TcdbError(f"Run {run.id}: the ensemble was not loaded: {exc}.") from None
    forest = None
    if FOREST_FILE in run.manifest["artefacts"]:
        try:
            forest = read_forest(run.read_bytes(FOREST_FILE))
        except (TreeFormatError, ValueError) as exc:
            raise TcdbError(f"Run {run.id}: {FOREST_FILE} is not a valid forest ({exc}).") from None
    linear = run.read_json("linear.json")
    models = ("network", "forest") if forest is not None else ("network",)
    return HydridePredictor(run.id, ensemble, np.asarray(linear["coef"]),
                            np.asarray(linear["intercept"]), descriptors, forest,
                            chosen_model(run.manifest.get("metrics", {}), models))  # fmt: skip
