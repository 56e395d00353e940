"""Training any registered model on a frozen snapshot into a recorded run.

Why one trainer: every model's run is made the same way, so the order that keeps the
database usable while a model fits and the checks that make a run loadable live once. The
snapshot's kind is checked before anything is written; the run folder is made before the fit
starts (its configuration is known then) and removed if the fit fails; the database is opened
for writing only at the end, to record the manifest, the ``model_run`` row and the
predictions in one transaction.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from tcdb.core.timestamps import utcnow
from tcdb.ml import registry
from tcdb.ml.contract import FitContext, Model
from tcdb.schema.database import Target, storing
from tcdb.store.model_runs import Run, finish_run, start_run, write_predictions
from tcdb.store.snapshots import Snapshot

log = logging.getLogger(__name__)


def train(
    model: Model,
    db: Target,
    snapshot: Snapshot,
    runs_root: Path,
    config: Any = None,
    profile: str | None = None,
    context: FitContext | None = None,
) -> Run:
    """Fit ``model`` on ``snapshot`` with ``config`` (default: the class's defaults), save its
    artefacts under ``runs_root/<run id>/`` and record the run and its predictions. The fit
    finds the registered models in ``context.models`` unless the context names others."""
    snapshot.require_kind(model.kind)
    context = context or FitContext()
    if context.models is None:
        context = replace(context, models=registry.get)
    config = config if config is not None else model.config_class()
    run = start_run(model.name, snapshot.id, model.record(config), config.seed, runs_root, profile)
    try:
        started = utcnow()
        fitted = model.fit(snapshot, config, context)
        for name, data in fitted.artefacts.items():
            path = run.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except BaseException:
        shutil.rmtree(run.path, ignore_errors=True)  # never registered: nothing points at it
        raise
    log.info("%s fitted in %.0f s", model.name, (utcnow() - started).total_seconds())
    run.metrics, run.notes = fitted.metrics, fitted.notes
    rows = [{"model_run_id": run.id, **row} for row in fitted.predictions]
    with storing(db, f"run {run.id} (its folder {run.path} is not registered)") as conn:
        finish_run(conn, run)
        write_predictions(conn, rows)
    return run
