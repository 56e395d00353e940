"""T_c of structures a user gives (``tcdb predict``), with the composition baseline beside it.

Each readable structure is predicted by a ``cvcnn`` run; its prediction is stored with subject
kind ``input_structure`` and subject id the content hash of the structure and its space group,
so predicting the same structure again (under any file name) updates the same subject and the
view ``structure_prediction`` shows the latest. The composition baseline predicts the reduced
formula (subject kind ``composition``), with its spread in ``composition_tc_std_K`` (empty for
a one-model composition run). An ensemble run's spread over its members is ``tc_std_K``
(empty for a one-member run). Inputs that cannot be read or featurised are returned
with the reason, and the rest are still predicted.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from core.structure_files import InputFailure, InputStructure
from ml.composition_model import composition_prediction_rows
from ml.structural_model import DEFAULT_BATCH, StructuralModel, finite_or_none
from ml.structure_features import content_hash
from schema.database import Target, storing
from store.model_runs import VerifiedRun, write_predictions

log = logging.getLogger(__name__)

COLUMNS = [
    "name", "formula", "spacegroup_number", "tc_K", "tc_std_K", "composition_tc_K",
    "composition_tc_std_K", "status", "reason",
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
    composition_run: VerifiedRun | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> pd.DataFrame:
    """One row per input (predicted or failed); with ``db`` the predictions are stored (it is
    opened for writing only once they are computed)."""
    from pymatgen.core import Structure

    records = [item.record for item in inputs]
    missing_group = [i for i, r in enumerate(records) if r.spacegroup_number is None]
    usable = [i for i in range(len(records)) if i not in missing_group]
    structures = [Structure.from_dict(json.loads(records[i].structure_json)) for i in usable]
    tc, spread, errors = (
        model.predict(structures, [records[i].spacegroup_number for i in usable], batch_size)
        if structures
        else (np.array([]), np.array([]), {})  # nothing readable: no model call on an empty batch
    )
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
    for i in missing_group:
        frame.loc[i, ["status", "reason"]] = ["failed", f"{inputs[i].path}: no space group found"]
    for position, reason in errors.items():
        row = usable[position]
        frame.loc[row, ["status", "reason"]] = ["failed", f"{inputs[row].path}: {reason}"]
    predicted = frame[frame.status == "predicted"]
    formulas = predicted.formula.tolist()
    composition = (
        composition_prediction_rows(composition_run, formulas)
        if composition_run and formulas
        else []
    )
    by_formula = {row["subject_id"]: row["tc_K"] for row in composition}
    frame["composition_tc_K"] = frame.formula.map(by_formula)
    spread = {row["subject_id"]: row["tc_std_K"] for row in composition}
    frame["composition_tc_std_K"] = frame.formula.map(spread).astype(float)
    if db is not None:
        with storing(db, f"the predictions of run {model.run_id}") as conn:
            write_predictions(conn, _prediction_rows(model.run_id, predicted))
            write_predictions(conn, composition)
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
        for r in predicted.itertuples(index=False)
    ]
