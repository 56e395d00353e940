"""Model runs: a folder of artefacts with its manifest, a ``model_run`` row, and predictions.

A run reads one frozen snapshot (never the live database) and records everything needed to
rebuild it: the snapshot id, the configuration, the seed, the metrics, the library versions
and the code revision. Its folder is ``<db folder>/runs/<run id>/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from schema.database import insert_new_rows
from schema.timestamps import utcnow
from tcdb import __version__
from tcdb.errors import TcdbError
from tcdb.provenance import code_revision, library_versions

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class RunError(TcdbError):
    """A model run is missing or cannot be used."""


@dataclass
class Run:
    """A run being made: its id, folder and what the manifest will say."""

    id: str
    model: str
    snapshot_id: str
    path: Path
    config: dict
    seed: int
    profile: str | None
    started_at: datetime
    metrics: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def manifest(self, finished_at: datetime) -> dict:
        return {
            "id": self.id,
            "model": self.model,
            "snapshot_id": self.snapshot_id,
            "profile": self.profile,
            "seed": self.seed,
            "config": self.config,
            "metrics": self.metrics,
            "notes": self.notes,
            "library_versions": library_versions(),
            "code_revision": code_revision(),
            "tcdb_version": __version__,
            "started_at": self.started_at.isoformat(timespec="seconds") + "Z",
            "finished_at": finished_at.isoformat(timespec="seconds") + "Z",
        }


def start_run(
    model: str, snapshot_id: str, config: dict, seed: int, root: Path, profile: str | None = None
) -> Run:
    started = utcnow()
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
    run_id = f"{model}-{started:%Y%m%dT%H%M%S%f}-{digest}"
    path = Path(root) / run_id
    path.mkdir(parents=True, exist_ok=False)
    return Run(run_id, model, snapshot_id, path, config, seed, profile, started)


def finish_run(conn: duckdb.DuckDBPyConnection, run: Run) -> dict:
    """Write the manifest and the ``model_run`` row."""
    finished = utcnow()
    manifest = run.manifest(finished)
    (run.path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    conn.execute(
        "INSERT INTO model_run (id, model, snapshot_id, profile, seed, config_json, metrics_json, "
        "manifest_json, artefact_path, library_versions_json, status, tcdb_version, "
        "code_revision, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'succeeded', ?, ?, ?, ?)",
        [
            run.id, run.model, run.snapshot_id, run.profile, run.seed,
            json.dumps(run.config, sort_keys=True), json.dumps(run.metrics, sort_keys=True),
            json.dumps(manifest, sort_keys=True), str(run.path),
            json.dumps(manifest["library_versions"], sort_keys=True), __version__,
            manifest["code_revision"], run.started_at, finished,
        ],
    )  # fmt: skip
    return manifest


def write_predictions(conn: duckdb.DuckDBPyConnection, rows: list[dict]) -> int:
    """Insert prediction rows in bulk (ids are hashes of run and subject, so a rerun of the
    same run replaces nothing and adds nothing)."""
    if not rows:
        return 0
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault(
            "id",
            "pred-"
            + hashlib.sha256(
                f"{row['model_run_id']}\x1f{row['subject_kind']}\x1f{row['subject_id']}".encode()
            ).hexdigest()[:24],
        )
    return insert_new_rows(conn, "prediction", pa.Table.from_pylist(rows))


def resolve_run(root: Path, conn: duckdb.DuckDBPyConnection | None, ref: str, model: str) -> Path:
    """A run folder from its id, or ``latest`` (the newest succeeded run of the model)."""
    if ref == "latest":
        if conn is None:
            raise RunError("'latest' needs the database")
        row = conn.execute(
            "SELECT artefact_path FROM model_run WHERE model = ? AND status = 'succeeded' "
            "ORDER BY finished_at DESC LIMIT 1",
            [model],
        ).fetchone()
        if row is None:
            raise RunError(f"No {model} run yet; train one with 'tcdb train {model}'.")
        return Path(row[0])
    path = Path(root) / ref
    if not (path / MANIFEST).is_file():
        raise RunError(f"No model run {ref!r} in {root}.")
    return path


def load_manifest(path: Path) -> dict:
    return json.loads((Path(path) / MANIFEST).read_text())
