"""Fitting, scoring and recording a structure-experts run on a ``structures`` snapshot.

The split is the structural network's (``ml.structure_splits``, the same protocol, seed and
fractions give the same rows), so every figure sits beside the network's and the baselines' on
the same structures. The composition expert learns from the SuperCon entries whose composition
no validation or test structure has (``held_out_entries``; by system and by time leave out
what those protocols forbid) and from the training structures' formulas (the composition
model's trees, found through the registry); the hydride expert from the H-rich training
structures. The
validation part calibrates each expert's spread; then the scored part (test where the protocol
keeps one) is predicted once. Beside the experts, on the same rows: each of the composition
expert's two trees alone (``composition_entries``, and ``composition_structures``, the
structural network's baseline of that name when the profiles match) and a random forest on
the 175 descriptors of every training structure (the network's best baseline).

The run ships the experts fitted on the training part, with the domain of their training
structures (``domain.py``): what ``tcdb predict`` and ``tcdb morph run`` rank with when the
selection rule chooses this model (``ml.structure_selection``).
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from tcdb.core.errors import TcdbError
from tcdb.ml.contract import FitContext, Fitted
from tcdb.ml.evaluation import ByTimeSplit, Parts, fitted_reproducibly, part_protocol, score_part
from tcdb.ml.metrics import coverage, regression
from tcdb.ml.model_names import COMPOSITION
from tcdb.ml.parameters import BY_TIME_LAST_TRAINING_YEAR
from tcdb.ml.structure_experts.domain import StructureDomain
from tcdb.ml.structure_experts.experts import (
    COMPOSITION_COLUMNS,
    EXPERTS,
    Experts,
    calibrate,
    fit_composition,
    fit_hydride,
    fit_structures,
    gate,
)
from tcdb.ml.structure_experts.parameters import (
    HYDRIDE_H_FRACTION,
    HYDRIDE_MAX_FEATURES,
    HYDRIDE_MIN_LEAF,
    STRUCTURES_SHARE,
)
from tcdb.ml.structure_splits import (
    by_time_families,
    held_out_entries,
    split_structures,
    structure_years,
)
from tcdb.store.snapshots import Snapshot

log = logging.getLogger(__name__)

MODEL_NAME = "structure-experts"
COMPOSITION_FILE = "composition_member_{k}.txt"
HYDRIDE_FILE = "hydride_forest.npz"
STRUCTURES_FILE = "composition_structures.npz"
DOMAIN_FILE = "domain.npz"
EXPERTS_FILE = "experts.json"
FOREST_OUTPUT = ("tc_K",)
MIN_HYDRIDE_STRUCTURES = 2  # fewer H-rich training structures: no hydride expert


@dataclass(frozen=True)
class ExpertsConfig:
    """Every setting of a run (recorded in its manifest)."""

    protocol: str = "grouped"  # ml.evaluation: paper | grouped | grouped-by-system | by-time
    validation_fraction: float = 0.2
    test_fraction: float = 0.2
    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR
    seed: int = 0
    features: str = "tcdb"  # the feature preset (ml.structure_features), as the network's
    h_fraction: float = HYDRIDE_H_FRACTION
    composition_members: int = 3
    composition_rounds: int = 300
    composition_learning_rate: float = 0.1
    composition_leaves: int = 63
    composition_min_leaf: int = 5
    composition_bagging: float = 0.8
    # the composition model's profile whose trees are fitted on the training structures'
    # formulas, and their share of the composition expert (0: the entries' trees alone)
    structure_trees: str = "paper"
    structures_share: float = STRUCTURES_SHARE
    hydride_trees: int = 300
    hydride_max_features: float = HYDRIDE_MAX_FEATURES
    hydride_min_leaf: int = HYDRIDE_MIN_LEAF
    domain_neighbours: int = 5
    domain_quantile: float = 0.99
    baseline_trees: int = 200  # the descriptor forest beside the experts

    def __post_init__(self) -> None:
        if self.composition_members < 2:
            raise TcdbError("The composition expert needs at least 2 members for a spread.")
        if not 0.0 <= self.structures_share <= 1.0:
            raise TcdbError(
                f"structures_share must lie between 0 and 1, not {self.structures_share}."
            )
        self.split_protocol()  # an unknown protocol or a bad fraction is refused here

    def split_protocol(self):
        return part_protocol(
            self.protocol,
            self.validation_fraction,
            self.test_fraction,
            self.seed,
            self.last_training_year,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record(config: ExpertsConfig) -> dict:
    """The configuration as the manifest records it, with the feature preset's values."""
    from tcdb.ml.structure_features import feature_preset

    return {
        "experts": config.as_dict(),
        "feature_preset": config.features,
        "features": feature_preset(config.features).as_dict(),
        "split": config.split_protocol().describe(),
    }


def fit(snapshot: Snapshot, config: ExpertsConfig, context: FitContext) -> Fitted:
    """Features (the cache the network filled), split, both experts, calibration on the
    validation part, the scored part once, baselines on the same rows, domain, artefacts."""
    from tcdb.ml.structure_features import feature_preset, structure_features

    trees = context.configured(COMPOSITION, config.structure_trees, config.seed, "structure_trees")
    frame = snapshot.require_kind("structures").structures
    features = structure_features(
        frame, feature_preset(config.features), context.cache_dir, progress=context.progress
    )
    labels = frame["label_tc_K"].to_numpy(dtype=float)
    rows = np.flatnonzero(features.valid & np.isfinite(labels))
    if len(rows) < 10:
        raise TcdbError(f"Snapshot {snapshot.id} has only {len(rows)} usable structures.")
    numerical, y = features.numerical[rows], labels[rows]
    usable = frame.iloc[rows].reset_index(drop=True)
    years = structure_years(snapshot, usable) if config.protocol == ByTimeSplit.name else None
    protocol, parts = split_structures(usable, config, years)
    held = np.concatenate(list(parts.evaluated().values()))
    X_entries, y_entries, n_left_out = held_out_entries(snapshot, usable, held, protocol)
    experts = fit_experts(config, numerical, y, parts.train, (X_entries, y_entries), trees)
    domain = StructureDomain.fit(
        numerical[parts.train],
        experts.which(numerical[parts.train]),
        config.domain_neighbours,
        config.domain_quantile,
    )
    validation = numerical[parts.validation]
    calibration = calibrate(
        experts, validation, y[parts.validation],
        domain.distances(validation, experts.which(validation)),
    )  # fmt: skip
    predicted = {
        part: _predicted(experts, domain, numerical[index])
        for part, index in parts.evaluated().items()
    }
    baselines = _baselines(config, experts, numerical, y, parts)
    metrics = _metrics(protocol, parts, y, predicted, baselines, usable)
    metrics |= {
        "calibration": calibration,
        "domain": domain.summary(),
        "experts": {
            "gate": f"hydride expert where more than {config.h_fraction:.0%} of atoms are H",
            "composition_entries": len(y_entries),
            "composition_structures": len(parts.train) if experts.structures is not None else 0,
            "structures_share": experts.structures_share,
            "entries_left_out": n_left_out,
            "hydride_training_structures": int(
                gate(numerical[parts.train], config.h_fraction).sum()
            ),
            "hydride_expert": experts.hydride is not None,
        },
        "n_train": len(parts.train),
    }
    if years is not None:
        metrics["n_without_year"] = int(np.isnan(years).sum())
        metrics["by_time_families"] = by_time_families(
            usable, parts, y, {MODEL_NAME: predicted["test"]["tc"], **baselines}
        )
    artefacts = _artefacts(experts, domain, numerical[parts.train])
    notes = {"structures_left_out": len(frame) - len(rows), "feature_cache_hit": features.cache_hit}
    return Fitted(artefacts, metrics, notes, _prediction_rows(usable, y, parts, predicted))


def fit_experts(config, numerical, y, train, entries, trees) -> Experts:
    """Both experts: the composition expert's trees on the allowed SuperCon ``entries``
    (descriptors, labels) and, with ``trees`` (the composition model's configuration), on the
    training structures' formulas; the forest on the H-rich training structures."""
    composition = fit_composition(config, *entries)
    structures = None
    if config.structures_share > 0:
        structures = fit_structures(trees, numerical[train][:, COMPOSITION_COLUMNS], y[train])
    hydrides = train[gate(numerical[train], config.h_fraction)]
    forest = None
    if len(hydrides) >= MIN_HYDRIDE_STRUCTURES:
        forest = fit_hydride(config, numerical[hydrides], y[hydrides])
    else:
        log.warning("only %d training structures are more than %.0f%% hydrogen: no hydride "
                    "expert, the composition expert predicts every structure",
                    len(hydrides), 100 * config.h_fraction)  # fmt: skip
    log.info(
        "experts fitted: composition on %d entries and %d training structures (share %.3g), "
        "hydride forest on %d structures",
        len(entries[1]),
        len(train) if structures is not None else 0,
        config.structures_share,
        len(hydrides),
    )
    scale = {name: 1.0 for name in EXPERTS}
    return Experts(
        composition, forest, config.h_fraction, scale, {}, structures, config.structures_share
    )


def _predicted(experts: Experts, domain: StructureDomain, numerical: np.ndarray) -> dict:
    expert = experts.which(numerical)
    inside, reasons, distance, _ = domain.check(numerical, expert)
    tc, spread, _ = experts.predict(numerical, distance, expert)
    return {
        "tc": tc,
        "spread": spread,
        "expert": expert,
        "in_domain": inside,
        "reason": reasons,
        "distance": distance,
    }


def _baselines(config, experts: Experts, numerical, y, parts: Parts) -> dict[str, np.ndarray]:
    """On the scored part: each of the composition expert's trees alone (on the entries, on
    the training structures' formulas), and a random forest on the 175 descriptors of every
    training structure."""
    from sklearn.ensemble import RandomForestRegressor

    scored = parts.rows(parts.scored)
    entries, _, structures = experts.composition_parts(numerical[scored][:, COMPOSITION_COLUMNS])
    forest = RandomForestRegressor(
        n_estimators=config.baseline_trees, max_features=1 / 3, random_state=config.seed, n_jobs=-1
    )
    fitted_reproducibly(forest, numerical[parts.train], y[parts.train])
    baselines = {"composition_entries": entries}
    if structures is not None:
        baselines["composition_structures"] = structures
    return baselines | {"forest_descriptors": forest.predict(numerical[scored])}


def _metrics(protocol, parts: Parts, y, predicted: dict, baselines: dict, usable) -> dict:
    """Each evaluated part's score (with the protocol), split by origin and by expert, with
    the spread's coverage and the share in the domain; the baselines on the scored part."""
    origins = usable["origin"].to_numpy(dtype=str)

    def scored(part: str, values: np.ndarray, extra: dict | None = None) -> dict:
        index = parts.rows(part)
        by = {
            o: regression(y[index][m], values[m], unit="_K")
            for o in sorted(set(origins[index]))
            if (m := origins[index] == o).any()
        }
        return score_part(protocol, parts, part, y, values) | {"by_origin": by} | (extra or {})

    out: dict[str, Any] = {}
    for part, p in predicted.items():
        index = parts.rows(part)
        by_expert = {
            e: regression(y[index][m], p["tc"][m], unit="_K")
            for e in EXPERTS
            if (m := p["expert"] == e).any()
        }
        out[part] = scored(
            part,
            p["tc"],
            {
                "by_expert": by_expert,
                "coverage": coverage(y[index], p["tc"], p["spread"]),
                "in_domain_share": float(np.mean(p["in_domain"])),
            },
        )
    out["baselines"] = {name: scored(parts.scored, values) for name, values in baselines.items()}
    return out


def _artefacts(experts: Experts, domain: StructureDomain, train_numerical) -> dict[str, bytes]:
    """Composition members in LightGBM's text, the forest as arrays, the domain's arrays and
    the gate with the spread factors; each checked to predict as the fitted model."""
    from tcdb.ml.boosted_trees import booster_text, export, load_booster
    from tcdb.ml.forest_trees import checked_forest

    artefacts: dict[str, bytes] = {}
    X = train_numerical[:2000, COMPOSITION_COLUMNS]
    for k, member in enumerate(experts.composition):
        text = booster_text(member)
        if not np.array_equal(load_booster(text).predict(X), member.predict(X)):
            raise TcdbError("A composition member read back from its text predicts otherwise.")
        artefacts[COMPOSITION_FILE.format(k=k)] = text
    if experts.structures is not None:
        trees = export(experts.structures)
        if not np.array_equal(trees.predict(X), experts.structures.predict(X)):
            raise TcdbError("The structures' trees read back from their arrays predict otherwise.")
        artefacts[STRUCTURES_FILE] = trees.to_bytes()
    if experts.hydride is not None:
        forest = checked_forest(experts.hydride, FOREST_OUTPUT, train_numerical)
        artefacts[HYDRIDE_FILE] = forest.to_bytes()
    buffer = io.BytesIO()
    np.savez(buffer, **domain.arrays())
    artefacts[DOMAIN_FILE] = buffer.getvalue()
    artefacts[EXPERTS_FILE] = json.dumps(
        {
            "h_fraction": experts.h_fraction,
            "scale": experts.scale,
            "distance_weight": experts.distance_weight,
            "tc_weight": experts.tc_weight,
            "structures_share": experts.structures_share,
            "hydride_expert": experts.hydride is not None,
            "composition_members": len(experts.composition),
        }
    ).encode()
    return artefacts


def _prediction_rows(usable: pd.DataFrame, y, parts: Parts, predicted: dict) -> list[dict]:
    """One row per evaluated structure, with its part, expert, spread and domain verdict."""
    rows: list[dict] = []
    for part, index in parts.evaluated().items():
        p = predicted[part]
        for j, i in enumerate(index):
            rows.append(
                {
                    "subject_kind": "structure",
                    "subject_id": f"{usable['structure_id'].iloc[i]}:{len(rows)}",
                    "structure_id": usable["structure_id"].iloc[i],
                    "formula": usable["reduced_formula"].iloc[i],
                    "tc_K": float(p["tc"][j]),
                    "tc_std_K": float(p["spread"][j]),
                    "in_domain": bool(p["in_domain"][j]),
                    "domain_reason": p["reason"][j],
                    "extra_json": json.dumps(
                        {"kind": part, "label_tc_K": float(y[i]), "expert": str(p["expert"][j])}
                    ),
                }
            )
    return rows
