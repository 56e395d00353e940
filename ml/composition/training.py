"""The composition-only model ("T_c chem" in Novakovic et al. 2023's tables).

By default (profile ``quick``) gradient-boosted trees on the 81 Hamidieh descriptors plus element
fractions and Magpie-style statistics (descriptor preset ``hamidieh81+fractions+magpie``), with
leaves and minimum leaf size chosen and iterations stopped by inner validation inside each
training fold, k members and a spread per prediction (``ml.composition.ensemble``).

The ``paper`` profile keeps Hamidieh's model (``hamidieh-quick``: capped at 63 leaves):
Hamidieh (2018) fitted gradient-boosted trees to the 81 composition descriptors of SuperCon
(XGBoost: 374 trees, learning rate 0.02, maximum depth 16, minimum child weight 1, half the
columns per tree; RMSE ≈ 9.5 K, R² ≈ 0.92). Here the same settings drive scikit-learn's
histogram gradient boosting. Both train on the SuperCon compositions of a ``structures``
snapshot (its labels under the snapshot's variance policy). Evaluation is 10-fold
cross-validation with folds grouped by composition, so no composition is in both a training
and a test fold; or, chosen by ``protocol``, folds grouped by chemical system, or a split by
time (trained on the compositions first reported up to a year, scored on the later ones,
family by family). Under every protocol each training part fits its own ensemble.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tcdb.core.errors import TcdbError
from tcdb.core.families import chemical_system, family
from tcdb.ml.composition.ensemble import StoredEnsemble, calibration, fit_ensemble
from tcdb.ml.composition_descriptors import (
    HAMIDIEH81,
    PRESET_LABELS,
    RICH_PRESET,
    CompositionDescriptorConfig,
    preset_matrix,
)
from tcdb.ml.contract import Fitted
from tcdb.ml.evaluation import (
    ByTime,
    GroupedByChemicalSystem,
    GroupedByComposition,
    Split,
    family_scores,
    years_of,
)
from tcdb.ml.metrics import regression
from tcdb.ml.model_names import COMPOSITION
from tcdb.ml.parameters import BY_TIME_LAST_TRAINING_YEAR
from tcdb.store.model_runs import VerifiedRun
from tcdb.store.snapshots import Snapshot

log = logging.getLogger(__name__)

# Stored trees, never a pickle (ml.boosted_trees): scikit-learn's (the scale model,
# Hamidieh's fixed members) as arrays, LightGBM's boosters (the searched members) in LightGBM's
# text format. Runs recorded before the text format hold every model, boosters too, in the arrays.
MODEL_FILE = "model.npz"
BOOSTER_FILE = re.compile(r"member_\d+\.txt")
METHODS = ("search", "fixed")
# The protocols the baseline can be scored under, each with the metrics key it is stored as
# (the default keeps ``cross_validation``, the key every earlier run has).
PROTOCOL_METRICS = {
    GroupedByComposition.name: "cross_validation",
    GroupedByChemicalSystem.name: "cross_validation_by_chemical_system",
    ByTime.name: "by_time",
}


@dataclass(frozen=True)
class CompositionModelConfig:
    """Hamidieh's XGBoost settings in scikit-learn's terms (``estimator()``, used by
    ``method="fixed"`` and the structural baselines); the inner search's grid, the members
    and the descriptor preset; folds and seed for the evaluation."""

    max_iter: int = 374
    learning_rate: float = 0.02
    max_depth: int = 16
    min_samples_leaf: int = 1
    max_features: float = 0.5
    max_leaf_nodes: int | None = None
    l2_regularization: float = 1.0  # XGBoost's default lambda
    folds: int = 10
    seed: int = 0
    descriptors: str = RICH_PRESET  # a preset of ml.composition_descriptors.PRESET_LABELS
    method: str = "search"  # "search": settings chosen by inner validation; "fixed": the above
    members: int = 3  # inner folds = members; 1: a single model, no spread
    search_learning_rate: float = 0.1
    search_leaves: tuple[int, ...] = (63, 127)
    search_min_leaf: tuple[int, ...] = (5,)
    search_max_iter: int = 2000  # the cap; early stopping on the inner fold ends sooner
    search_patience: int = 20  # iterations without improvement of the inner fold's loss
    parallel_fits: int = 2  # searched fits trained at once, each on cores // parallel_fits threads
    # histogram bins per feature of the searched trees: with LightGBM, 63 fit 1.8x as fast as
    # 255 at a lower validation RMSE (9.20 against 9.31 K, two inner splits of the first outer
    # training fold)
    max_bins: int = 255
    protocol: str = GroupedByComposition.name  # a key of PROTOCOL_METRICS
    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR  # by-time only

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOL_METRICS:
            raise TcdbError(
                f"The composition model has no protocol {self.protocol!r}; choose one of "
                f"{', '.join(PROTOCOL_METRICS)}."
            )
        if self.method not in METHODS:
            raise TcdbError(f"Unknown composition method {self.method!r}; choose search or fixed.")
        if self.descriptors not in PRESET_LABELS:
            raise TcdbError(
                f"Unknown descriptor preset {self.descriptors!r}; choose "
                f"{', '.join(PRESET_LABELS)}."
            )
        if self.members < 1 or (self.method == "search" and self.members < 2):
            raise TcdbError("The inner search needs at least 2 members (one validates).")

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
    snapshot: Snapshot,
    descriptors: CompositionDescriptorConfig | None = None,
    preset: str = HAMIDIEH81,
) -> CompositionData:
    """The snapshot's SuperCon labels with the composition descriptors of ``preset``."""
    snapshot.require_kind("structures")
    entries = snapshot.entries
    entries = entries[entries["origin"] == "supercon"].reset_index(drop=True)
    compositions = [json.loads(c) for c in entries["composition_json"]]
    batch = preset_matrix(compositions, preset, descriptors or CompositionDescriptorConfig())
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


@dataclass(frozen=True)
class OutOfFold:
    predicted: np.ndarray  # NaN for rows no split tests
    std: np.ndarray  # NaN without a spread
    chosen: list[dict]  # per split: what the inner search chose


def protocol_oof(
    config: CompositionModelConfig,
    data: CompositionData,
    splits: list[Split],
    on_split: Callable[[int, np.ndarray, np.ndarray, dict], None] | None = None,
) -> OutOfFold:
    """Out-of-fold predictions of the protocol's splits; each split's ensemble (search,
    members, scale) is fitted on that split's training rows alone. ``on_split(number, test
    rows, their predictions, what the search chose)`` is called as each split ends."""
    groups = data.entries["material_id"].to_numpy()
    predicted = np.full(len(data.y), np.nan)
    std = np.full(len(data.y), np.nan)
    chosen = []
    for number, (train, test) in enumerate(splits, start=1):
        ensemble = fit_ensemble(config, data.X[train], data.y[train], groups[train])
        predicted[test], std[test] = ensemble.predict(data.X[test])
        chosen.append(ensemble.chosen)
        log.info("fold %d/%d done", number, len(splits))
        if on_split is not None:
            on_split(number, test, predicted[test], ensemble.chosen)
    return OutOfFold(predicted, std, chosen)


def record(
    config: CompositionModelConfig, descriptors: CompositionDescriptorConfig | None = None
) -> dict:
    """The configuration as the run manifest records it."""
    descriptors = descriptors or CompositionDescriptorConfig()
    return {
        "model": config.as_dict(),
        "descriptors": descriptors.as_dict() | {"preset": config.descriptors},
    }


def fit(
    snapshot: Snapshot,
    config: CompositionModelConfig,
    descriptors: CompositionDescriptorConfig | None = None,
) -> Fitted:
    """Cross-validate, then fit on every composition: the trees, the metrics and the
    out-of-fold predictions."""
    data = composition_data(snapshot, descriptors, config.descriptors)
    splits, described = protocol_splits(config, data, f"Snapshot {snapshot.id}")
    oof = protocol_oof(config, data, splits)
    final = fit_ensemble(config, data.X, data.y, data.entries["material_id"].to_numpy())
    metrics = {
        "protocol": _protocol_text(config),
        "evaluated": PROTOCOL_METRICS[config.protocol],
        PROTOCOL_METRICS[config.protocol]: described | regression(data.y, oof.predicted),
        "uncertainty": calibration(data.y, oof.predicted, oof.std),
        "anchor_hamidieh_2018": {"rmse_K": 9.5, "r2": 0.92},
    }
    if config.protocol == ByTime.name:
        families = [family(c) for c in _compositions(data)]
        tested = np.concatenate([test for _, test in splits])
        metrics["by_time_families"] = family_scores(families, data.y, oof.predicted, tested)
    frame = data.entries[["material_id", "reduced_formula", "label_tc_K"]].assign(
        oof_tc_K=oof.predicted, oof_tc_std_K=oof.std
    )
    frame = frame[np.isfinite(oof.predicted)]  # by time: only the later compositions
    artefacts = {
        **ensemble_artefacts(final, data.X),
        "out_of_fold.parquet": frame.to_parquet(index=False),
    }
    notes = {
        "dropped_compositions": data.dropped,
        "inner_search": {"outer_folds": oof.chosen, "final_model": final.chosen},
    }
    rows = [
        {
            "subject_kind": "material",
            "subject_id": f"{r.material_id}:{i}",
            "material_id": r.material_id,
            "formula": r.reduced_formula,
            "tc_K": float(r.oof_tc_K),
            "tc_std_K": float(r.oof_tc_std_K) if np.isfinite(r.oof_tc_std_K) else None,
            "extra_json": json.dumps({"kind": "out_of_fold", "label_tc_K": r.label_tc_K}),
        }
        for i, r in enumerate(frame.itertuples(index=False))
    ]
    return Fitted(artefacts, metrics, notes, rows)


def _protocol_text(config: CompositionModelConfig) -> str:
    if config.protocol == ByTime.name:
        return (f"trained on the compositions first reported up to {config.last_training_year}, "
                "scored on the later ones (compositions without a year left out)")  # fmt: skip
    grouped = (
        "chemical system" if config.protocol == GroupedByChemicalSystem.name else "composition"
    )
    return f"{config.folds}-fold cross-validation grouped by {grouped} (out-of-fold predictions)"


def checked_trees(model, X: np.ndarray):
    """scikit-learn's fitted trees as arrays, after checking they predict exactly as the
    estimator on (up to 2,000 of) the training rows: a change in scikit-learn's internals
    fails here, at training, not later as wrong predictions."""
    from tcdb.ml.boosted_trees import export

    trees = export(model)
    sample = X[:2000]
    if not np.array_equal(trees.predict(sample), model.predict(sample)):
        raise TcdbError(
            "The exported trees do not predict as the fitted model; this scikit-learn version "
            "stores its trees differently (see ml/boosted_trees.py)."
        )
    return trees


def tree_bytes(model, X: np.ndarray) -> bytes:
    """One fitted scikit-learn model's checked trees (``checked_trees``) as an array archive."""
    return checked_trees(model, X).to_bytes()


def checked_booster(booster, X: np.ndarray) -> bytes:
    """A LightGBM booster in LightGBM's text format, after checking that the text, read back
    as a run is read (``load_booster``), predicts the booster's exact floats on (up to 2,000
    of) the training rows."""
    from tcdb.ml.boosted_trees import TreeFormatError, booster_text, load_booster

    text = booster_text(booster)
    sample = X[:2000]
    try:
        same = np.array_equal(load_booster(text).predict(sample), booster.predict(sample))
    except TreeFormatError as exc:
        raise TcdbError(f"The booster's own text is refused when read back ({exc}).") from None
    if not same:
        raise TcdbError("The booster read back from its text does not predict as the fitted one.")
    return text


def ensemble_artefacts(ensemble, X: np.ndarray) -> dict[str, bytes]:
    """Members and scale model, each saved once and checked: LightGBM boosters as
    ``member_<i>.txt`` (``checked_booster``), scikit-learn's trees together in ``MODEL_FILE``
    (``checked_trees``)."""
    from tcdb.ml.boosted_trees import is_booster, pack

    arrays, texts = {}, {}
    for name, model in ensemble.models().items():
        if is_booster(model):
            texts[f"{name}.txt"] = checked_booster(model, X)
        else:
            arrays[name] = checked_trees(model, X)
    return {MODEL_FILE: pack(arrays), **texts}


def load_model(run: VerifiedRun) -> StoredEnsemble:
    """The fitted trees of a checked composition run, each read from the bytes its manifest
    hashed (nothing runs on load): the arrays of ``MODEL_FILE`` and every ``member_<i>.txt``
    the manifest lists. A run of one model (written before ensembles) loads as an ensemble of
    one; a run written before the text format, from its arrays alone."""
    from tcdb.ml.boosted_trees import TreeFormatError, unpack

    run.require_model(COMPOSITION)
    try:
        models = unpack(run.read_bytes(MODEL_FILE))
    except (TreeFormatError, ValueError) as exc:
        raise TcdbError(
            f"Run {run.id}: {MODEL_FILE} is not a valid tree archive ({exc})."
        ) from None
    for name in sorted(n for n in run.manifest["artefacts"] if BOOSTER_FILE.fullmatch(n)):
        member = name.removesuffix(".txt")
        if member in models:
            raise TcdbError(f"Run {run.id}: {member} is stored twice ({MODEL_FILE} and {name}).")
        models[member] = _read_booster(run, name)
    count = sum(name.startswith("member_") for name in models)
    members = [f"member_{i}" for i in range(count)]
    if not count:
        raise TcdbError(f"Run {run.id}: its trees hold no member.")
    if not set(members) <= set(models):
        raise TcdbError(f"Run {run.id}: its members are not member_0 to member_{count - 1}.")
    ensemble = StoredEnsemble(tuple(models[k] for k in members), models.get("scale"))
    if len(ensemble.n_features()) != 1:
        raise TcdbError(f"Run {run.id}: its models read different numbers of descriptors.")
    return ensemble


def _read_booster(run: VerifiedRun, name: str):
    """A booster text of the run, no larger than BOOSTER_TEXT_MAX_BYTES (refused by the size
    its manifest records, before a byte is read), checked, then parsed by LightGBM."""
    from tcdb.ml.boosted_trees import (
        BOOSTER_TEXT_MAX_BYTES,
        TreeFormatError,
        load_booster,
    )

    listed = run.manifest["artefacts"][name]
    size = listed.get("size") if isinstance(listed, dict) else None  # else refused on reading
    try:
        if isinstance(size, int) and size > BOOSTER_TEXT_MAX_BYTES:
            raise TreeFormatError(
                f"its manifest gives it {size:,} bytes, more than BOOSTER_TEXT_MAX_BYTES "
                f"({BOOSTER_TEXT_MAX_BYTES:,})"
            )
        return load_booster(run.read_bytes(name))
    except TreeFormatError as exc:
        raise TcdbError(f"Run {run.id}: {name} is not a valid LightGBM model ({exc}).") from None


def predict_with_spread(
    run: VerifiedRun, compositions: list[dict], model: StoredEnsemble | None = None
) -> tuple[np.ndarray, np.ndarray, dict]:
    """T_c and its standard deviation (NaN without a spread) of compositions (element →
    amount) with a composition run, under the run's recorded descriptor preset; errors per
    row. ``model`` is the run's trees if already loaded (``load_model``), else they are."""
    recorded = run.manifest["config"]["descriptors"]
    descriptors = CompositionDescriptorConfig(**{k: recorded[k] for k in ("impute", "nonpositive")})
    batch = preset_matrix(compositions, recorded.get("preset", HAMIDIEH81), descriptors)
    predicted = np.full(len(compositions), np.nan)
    std = np.full(len(compositions), np.nan)
    if batch.valid.any():
        model = model or load_model(run)
        if model.n_features() != {batch.X.shape[1]}:
            raise TcdbError(
                f"Run {run.id}: its trees read {model.n_features().pop()} descriptors, its "
                f"descriptor preset gives {batch.X.shape[1]}."
            )
        predicted[batch.valid] = model.predict(batch.X[batch.valid])
        std[batch.valid] = model.spread(batch.X[batch.valid])
    return predicted, std, batch.errors


def predict_compositions(
    run: VerifiedRun, compositions: list[dict], model: StoredEnsemble | None = None
) -> tuple[np.ndarray, dict]:
    """T_c of compositions (element → amount) with a composition run; errors per row."""
    predicted, _, errors = predict_with_spread(run, compositions, model)
    return predicted, errors


def composition_prediction_rows(
    composition_run: VerifiedRun, formulas: list[str], model: StoredEnsemble | None = None
) -> list[dict]:
    """Composition-baseline predictions of distinct reduced formulas (subject 'composition')."""
    from pymatgen.core import Composition

    distinct = sorted(set(formulas))
    amounts = [
        {el.symbol: float(n) for el, n in Composition(f).element_composition.items()}
        for f in distinct
    ]
    predicted, std, errors = predict_with_spread(composition_run, amounts, model)
    run_id = composition_run.id
    return [
        {
            "model_run_id": run_id,
            "subject_kind": "composition",
            "subject_id": formula,
            "formula": formula,
            "tc_K": float(tc),
            "tc_std_K": float(std[i]) if np.isfinite(std[i]) else None,
        }
        for i, (formula, tc) in enumerate(zip(distinct, predicted, strict=True))
        if i not in errors and np.isfinite(tc)
    ]
