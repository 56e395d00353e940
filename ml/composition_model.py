"""The composition-only baseline ("T_c chem" in Novakovic et al. 2023's tables).

Hamidieh (2018) fitted gradient-boosted trees to the 81 composition descriptors of SuperCon
(XGBoost: 374 trees, learning rate 0.02, maximum depth 16, minimum child weight 1, half the
columns per tree; RMSE ≈ 9.5 K, R² ≈ 0.92). Here the same settings drive scikit-learn's
histogram gradient boosting, on the SuperCon compositions of a ``structures`` snapshot (its
labels under the snapshot's variance policy). Evaluation is 10-fold cross-validation with
folds grouped by composition, so no composition is in both a training and a test fold; or,
chosen by ``protocol``, folds grouped by chemical system, or a split by time (trained on the
compositions first reported up to a year, scored on the later ones, family by family).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import TcdbError
from core.families import chemical_system, family
from core.parameters import BY_TIME_LAST_TRAINING_YEAR
from ml.composition_descriptors import CompositionDescriptorConfig, composition_matrix
from ml.contract import Fitted
from ml.evaluation import (
    ByTime,
    GroupedByChemicalSystem,
    GroupedByComposition,
    Split,
    family_scores,
    out_of_fold,
    years_of,
)
from ml.metrics import regression
from ml.model_names import COMPOSITION
from store.model_runs import VerifiedRun
from store.snapshots import Snapshot

log = logging.getLogger(__name__)

MODEL_FILE = "model.npz"  # the trees as arrays (ml.boosted_trees); never a pickle
# The protocols the baseline can be scored under, each with the metrics key it is stored as
# (the default keeps ``cross_validation``, the key every earlier run has).
PROTOCOL_METRICS = {
    GroupedByComposition.name: "cross_validation",
    GroupedByChemicalSystem.name: "cross_validation_by_chemical_system",
    ByTime.name: "by_time",
}


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
    protocol: str = GroupedByComposition.name  # a key of PROTOCOL_METRICS
    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR  # by-time only

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOL_METRICS:
            raise TcdbError(
                f"The composition model has no protocol {self.protocol!r}; choose one of "
                f"{', '.join(PROTOCOL_METRICS)}."
            )

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


def protocol_splits(
    config: CompositionModelConfig, data: CompositionData, where: str
) -> tuple[list[Split], dict]:
    """The splits of the configured protocol and its description (with the counts it left
    out, such as the compositions without a year under by-time)."""
    n = len(data.y)
    if config.protocol == ByTime.name:
        years = years_of(data.entries, where)
        by_time = ByTime(config.last_training_year)
        return by_time.splits(n, years=years), by_time.describe(years)
    if config.protocol == GroupedByChemicalSystem.name:
        systems = np.array([chemical_system(c) for c in _compositions(data)])
        grouped = GroupedByChemicalSystem(config.folds, config.seed)
        return grouped.splits(n, groups=systems), grouped.describe(systems)
    protocol = GroupedByComposition(config.folds, config.seed)
    return protocol.splits(n, groups=data.entries["material_id"].to_numpy()), protocol.describe()


def _compositions(data: CompositionData) -> list[dict]:
    return [json.loads(c) for c in data.entries["composition_json"]]


def protocol_oof(config: CompositionModelConfig, data: CompositionData, splits) -> np.ndarray:
    """Out-of-fold predictions of the protocol's splits (NaN for rows no split tests)."""
    return out_of_fold(
        lambda X, y, X_test: config.estimator().fit(X, y).predict(X_test),
        data.X,
        data.y,
        splits,
        lambda number, total: log.info("fold %d/%d done", number, total),
    )


def record(
    config: CompositionModelConfig, descriptors: CompositionDescriptorConfig | None = None
) -> dict:
    """The configuration as the run manifest records it."""
    descriptors = descriptors or CompositionDescriptorConfig()
    return {"model": config.as_dict(), "descriptors": descriptors.as_dict()}


def fit(
    snapshot: Snapshot,
    config: CompositionModelConfig,
    descriptors: CompositionDescriptorConfig | None = None,
) -> Fitted:
    """Cross-validate, then fit on every composition: the trees, the metrics and the
    out-of-fold predictions."""
    data = composition_data(snapshot, descriptors or CompositionDescriptorConfig())
    splits, described = protocol_splits(config, data, f"Snapshot {snapshot.id}")
    oof = protocol_oof(config, data, splits)
    model = config.estimator().fit(data.X, data.y)
    metrics = {
        "protocol": _protocol_text(config),
        "evaluated": PROTOCOL_METRICS[config.protocol],
        PROTOCOL_METRICS[config.protocol]: described | regression(data.y, oof),
        "anchor_hamidieh_2018": {"rmse_K": 9.5, "r2": 0.92},
    }
    if config.protocol == ByTime.name:
        families = [family(c) for c in _compositions(data)]
        tested = np.concatenate([test for _, test in splits])
        metrics["by_time_families"] = family_scores(families, data.y, oof, tested)
    frame = data.entries[["material_id", "reduced_formula", "label_tc_K"]].assign(oof_tc_K=oof)
    frame = frame[np.isfinite(oof)]  # by time: only the later compositions are predicted
    artefacts = {
        MODEL_FILE: tree_bytes(model, data.X),
        "out_of_fold.parquet": frame.to_parquet(index=False),
    }
    rows = [
        {
            "subject_kind": "material",
            "subject_id": f"{r.material_id}:{i}",
            "material_id": r.material_id,
            "formula": r.reduced_formula,
            "tc_K": float(r.oof_tc_K),
            "extra_json": json.dumps({"kind": "out_of_fold", "label_tc_K": r.label_tc_K}),
        }
        for i, r in enumerate(frame.itertuples(index=False))
    ]
    return Fitted(artefacts, metrics, {"dropped_compositions": data.dropped}, rows)


def _protocol_text(config: CompositionModelConfig) -> str:
    if config.protocol == ByTime.name:
        return (f"trained on the compositions first reported up to {config.last_training_year}, "
                "scored on the later ones (compositions without a year left out)")  # fmt: skip
    grouped = (
        "chemical system" if config.protocol == GroupedByChemicalSystem.name else "composition"
    )
    return f"{config.folds}-fold cross-validation grouped by {grouped} (out-of-fold predictions)"


def tree_bytes(model, X: np.ndarray) -> bytes:
    """The fitted trees as arrays, after checking they predict exactly as the estimator
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
    return trees.to_bytes()


def load_model(run: VerifiedRun):
    """The fitted trees of a checked composition run (arrays only: nothing runs on load)."""
    from ml.boosted_trees import BoostedTrees, TreeFormatError

    run.require_model(COMPOSITION)
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
