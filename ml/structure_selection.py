"""Which structure model ranks structures and morphs: one stated rule over validation scores.

Why: the platform trains the paper's network and simpler models on the same split, and the
simpler ones win; a screening that still ranked with the network would rank with the model
that loses. The rule reads only what a run stores about its validation part (the part that
picks checkpoints and calibrates spreads), never a test part:

    Among the structure models, the one whose latest run under the grouped protocol on the
    snapshot scores the highest r² on its validation part ranks; a tie goes to the network.
    It ranks with its latest run on that snapshot.

The snapshot is the one the newest structure-model run was trained on. Every other run keeps
its rows (the network's are the papers' reproduction) and any run can still be named
(``--run``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from tcdb.core.errors import TcdbError
from tcdb.ml.model_names import CVCNN, STRUCTURE_EXPERTS

STRUCTURE_MODELS = (CVCNN, STRUCTURE_EXPERTS)  # in the order ties are broken
RULE = (
    "the structure model whose latest grouped run on the snapshot has the highest validation "
    "r² ranks (a tie goes to the network), with its latest run on that snapshot"
)
GROUPED = "grouped"


@dataclass(frozen=True)
class RunRecord:
    """What the rule reads of one succeeded run, newest last when given in time order."""

    id: str
    model: str
    snapshot_id: str
    metrics: dict


@dataclass(frozen=True)
class Choice:
    """The run that ranks, its model, the snapshot and the scores it was chosen from."""

    run_id: str
    model: str
    snapshot_id: str
    scores: dict[str, dict] = field(default_factory=dict)  # model -> {run_id, validation_r2}
    rule: str = RULE

    def describe(self) -> str:
        compared = ", ".join(
            f"{model} {s['validation_r2']:.4f} ({s['run_id']})" for model, s in self.scores.items()
        )
        return (
            f"{self.model} ranks ({self.run_id}): {self.rule}; validation r² "
            f"{compared or 'none: no grouped run'}"
        )

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "model": self.model, "snapshot_id": self.snapshot_id,
                "scores": self.scores, "rule": self.rule}  # fmt: skip


def validation_r2(metrics: dict) -> float | None:
    """A run's validation r² if it was trained under the grouped protocol, else None."""
    validation = metrics.get("validation") or {}
    if validation.get("protocol") != GROUPED:
        return None
    r2 = validation.get("r2")
    return float(r2) if isinstance(r2, int | float) and math.isfinite(r2) else None


def choose(runs: Iterable[RunRecord]) -> Choice:
    """The rule (module docstring) over succeeded runs given oldest first."""
    runs = [r for r in runs if r.model in STRUCTURE_MODELS]
    if not runs:
        raise TcdbError(
            "No structure model has been trained yet; train one with 'tcdb train cvcnn' or "
            "'tcdb train structure-experts'."
        )
    snapshot = runs[-1].snapshot_id
    on_snapshot = [r for r in runs if r.snapshot_id == snapshot]
    scores: dict[str, dict] = {}
    for run in on_snapshot:  # oldest first: the latest grouped run of each model stays
        r2 = validation_r2(run.metrics)
        if r2 is not None:
            scores[run.model] = {"run_id": run.id, "validation_r2": r2}
    if scores:
        model = max(STRUCTURE_MODELS, key=lambda m: _score(scores, m))
    else:
        model = on_snapshot[-1].model  # no grouped run: the latest run, as before
    latest = [r for r in on_snapshot if r.model == model][-1]
    ordered = {m: scores[m] for m in STRUCTURE_MODELS if m in scores}
    return Choice(latest.id, model, snapshot, ordered)


def _score(scores: dict[str, dict], model: str) -> float:
    return scores.get(model, {}).get("validation_r2", -math.inf)


def records(rows: Iterable[tuple]) -> list[RunRecord]:
    """``RunRecord``s from (id, model, snapshot_id, metrics_json) rows."""
    return [RunRecord(i, m, s, json.loads(j or "{}")) for i, m, s, j in rows]
