"""A structural run scored on a labelled set it was not trained on: the ``external`` protocol.

Why: a validation split drawn from the training snapshot shares compositions (polymorphs) and
sources with the training part, so its r² is optimistic. ``tcdb evaluate`` scores a run on
structures a user brings, labelled by a CSV or in JSON items (``ml.labelled_structures``), and
stores the result so it can be cited: r², RMSE and MAE over all items and per T_c band
(``ml.structural.parameters.EVALUATION_BAND_EDGES_K``), with n everywhere, a parity plot,
and every prediction as a ``prediction`` row (subject kind ``evaluation_item``, the label in
``extra_json``). The result is one ``evaluation`` row whose id is a hash of the run and the
inputs' content hash, so scoring the same run on the same set again adds nothing.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from tcdb.core.errors import TcdbError
from tcdb.core.hashing import json_sha256, record_id
from tcdb.core.structure_files import InputFailure
from tcdb.core.timestamps import utcnow
from tcdb.ml.labelled_structures import LabelledStructure
from tcdb.ml.metrics import regression
from tcdb.ml.structural.parameters import EVALUATION_BAND_EDGES_K
from tcdb.ml.structural.predictor import DEFAULT_BATCH, StructuralModel, finite_or_none
from tcdb.ml.structure_features import content_hash
from tcdb.schema.database import Target, insert_new_rows, storing
from tcdb.store.model_runs import write_predictions

log = logging.getLogger(__name__)

PROTOCOL = "external"
PLOT_NAME = "parity.png"


class EvaluationInputError(TcdbError):
    """Nothing in the inputs could be scored."""


@dataclass
class EvaluationResult:
    """What scoring one run on one labelled set gave."""

    id: str
    run_id: str
    inputs_sha256: str
    metrics: dict
    items: list[dict]  # name, input_path, formula, label_tc_K, tc_K, tc_std_K, band
    rejected: list[InputFailure] = field(default_factory=list)
    plot_path: Path | None = None


def band_name(lower: float, upper: float) -> str:
    """'< 10 K', '10–30 K', '≥ 77 K'."""
    if lower == -math.inf:
        return f"< {upper:g} K"
    if upper == math.inf:
        return f"≥ {lower:g} K"
    return f"{lower:g}–{upper:g} K"


def bands(edges: tuple[float, ...] = EVALUATION_BAND_EDGES_K) -> list[tuple[float, float]]:
    """The T_c bands as (lower, upper): each edge closes one band and opens the next."""
    bounds = (-math.inf, *edges, math.inf)
    return list(itertools.pairwise(bounds))


def band_of(label: float, edges: tuple[float, ...] = EVALUATION_BAND_EDGES_K) -> str:
    for lower, upper in bands(edges):
        if lower <= label < upper:
            return band_name(lower, upper)
    raise ValueError(f"T_c {label!r} falls in no band")


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def score_external(
    labels: np.ndarray,
    predicted: np.ndarray,
    spread: np.ndarray,
    edges: tuple[float, ...] = EVALUATION_BAND_EDGES_K,
) -> dict:
    """Overall and per-band r², RMSE, MAE and n (NaN r² — fewer than two distinct labels —
    is stored as null), and the mean spread of an ensemble run (null for one network)."""
    labels, predicted = np.asarray(labels, float), np.asarray(predicted, float)

    def scored(mask: np.ndarray) -> dict:
        values = regression(labels[mask], predicted[mask])
        return {k: _json_number(v) if isinstance(v, float) else v for k, v in values.items()}

    per_band = []
    for lower, upper in bands(edges):
        mask = (labels >= lower) & (labels < upper)
        per_band.append({"band": band_name(lower, upper), "lower_K": _json_number(lower),
                         "upper_K": _json_number(upper), **scored(mask)})  # fmt: skip
    spread = np.asarray(spread, float)
    mean_spread = float(np.nanmean(spread)) if np.isfinite(spread).any() else None
    return {
        "overall": {"protocol": PROTOCOL, **scored(np.ones(len(labels), bool))},
        "bands": per_band,
        "band_edges_K": list(edges),
        "spread_mean_K": mean_spread,
    }


def parity_plot(labels, predicted, spread, path: Path, title: str) -> Path:
    """Predicted against measured T_c with the y = x line (error bars: the ensemble spread)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, predicted, spread = (np.asarray(a, float) for a in (labels, predicted, spread))
    figure, axes = plt.subplots(figsize=(5, 5), dpi=120)
    try:
        errors = np.where(np.isfinite(spread), spread, 0.0) if np.isfinite(spread).any() else None
        axes.errorbar(labels, predicted, yerr=errors, fmt="o", markersize=3, alpha=0.7,
                      elinewidth=0.8, label=f"n = {len(labels)}")  # fmt: skip
        both = np.concatenate([labels, predicted])
        low = min(0.0, float(np.nanmin(both)) * 1.05)  # an unbounded output may go below 0
        top = max(1.0, float(np.nanmax(both)) * 1.05)
        axes.plot([low, top], [low, top], color="grey", linewidth=1, label="y = x")
        axes.set(xlim=(low, top), ylim=(low, top), xlabel="measured T_c (K)",
                 ylabel="predicted T_c (K)", title=title)  # fmt: skip
        axes.legend(loc="upper left")
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path


def _shown_path(path: str | Path, base: Path) -> str:
    """A path relative to ``base`` when it lies under it, else absolute."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(base.resolve()))
    except ValueError:
        return str(resolved)


def _shown_input(path: str, base: Path) -> str:
    """An input's path as ``_shown_path`` gives it, keeping a JSON item's ``#index``."""
    file, mark, index = path.rpartition("#")
    if mark and Path(file).suffix.lower() == ".json":
        return f"{_shown_path(file, base)}#{index}"
    return _shown_path(path, base)


def evaluate_run(
    db: Target,
    model: StructuralModel,
    labelled: list[LabelledStructure],
    rejected: list[InputFailure],
    given: list[Path],
    plots_root: Path,
    base: Path,
    batch_size: int = DEFAULT_BATCH,
) -> EvaluationResult:
    """Predict every labelled structure, score what was predicted, draw the parity plot into
    ``plots_root/<evaluation id>/`` and store the evaluation with its predictions; ``db`` is
    opened only once all of it is computed."""
    from pymatgen.core import Structure

    rejected = list(rejected)
    records = [entry.item.record for entry in labelled]
    structures = [Structure.from_dict(json.loads(r.structure_json)) for r in records]
    groups = [r.spacegroup_number for r in records]
    tc, spread, errors = (
        model.predict(structures, groups, batch_size)
        if structures
        else (np.array([]), np.array([]), {})
    )
    items = []
    for i, entry in enumerate(labelled):
        if i in errors:
            rejected.append(InputFailure(entry.item.path, f"{entry.item.path}: {errors[i]}"))
            continue
        record = entry.item.record
        items.append({
            "name": entry.item.name,
            "input_path": _shown_input(entry.item.path, base),
            "formula": record.reduced_formula,
            "structure_hash": content_hash(record.structure_json, record.spacegroup_number)[:16],
            "label_tc_K": entry.label_tc_K,
            "label_from": entry.label_from,
            "tc_K": float(tc[i]),
            "tc_std_K": finite_or_none(spread[i]),
            "band": band_of(entry.label_tc_K),
        })  # fmt: skip
    if not items:
        raise EvaluationInputError(
            f"None of the {len(labelled) + len(rejected)} input(s) could be scored; "
            "the reasons are listed above."
        )
    labels = np.array([it["label_tc_K"] for it in items])
    predicted = np.array([it["tc_K"] for it in items])
    spreads = np.array([np.nan if it["tc_std_K"] is None else it["tc_std_K"] for it in items])
    metrics = score_external(labels, predicted, spreads)
    metrics.update(members=model.members, rejected=len(rejected),
                   rejections=[f.reason for f in rejected[:50]])  # fmt: skip
    digest = json_sha256([[it["structure_hash"], it["label_tc_K"]] for it in items])
    evaluation_id = record_id("eval", model.run_id, digest)
    overall = metrics["overall"]
    title = f"{model.run_id}\nexternal: n {overall['n']}, r² " + (
        f"{overall['r2']:.3f}" if overall["r2"] is not None else "n/a"
    )
    plot = parity_plot(labels, predicted, spreads, plots_root / evaluation_id / PLOT_NAME, title)
    result = EvaluationResult(evaluation_id, model.run_id, digest, metrics, items, rejected, plot)
    with storing(db, f"the evaluation of run {model.run_id}") as conn:
        insert_new_rows(conn, "evaluation", _evaluation_table(result, given, base))
        write_predictions(conn, _prediction_rows(result))
    log.info("evaluated %s on %d structures (%d rejected)", model.run_id, len(items), len(rejected))
    return result


def _evaluation_table(result: EvaluationResult, given: list[Path], base: Path) -> pa.Table:
    row = {
        "id": result.id,
        "model_run_id": result.run_id,
        "protocol": PROTOCOL,
        "inputs_sha256": result.inputs_sha256,
        "inputs_json": json.dumps([_shown_path(p, base) for p in given]),
        "n": len(result.items),
        "metrics_json": json.dumps(result.metrics, sort_keys=True),
        "plot_path": str(result.plot_path) if result.plot_path else None,
        "created_at": utcnow(),
    }
    return pa.Table.from_pylist([row])


def _prediction_rows(result: EvaluationResult) -> list[dict]:
    return [
        {
            "model_run_id": result.run_id,
            "subject_kind": "evaluation_item",
            "subject_id": f"{result.id}:{i}",
            "formula": item["formula"],
            "tc_K": item["tc_K"],
            "tc_std_K": item["tc_std_K"],
            "input_path": item["input_path"],
            "extra_json": json.dumps(
                {
                    "evaluation_id": result.id,
                    "name": item["name"],
                    "label_tc_K": item["label_tc_K"],
                    "label_from": item["label_from"],
                    "band": item["band"],
                    "structure_hash": item["structure_hash"],
                }
            ),
        }
        for i, item in enumerate(result.items)
    ]
