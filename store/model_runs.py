"""Model runs: one kind of artefact (``store.artifacts``), with a ``model_run`` row and
predictions.

A run reads one frozen snapshot (never the live database) and records everything needed to
rebuild it: the snapshot id, the configuration, the seed, the metrics, the library versions
and the code revision. Its folder is ``<db folder>/runs/<run id>/``; while it trains, the folder
holds ``.unfinished`` (the training's pid), removed before the manifest lists the files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tcdb.core.hashing import json_sha256, record_id
from tcdb.core.provenance import provenance_stamp
from tcdb.core.safe_reads import ArrayArchiveError, npz_arrays
from tcdb.core.timestamps import utcnow
from tcdb.schema.database import insert_new_rows
from tcdb.store.artifacts import (
    MANIFEST,
    ArtifactError,
    ArtifactIntegrityError,
    ArtifactNotFoundError,
    Entry,
    artefact_list,
    clear_unfinished,
    folder_files,
    mark_unfinished,
    read_checked,
    read_manifest_bytes,
    require_kind,
    resolve_reference,
    sha256_of,
    write_manifest,
)

log = logging.getLogger(__name__)

__all__ = [
    "MANIFEST",
    "RecordedRun",
    "Run",
    "RunError",
    "RunIntegrityError",
    "RunNotFoundError",
    "VerifiedRun",
    "artefact_list",
    "find_run",
    "finish_run",
    "locate_run",
    "recorded_run",
    "registered_runs",
    "resolve_run",
    "sha256_of",
    "start_run",
    "verify_run",
    "write_predictions",
]

# The model-run members of the artefact error family.
RunError = ArtifactError
RunIntegrityError = ArtifactIntegrityError
RunNotFoundError = ArtifactNotFoundError


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
        stamp = provenance_stamp(libraries=True)
        return {
            "id": self.id,
            "model": self.model,
            "snapshot_id": self.snapshot_id,
            "profile": self.profile,
            "seed": self.seed,
            "config": self.config,
            "metrics": self.metrics,
            "notes": self.notes,
            "library_versions": stamp.library_versions,
            **stamp.columns(),
            "started_at": self.started_at.isoformat(timespec="seconds") + "Z",
            "finished_at": finished_at.isoformat(timespec="seconds") + "Z",
        }


def start_run(
    model: str, snapshot_id: str, config: dict, seed: int, root: Path, profile: str | None = None
) -> Run:
    """A new, empty run folder, marked unfinished until ``finish_run``."""
    started = utcnow()
    digest = json_sha256(config)[:8]
    run_id = f"{model}-{started:%Y%m%dT%H%M%S%f}-{digest}"
    path = Path(root) / run_id
    path.mkdir(parents=True, exist_ok=False)
    mark_unfinished(path)
    return Run(run_id, model, snapshot_id, path, config, seed, profile, started)


def finish_run(conn: duckdb.DuckDBPyConnection, run: Run) -> dict:
    """Write the manifest, listing every artefact's SHA-256 and size, and the ``model_run`` row
    holding the manifest's own SHA-256: a run loads only while both still match."""
    finished = utcnow()
    manifest = run.manifest(finished)
    clear_unfinished(run.path)
    manifest["artefacts"] = artefact_list(run.path)
    text = write_manifest(run.path, manifest)
    conn.execute(
        "INSERT INTO model_run (id, model, snapshot_id, profile, seed, config_json, metrics_json, "
        "manifest_json, manifest_sha256, artefact_path, library_versions_json, status, "
        "tcdb_version, code_revision, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'succeeded', ?, ?, ?, ?)",
        [
            run.id, run.model, run.snapshot_id, run.profile, run.seed,
            json.dumps(run.config, sort_keys=True), json.dumps(run.metrics, sort_keys=True),
            json.dumps(manifest, sort_keys=True), sha256_of(text),
            str(run.path), json.dumps(manifest["library_versions"], sort_keys=True),
            manifest["tcdb_version"], manifest["code_revision"], run.started_at, finished,
        ],
    )  # fmt: skip
    return manifest


def write_predictions(
    conn: duckdb.DuckDBPyConnection, rows: list[dict], *, refresh: bool = False
) -> int:
    """Insert prediction rows in bulk (ids are hashes of run and subject, so a rerun of the
    same run adds nothing). ``refresh`` rewrites the columns of rows already there, for
    predictions whose verdict can be recomputed (a hydride screen stored before the
    applicability domain existed gains it)."""
    if not rows:
        return 0
    table = prediction_table(rows)
    if refresh:
        from tcdb.schema.bulk import upsert

        upsert(conn, "prediction", table, refresh=True)
        return table.num_rows
    return insert_new_rows(conn, "prediction", table)


def prediction_table(rows: list[dict]) -> pa.Table:
    """Prediction rows as an Arrow table with their ids (a hash of run, subject kind and
    subject) and creation time, as ``write_predictions`` stores them and screening shards
    write them to Parquet."""
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault(
            "id", record_id("pred", row["model_run_id"], row["subject_kind"], row["subject_id"])
        )
    return pa.Table.from_pylist(rows)


def _require_model(run_id: str, actual: str, wanted: str) -> None:
    """The one check that a run is of the model a caller loads (registered row or manifest)."""
    require_kind(f"Run {run_id}", actual, wanted, "{subject} is a {actual} run, not {wanted}.")


@dataclass(frozen=True)
class VerifiedRun:
    """A registered run whose manifest matched the database; its files are read through
    ``read_bytes``, which checks each file's bytes against the manifest as they are read, so
    what is loaded is what was hashed (a file swapped after the check is refused, too)."""

    id: str
    model: str
    path: Path
    manifest: dict
    manifest_sha256: str

    @property
    def name(self) -> str:
        """The run folder's name, which is the run id."""
        return self.id

    def read_bytes(self, name: str) -> bytes:
        """An artefact's bytes, refused unless the manifest lists it with this hash and size."""
        return read_checked(self.path, name, self.manifest["artefacts"], f"Run {self.id}")

    def read_json(self, name: str):
        return json.loads(self.read_bytes(name))

    def read_npz(self, name: str) -> dict:
        """The arrays of an ``.npz`` artefact, never unpickling an object array, and refused
        before numpy allocates anything when a header claims more than the file holds."""
        try:
            return npz_arrays(self.read_bytes(name), f"Run {self.id}: artefact {name}")
        except ArrayArchiveError as exc:
            raise RunIntegrityError(f"{exc}; the run is refused.") from None

    def read_parquet(self, name: str):
        import io

        import pandas as pd

        return pd.read_parquet(io.BytesIO(self.read_bytes(name)))

    def require_model(self, model: str) -> None:
        _require_model(self.id, self.model, model)


def _run_location(row_path: str | None, root: Path, run_id: str) -> Path:
    """Where the run's files are: the recorded folder, else ``root/<id>`` (a moved database
    folder). Either way the files are trusted only through the recorded manifest hash."""
    if row_path and Path(row_path).is_dir():
        return Path(row_path)
    return Path(root) / run_id


@dataclass(frozen=True)
class RecordedRun:
    """A registered, succeeded run as its database row records it: where its files are and
    the manifest hash they are checked against. Finding it needs the database; ``verify``
    (which reads the files) does not, so a command can close its connection first."""

    id: str
    model: str
    path: Path
    manifest_sha256: str

    def verify(self) -> VerifiedRun:
        """The run, once its manifest has the recorded SHA-256 and its folder holds exactly
        the manifest's files with their recorded SHA-256 and size; any difference refuses it
        before anything loads. Files are read only if regular and no larger than recorded."""
        text = read_manifest_bytes(self.path / MANIFEST, f"Run {self.id}")
        if sha256_of(text) != self.manifest_sha256:
            raise RunIntegrityError(
                f"Run {self.id}: {self.path / MANIFEST} differs from the SHA-256 recorded in the "
                "database; the run is refused."
            )
        run = VerifiedRun(self.id, self.model, self.path, json.loads(text), self.manifest_sha256)
        _check_files(run)
        return run


def recorded_run(
    conn: duckdb.DuckDBPyConnection, run_id: str, model: str, root: Path = Path()
) -> RecordedRun:
    """The registered, succeeded run ``run_id`` of ``model`` as the database records it,
    refused if it is unknown, of another model, failed, or recorded without hashes."""
    row = conn.execute(
        "SELECT model, status, manifest_sha256, artefact_path FROM model_run WHERE id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        raise RunNotFoundError(
            f"No model run {run_id!r} is registered in the database; a run folder alone is "
            "never loaded."
        )
    row_model, status, recorded, row_path = row
    _require_model(run_id, row_model, model)
    if status != "succeeded":
        raise RunError(f"Run {run_id} did not succeed (status {status}).")
    if not recorded:
        raise RunIntegrityError(
            f"Run {run_id} was recorded without artefact hashes, so it cannot be checked; "
            f"train it again with 'tcdb train {model}'."
        )
    return RecordedRun(run_id, model, _run_location(row_path, root, run_id), recorded)


def verify_run(
    conn: duckdb.DuckDBPyConnection, run_id: str, model: str, root: Path = Path()
) -> VerifiedRun:
    """The registered, succeeded run ``run_id`` of ``model``, checked against the database
    (``recorded_run``, then ``RecordedRun.verify``)."""
    return recorded_run(conn, run_id, model, root).verify()


def _check_files(run: VerifiedRun) -> None:
    """The folder holds exactly the listed artefacts, each with its recorded hash and size."""
    listed = run.manifest.get("artefacts")
    if not isinstance(listed, dict) or run.manifest.get("id") != run.id:
        raise RunIntegrityError(f"Run {run.id}: the manifest lists no artefacts for this run.")
    extra = sorted(folder_files(run.path) - set(listed))
    if extra:
        raise RunIntegrityError(
            f"Run {run.id}: {run.path / extra[0]} is not in the run's manifest; the run is refused."
        )
    for name in listed:
        run.read_bytes(name)


def registered_runs(
    conn: duckdb.DuckDBPyConnection, model: str | None = None, *, succeeded_only: bool = True
) -> list[Entry]:
    """The runs the database registers (succeeded ones unless asked; of one model, or all),
    oldest first, as reference targets named by their model."""
    rows = conn.execute(
        "SELECT id, model, finished_at FROM model_run WHERE (NOT ? OR status = 'succeeded') "
        "AND (? IS NULL OR model = ?) ORDER BY finished_at, id",
        [succeeded_only, model, model],
    ).fetchall()
    return [Entry(rid, (m,), "" if at is None else at.isoformat()) for rid, m, at in rows]


def find_run(conn: duckdb.DuckDBPyConnection, ref: str) -> tuple[str, str]:
    """The id and model of the registered run ``ref`` names, whatever its status: an id, an
    unambiguous id prefix, a model (its newest run) or ``latest`` (the newest of all)."""
    entry = resolve_reference(
        ref,
        registered_runs(conn, succeeded_only=False),
        "model run",
        "'tcdb runs list' shows them.",
        missing=f"No model run {ref!r} is registered in the database",
    )
    return entry.id, entry.names[0]


def resolve_run(
    root: Path, conn: duckdb.DuckDBPyConnection | None, ref: str, model: str
) -> VerifiedRun:
    """A checked run from its id, an unambiguous id prefix, or ``latest``: the newest
    succeeded run of the model that is registered in the database (never the newest folder
    on disk)."""
    return locate_run(root, conn, ref, model).verify()


def locate_run(
    root: Path, conn: duckdb.DuckDBPyConnection | None, ref: str, model: str
) -> RecordedRun:
    """The registered run ``ref`` names (as ``resolve_run``), before its files are read: a
    command may close the database and then ``verify`` it."""
    if conn is None:
        raise RunError("Loading a model run needs the database, which records its hashes.")
    known = conn.execute("SELECT count(*) FROM model_run WHERE id = ?", [ref]).fetchone()[0]
    if not known:
        runs = [Entry(e.id, (), e.created) for e in registered_runs(conn, model)]
        if ref == "latest" and not runs:
            raise RunNotFoundError(f"No {model} run yet; train one with 'tcdb train {model}'.")
        ref = resolve_reference(
            ref,
            runs,
            f"{model} run",
            "'tcdb runs list' shows them.",
            missing=f"No model run {ref!r} is registered in the database; a run folder alone "
            "is never loaded",
        ).id
    return recorded_run(conn, ref, model, root)
