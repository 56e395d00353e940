"""Training the structural model of Novakovic et al. (2023) on a ``structures`` snapshot.

Every labelled structure of the snapshot gets its Fourier coefficients and 175 numerical
descriptors (``ml.structure_features``, cached by content); structures whose descriptors
cannot be computed (elements beyond Z = 86, noble gases) are left out and counted.

The split follows ``config.protocol`` (``ml.evaluation``): ``paper`` is the seeded random 80/20
over structures whose 20 % both picks the checkpoint and is scored (the paper's r², an
optimistic figure); ``grouped`` keeps whole reduced formulas in one of training, validation
(checkpoint) and test, and predicts the test part once, after training; ``grouped-by-system``
does the same with element sets; ``by-time`` tests the structures first reported after a year
and reports, per family, how many of them each model puts above 20 K. The numerical
descriptors are standardised with the training part's statistics only. The baselines of
``ml.structural.baselines`` are fitted and scored on the same split and the same rows. With
``members`` > 1 that many networks are trained on the same split (``ml.structural.ensemble``); each
part is scored on the members' mean, beside each member's own score and the mean spread.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from tcdb.core.errors import TcdbError
from tcdb.ml.contract import FitContext, Fitted
from tcdb.ml.evaluation import ByTimeSplit, Parts, score_part
from tcdb.ml.metrics import regression
from tcdb.ml.structural.parameters import BASELINES_IN_A_PROCESS_FROM_EPOCHS
from tcdb.ml.structure_splits import by_time_families, split_structures, structure_years
from tcdb.store.snapshots import Snapshot

log = logging.getLogger(__name__)

PAPER_R2 = 0.9429
PAPER_R2_NOTE = "optimistic: the same part picks the checkpoint and is scored"
ENSEMBLE = (
    "{n} networks on the run's split; member k from initial weights and shuffling of seed + k, "
    "each at its best validation epoch (model.keras, model-1.keras … model-{last}.keras); "
    "predictions are the mean over members, tc_std_K their standard deviation"
)


def record(config) -> dict:
    """The configuration as the run manifest records it: its name, every field, the feature
    preset it names with every value of that preset, the split and the baselines."""
    from tcdb.ml.structural.parameters import STRUCTURAL_BASELINES
    from tcdb.ml.structure_features import feature_preset

    recorded = {
        "configuration": config.configuration,
        "cvcnn": config.as_dict(),
        "feature_preset": config.features,
        "features": feature_preset(config.features).as_dict(),
        "numerical_scaling": "mean and std of the training part",
        "split": config.split_protocol().describe(),
        "baselines": STRUCTURAL_BASELINES.as_dict(),
    }
    if config.members > 1:
        recorded["ensemble"] = ENSEMBLE.format(n=config.members, last=config.members - 1)
    return recorded


def fit(snapshot: Snapshot, config, context: FitContext) -> Fitted:
    """Features, split (``config.protocol``), training of every member with best-validation
    restore, the evaluated parts and the baselines scored on the same split, artefacts and
    predictions, from the snapshot alone. The composition baselines' trees are checked first
    (``baseline_trees``), before any feature is computed."""
    from tcdb.ml.structural.baselines import baseline_predictions, baseline_trees
    from tcdb.ml.structural.cvcnn import predict
    from tcdb.ml.structural.ensemble import mean_and_spread, train_members
    from tcdb.ml.structure_features import feature_preset, structure_features

    trees = baseline_trees(context.models, config.baseline_trees, config.seed)
    frame = snapshot.require_kind("structures").structures
    preset = feature_preset(config.features)
    progress = context.progress
    features = structure_features(frame, preset, context.cache_dir, progress=progress)
    labels = frame["label_tc_K"].to_numpy(dtype=float)
    rows = np.flatnonzero(features.valid & np.isfinite(labels))
    if len(rows) < 10:
        raise TcdbError(f"Snapshot {snapshot.id} has only {len(rows)} usable structures.")
    fourier, numerical, y = features.fourier[rows], features.numerical[rows], labels[rows]
    usable = frame.iloc[rows]
    origins = usable["origin"].to_numpy(dtype=str)
    years = structure_years(snapshot, usable) if config.protocol == ByTimeSplit.name else None
    protocol, parts = split_structures(usable, config, years)
    mean = numerical[parts.train].mean(axis=0)
    std = numerical[parts.train].std(axis=0)
    with _beside_the_network(config) as pool:
        # The baselines need only the split and are fitted while the network trains: a
        # network of small batches leaves the cores idle between its steps. Neither reads
        # what the other computes.
        fitting = pool.submit(
            baseline_predictions, snapshot, usable, numerical, y, parts, config.seed, trees,
            protocol=protocol,
        )  # fmt: skip
        members = train_members(config, fourier, numerical, y, mean, std, progress,
                                split=(parts.train, parts.validation))  # fmt: skip
        baselines = fitting.result()
    log.info("baselines fitted and scored on %d %s rows", len(parts.rows(parts.scored)),
             parts.scored)  # fmt: skip
    # Only now, with every checkpoint fixed, are the evaluated parts (the test part too) read.
    per_member = {
        part: np.stack([predict(m.model, fourier[index], numerical[index], mean, std)
                        for m in members])
        for part, index in parts.evaluated().items()
    }  # fmt: skip
    predicted, spread = {}, {}
    for part, values in per_member.items():
        predicted[part], spread[part] = mean_and_spread(values)
    parity = _parity_tables(usable, y, parts, predicted, baselines)
    if config.members > 1:
        parity = {p: table.assign(predicted_std_K=spread[p]) for p, table in parity.items()}
    scaling = io.BytesIO()
    np.savez(scaling, mean=mean, std=std)
    artefacts = {
        **_member_artefacts(members),
        "scaling.npz": scaling.getvalue(),
        **{f"{part}_parity.parquet": table.to_parquet(index=False)
           for part, table in parity.items()},
    }  # fmt: skip
    first = members[0].history
    metrics = {
        **_part_metrics(protocol, parts, y, predicted, baselines, origins),
        "paper_validation_r2": PAPER_R2,
        "paper_validation_r2_note": PAPER_R2_NOTE,
        "best_epoch": first["best_epoch"],
        "epochs_run": first["epochs_run"],
        "training_seconds": sum(m.history["seconds"] for m in members),
        "n_train": len(parts.train),
    }
    if years is not None:
        metrics["n_without_year"] = int(np.isnan(years).sum())
        metrics["by_time_families"] = by_time_families(
            usable,
            parts,
            y,
            {"cvcnn": predicted["test"], **{n: b.predicted for n, b in baselines.items()}},
        )
    if config.members > 1:
        metrics.update(_ensemble_metrics(protocol, parts, y, per_member, spread, members))
    notes = {
        "structures_left_out": len(frame) - len(rows),
        "left_out_examples": [features.errors[i] for i in sorted(features.errors)[:10]],
        "feature_cache_hit": features.cache_hit,
    }
    return Fitted(artefacts, metrics, notes, _prediction_rows(parity))


def _beside_the_network(config) -> Executor:
    """Where the baselines are fitted while the network trains: a spawned process for a run
    of ``BASELINES_IN_A_PROCESS_FROM_EPOCHS`` epochs or more, else a thread."""
    if config.epochs >= BASELINES_IN_A_PROCESS_FROM_EPOCHS:
        return ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="baselines")


def _member_artefacts(members: list) -> dict[str, bytes]:
    """Each member's network and history: ``model.keras`` and ``history.json`` for member 0
    (the names of a one-member run), ``model-1.keras`` and ``history-1.json`` … after it."""
    from tcdb.ml.structural.cvcnn import save_model
    from tcdb.ml.structural.ensemble import member_file

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
    protocol, parts: Parts, y: np.ndarray, per_member: dict, spread: dict, members: list
) -> dict:
    """Each member's own score on every evaluated part beside the mean's, and the mean spread
    (K) per part."""
    scored: dict = {
        "members": len(members),
        "member_best_epochs": [m.history["best_epoch"] for m in members],
    }
    for part, values in per_member.items():
        scored[f"member_{part}"] = [score_part(protocol, parts, part, y, v) for v in values]
        scored[f"{part}_spread_mean_K"] = float(np.mean(spread[part]))
    return scored


def _parity_tables(
    structures: pd.DataFrame, y: np.ndarray, parts: Parts, predicted: dict, baselines: dict
) -> dict[str, pd.DataFrame]:
    """Per evaluated part: structure, label and prediction; the scored part also holds each
    baseline's prediction of the same rows (``<name>_tc_K``)."""
    tables = {
        part: structures.iloc[index][["structure_id", "reduced_formula", "origin"]].assign(
            label_tc_K=y[index], predicted_tc_K=predicted[part]
        )
        for part, index in parts.evaluated().items()
    }
    tables[parts.scored] = tables[parts.scored].assign(
        **{f"{name}_tc_K": result.predicted for name, result in baselines.items()}
    )
    return tables


def _part_metrics(
    protocol, parts: Parts, y: np.ndarray, predicted: dict, baselines: dict, origins: np.ndarray
) -> dict:
    """The model's scores per evaluated part and every baseline's on the scored part, each
    with the protocol's description and split by the labels' origin (``by_origin``: SuperCon
    compositions and literature hydrides are different questions, and a few high-T_c hydrides
    can dominate a part's RMSE and r²)."""

    def scored_part(part: str, values: np.ndarray) -> dict:
        rows = parts.rows(part)
        by_origin = {
            origin: regression(y[rows][mask], values[mask], unit="_K")
            for origin in sorted(set(origins[rows]))
            if (mask := origins[rows] == origin).any()
        }
        return score_part(protocol, parts, part, y, values) | {"by_origin": by_origin}

    scored = {part: scored_part(part, p) for part, p in predicted.items()}
    scored["baselines"] = {
        name: scored_part(parts.scored, result.predicted)
        | {"fitted_on": result.fitted_on, "n_fit": result.n_fit}
        for name, result in baselines.items()
    }
    return scored


def _prediction_rows(parity: dict[str, pd.DataFrame]) -> list[dict]:
    """One prediction row per evaluated structure, its part named (validation, test)."""
    rows = []
    for part, table in parity.items():
        for r in table.itertuples(index=False):
            rows.append(
                {
                    "subject_kind": "structure",
                    "subject_id": f"{r.structure_id}:{len(rows)}",
                    "structure_id": r.structure_id,
                    "formula": r.reduced_formula,
                    "tc_K": float(r.predicted_tc_K),
                    "tc_std_K": _finite(getattr(r, "predicted_std_K", None)),
                    "extra_json": json.dumps({"kind": part, "label_tc_K": r.label_tc_K}),
                }
            )
    return rows


def _finite(value) -> float | None:
    """A spread as stored: a number, or None where there is none (one member)."""
    return None if value is None or not np.isfinite(value) else float(value)


def _scores(scored: dict) -> str:
    by_origin = "; ".join(
        f"{origin} r² {s['r2']:.4f}, RMSE {s['rmse_K']:.2f} K (n {s['n']})"
        for origin, s in (scored.get("by_origin") or {}).items()
    )
    return (f"r² {scored['r2']:.4f}, RMSE {scored['rmse_K']:.2f} K, MAE {scored['mae_K']:.2f} K "
            f"(n {scored['n']})" + (f" [{by_origin}]" if by_origin else ""))  # fmt: skip


def winner(metrics: dict) -> tuple[str, float, str, float]:
    """(the better of the model and its best baseline on the scored part, its r², the other,
    its r²): what ``tcdb train`` and the report say plainly."""
    part = next(iter(metrics["baselines"].values()))["part"]
    model_r2 = metrics[part]["r2"]
    name, best = max(((n, b["r2"]) for n, b in metrics["baselines"].items()),
                     key=lambda item: -np.inf if np.isnan(item[1]) else item[1])  # fmt: skip
    if np.isnan(best) or model_r2 >= best:
        return "cvcnn", model_r2, name, best
    return name, best, "cvcnn", model_r2


def summary_lines(metrics: dict) -> list[str]:
    """The protocol, the model on each part, every baseline on the scored part, which wins,
    and the paper's figure with what it means."""
    first = metrics["validation"]
    sizes = ", ".join(f"{k[2:]} {v}" for k, v in first.items() if k.startswith("n_"))
    lines = [f"protocol {first['protocol']} ({sizes} structures): {first['description']}"]
    model = "cvcnn"
    if metrics.get("members", 1) > 1:
        model = f"cvcnn (ensemble mean of {metrics['members']} networks)"
    for part in ("validation", "test"):
        if part in metrics:
            lines.append(f"{model} on {part}: {_scores(metrics[part])}")
    baselines = metrics.get("baselines") or {}
    for name, scored in baselines.items():
        lines.append(f"baseline {name} on {scored['part']} (protocol {scored['protocol']}): "
                     f"{_scores(scored)}")  # fmt: skip
    if baselines:
        best, best_r2, other, other_r2 = winner(metrics)
        part = next(iter(baselines.values()))["part"]
        lines.append(f"on the {part} part {best} wins: r² {best_r2:.4f} against {other_r2:.4f} "
                     f"for {other}")  # fmt: skip
    if "member_validation" in metrics:
        for part in ("validation", "test"):
            if f"member_{part}" in metrics:
                r2 = ", ".join(f"{s['r2']:.4f}" for s in metrics[f"member_{part}"])
                mean_spread = metrics[f"{part}_spread_mean_K"]
                lines.append(f"ensemble of {metrics['members']} networks: members' own {part} "
                             f"r² {r2}; mean spread {mean_spread:.2f} K")  # fmt: skip
    lines.append(f"paper: r² {PAPER_R2} ({PAPER_R2_NOTE})")
    return lines
