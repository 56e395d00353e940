"""T_c of structures a user gives (``tcdb predict``), with the composition baseline beside it.

Each readable structure is predicted by a ``cvcnn`` run; its prediction is stored with subject
kind ``input_structure`` and subject id the content hash of the structure and its space group,
so predicting the same structure again (under any file name) updates the same subject and the
view ``structure_prediction`` shows the latest. The composition baseline, a loaded run the
command hands in (``ml.contract.FormulaPredictor``), predicts the reduced formula (subject kind
``composition``), with its spread in ``composition_tc_std_K`` (empty for a one-model
composition run). An ensemble run's spread over its members is ``tc_std_K``
(empty for a one-member run). Inputs that cannot be read or featurised are returned
with the reason, and the rest are still predicted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.structure_files import (
    InputFailure,
    InputStructure,
    input_files,
    read_structure_inputs,
)
from tcdb.core.structure_tables import TableSlice, read_slice, slices
from tcdb.ml.contract import FormulaPredictor
from tcdb.ml.screening_engine import JobOutcome, Screening
from tcdb.ml.structural.predictor import (
    DEFAULT_BATCH,
    ModelPackage,
    StructuralModel,
    featurise,
    finite_or_none,
)
from tcdb.ml.structure_features import FeatureConfig, content_hash
from tcdb.schema.database import Target, storing
from tcdb.store.model_runs import prediction_table, write_predictions
from tcdb.store.screening_jobs import REJECTIONS, prediction_schema, shard_tables

log = logging.getLogger(__name__)

COLUMNS = [
    "name", "formula", "spacegroup_number", "tc_K", "tc_std_K", "composition_tc_K",
    "composition_tc_std_K", "in_domain", "domain_reason", "status", "reason",
    "input_path", "structure_hash",
]  # fmt: skip


def _failure_frame(failures: list[InputFailure]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [Path(f.path.split("#")[0]).name for f in failures],
            "status": "failed",
            "reason": [f.reason for f in failures],
            "input_path": [f.path for f in failures],
        }
    )


def predict_inputs(
    db: Target | None,
    model: StructuralModel,
    inputs: list[InputStructure],
    failures: list[InputFailure],
    composition: FormulaPredictor | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> pd.DataFrame:
    """One row per input (predicted or failed); with ``db`` the predictions are stored (it is
    opened for writing only once they are computed)."""
    from pymatgen.core import Structure

    records = [item.record for item in inputs]
    missing_group = [i for i, r in enumerate(records) if r.spacegroup_number is None]
    usable = [i for i in range(len(records)) if i not in missing_group]
    structures = [Structure.from_dict(json.loads(records[i].structure_json)) for i in usable]
    groups = [records[i].spacegroup_number for i in usable]
    judged = callable(getattr(model, "predict_judged", None))
    inside, why = np.zeros(len(structures), dtype=bool), [None] * len(structures)
    if not structures:  # nothing readable: no model call on an empty batch
        tc, spread, errors = np.array([]), np.array([]), {}
    elif judged:  # a model with an applicability domain says where each input lies
        tc, spread, errors, inside, why = model.predict_judged(structures, groups, batch_size)
    else:
        tc, spread, errors = model.predict(structures, groups, batch_size)
    frame = pd.DataFrame(
        {
            "name": [item.name for item in inputs],
            "formula": [r.reduced_formula for r in records],
            "spacegroup_number": pd.array([r.spacegroup_number for r in records], "Int64"),
            "tc_K": np.nan,
            "tc_std_K": np.nan,
            "composition_tc_K": np.nan,
            "status": "predicted",
            "reason": None,
            "input_path": [item.path for item in inputs],
            "structure_hash": [
                content_hash(r.structure_json, r.spacegroup_number)[:16] for r in records
            ],
        }
    )
    frame.loc[usable, "tc_K"] = tc
    frame.loc[usable, "tc_std_K"] = spread
    frame["in_domain"] = pd.array([None] * len(frame), "boolean")
    frame["domain_reason"] = None
    if judged and usable:
        frame.loc[usable, "in_domain"] = inside
        frame.loc[usable, "domain_reason"] = pd.Series(why, index=usable, dtype=object)
    for i in missing_group:
        frame.loc[i, ["status", "reason"]] = ["failed", f"{inputs[i].path}: no space group found"]
    for position, reason in errors.items():
        row = usable[position]
        frame.loc[row, ["status", "reason"]] = ["failed", f"{inputs[row].path}: {reason}"]
    predicted = frame[frame.status == "predicted"]
    formulas = predicted.formula.tolist()
    beside = composition.prediction_rows(formulas) if composition is not None and formulas else []
    by_formula = {row["subject_id"]: row["tc_K"] for row in beside}
    frame["composition_tc_K"] = frame.formula.map(by_formula)
    spread = {row["subject_id"]: row["tc_std_K"] for row in beside}
    frame["composition_tc_std_K"] = frame.formula.map(spread).astype(float)
    if db is not None:
        with storing(db, f"the predictions of run {model.run_id}") as conn:
            write_predictions(conn, _prediction_rows(model.run_id, predicted))
            write_predictions(conn, beside)
    failed = _failure_frame(failures)
    combined = pd.concat([frame, failed], ignore_index=True) if len(failed) else frame
    return combined.reindex(columns=COLUMNS)


def _prediction_rows(run_id: str, predicted: pd.DataFrame) -> list[dict]:
    return [
        {
            "model_run_id": run_id,
            "subject_kind": "input_structure",
            "subject_id": r.structure_hash,
            "formula": r.formula,
            "tc_K": float(r.tc_K),
            "tc_std_K": finite_or_none(r.tc_std_K),
            "input_path": r.input_path,
            "extra_json": json.dumps(
                {"name": r.name, "spacegroup_number": int(r.spacegroup_number)}
            ),
        }
        | (
            {"in_domain": bool(r.in_domain), "domain_reason": r.domain_reason}
            if not pd.isna(getattr(r, "in_domain", None))
            else {}
        )
        for r in predicted.itertuples(index=False)
    ]


# what each shard of a structure job holds, exactly (store.screening_jobs checks it on reading)
STRUCTURE_TABLES = {
    "prediction": prediction_schema("formula", "tc_K", "tc_std_K", "input_path", "extra_json"),
    REJECTIONS: pa.schema([("input_path", pa.string()), ("reason", pa.string())]),
}


@dataclass(frozen=True)
class StructureShards:
    """Structure files cut into shards for ``--engine ray``: a task reads a slice of a
    JSON-lines or Parquet file (or takes structures read here) and featurises it, an actor
    predicts it; inputs that cannot be used go to the shard's rejections with the reason."""

    features: FeatureConfig
    params: IngestParameters = INGEST

    def featurise(self, payload: TableSlice | list[InputStructure]) -> dict:
        from pymatgen.core import Structure

        if isinstance(payload, TableSlice):
            inputs, failures = read_slice(payload, self.params)
        else:
            inputs, failures = list(payload), []
        usable = [item for item in inputs if item.record.spacegroup_number is not None]
        failures += [
            InputFailure(item.path, f"{item.path}: no space group found")
            for item in inputs
            if item.record.spacegroup_number is None
        ]
        structures = [Structure.from_dict(json.loads(i.record.structure_json)) for i in usable]
        groups = [i.record.spacegroup_number for i in usable]
        fourier, numerical, failed = (
            featurise(self.features, structures, groups) if usable else (None, None, {})
        )
        return {"inputs": usable, "failures": failures, "fourier": fourier,
                "numerical": numerical, "failed": failed}  # fmt: skip

    def predict(self, model: StructuralModel, featurised: dict) -> dict[str, pa.Table]:
        inputs, failed = featurised["inputs"], featurised["failed"]
        failures = list(featurised["failures"])
        failures += [InputFailure(inputs[i].path, f"{inputs[i].path}: {why}")
                     for i, why in failed.items()]  # fmt: skip
        ok = [i for i in range(len(inputs)) if i not in failed]
        tc, spread = (
            model.predict_features(featurised["fourier"][ok], featurised["numerical"][ok])
            if ok
            else (np.array([]), np.array([]))
        )
        records = [inputs[i].record for i in ok]
        predicted = pd.DataFrame(
            {
                "name": [inputs[i].name for i in ok],
                "formula": [r.reduced_formula for r in records],
                "spacegroup_number": [r.spacegroup_number for r in records],
                "tc_K": tc,
                "tc_std_K": spread,
                "input_path": [inputs[i].path for i in ok],
                "structure_hash": [
                    content_hash(r.structure_json, r.spacegroup_number)[:16] for r in records
                ],
            }
        )
        rows = _prediction_rows(model.run_id, predicted)
        return {
            "prediction": prediction_table(rows) if rows else _EMPTY_PREDICTIONS,
            REJECTIONS: pa.table(
                {"input_path": [f.path for f in failures], "reason": [f.reason for f in failures]},
                schema=STRUCTURE_TABLES[REJECTIONS],
            ),
        }


_EMPTY_PREDICTIONS = STRUCTURE_TABLES["prediction"].empty_table()


@dataclass
class ShardedPredictions:
    """What ``tcdb predict --engine ray`` did: counts, every refusal, the job and its
    predictions (read back from its verified shards)."""

    run_id: str
    predicted: int
    failures: list[InputFailure]
    job: JobOutcome
    composition_predictions: int = 0
    predictions: pa.Table | None = None

    def table(self, name: str) -> pa.Table | None:
        return self.predictions if name == "prediction" else None


def _fingerprint(path: Path) -> list:
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


def predict_paths_sharded(
    db: Target,
    screening: Screening,
    package: ModelPackage,
    paths: list[Path],
    composition: FormulaPredictor | None = None,
    params: IngestParameters = INGEST,
    on_loaded: Callable[[int], None] | None = None,
) -> ShardedPredictions:
    """Every structure in ``paths`` predicted on Ray in one resumable job: JSON-lines and
    Parquet files are sliced and read by the tasks; other files are read here and sent in
    shards. The composition baseline predicts each distinct formula once at the end."""
    size = screening.size
    failures: list[InputFailure] = []
    payloads: list[TableSlice | list[InputStructure]] = []
    others: list[Path] = []
    seen: list[list] = []
    for path, kind in input_files(paths, failures):
        seen.append(_fingerprint(path))
        if kind == "table":
            payloads.extend(slices(path, size))
        else:
            others.append(path)
    if others:
        items, refused = read_structure_inputs(others, params)
        failures += refused
        payloads.extend(items[k : k + size] for k in range(0, len(items), size))
    inputs = {"files": seen, "shard_size": size}
    job = screening.job("predict", package.run_id, inputs, max(1, len(payloads)),
                        tables=STRUCTURE_TABLES)  # fmt: skip
    work = StructureShards(package.features, params)
    ran = screening.run(db, job, work, lambda s: payloads[s] if payloads else [], on_loaded)
    predictions = shard_tables(db, job, "prediction")
    rejections = shard_tables(db, job, REJECTIONS)
    if rejections is not None:
        paths = rejections.column("input_path").to_pylist()
        reasons = rejections.column("reason").to_pylist()
        failures += [InputFailure(p, r) for p, r in zip(paths, reasons, strict=True)]
    formulas = (
        sorted(set(predictions.column("formula").to_pylist())) if predictions.num_rows else []
    )
    beside = composition.prediction_rows(formulas) if composition is not None and formulas else []
    with storing(db, f"the composition predictions of job {job.id}") as conn:
        stored = write_predictions(conn, beside)
    count = predictions.num_rows
    return ShardedPredictions(package.run_id, count, failures, ran, stored, predictions)
