"""Frozen, content-hashed training sets: Parquet files plus ``manifest.json``, one kind of
artefact (``store.artifacts``).

A snapshot's id is a hash of its kind, its parameters and the content of its files, so the same
inputs and parameters give the same id. The manifest carries a second hash, ``manifest_sha256``,
over every other field (name, counts, curation run, sources, held-out list, created_at, ...),
which the database's ``snapshot`` row records too; any edit to a file or to any field of the
manifest is detected when it is verified or loaded. Models train from snapshots only, never
from the live database. What goes into a snapshot is chosen by ``curate.snapshots``; this
module freezes the tables it is given and reads them back.

Kinds:
- ``structures`` (Novakovic et al. 2023): labelled crystal structures and their entries.
- ``hydrides`` (Hutcheon et al. 2020): binary hydrides EH_n with T_c and P.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tcdb.core.hashing import json_sha256
from tcdb.core.provenance import provenance_stamp
from tcdb.core.safe_reads import FileRefusedError, read_limited
from tcdb.core.timestamps import utcnow
from tcdb.store.artifacts import (
    MANIFEST,
    MANIFEST_MAX_BYTES,
    ArtifactError,
    ArtifactIntegrityError,
    Entry,
    diff_fields,
    file_entry,
    folder_problems,
    manifest_bytes,
    require_kind,
    resolve_reference,
    set_aside,
    staging_folder,
)

log = logging.getLogger(__name__)

NAMES = "names.json"  # name -> id of the latest snapshot given that name
FILES = {"structures": ("entries.parquet", "structures.parquet"), "hydrides": ("entries.parquet",)}
# Every field a manifest has; the last is the hash of all the others.
MANIFEST_FIELDS = (
    "id", "name", "kind", "parameters", "files", "counts", "held_out_materials",
    "curation_run_id", "sources", "code_revision", "tcdb_version", "created_at",
    "manifest_sha256",
)  # fmt: skip

WRONG_KIND = "{subject} is of kind {actual!r}, not {wanted!r}"
# The snapshot members of the artefact error family.
SnapshotError = ArtifactError


@dataclass(frozen=True)
class Snapshot:
    id: str
    path: Path
    manifest: dict

    def table(self, name: str) -> pd.DataFrame:
        return pq.read_table(self.path / name).to_pandas()

    def require_kind(self, kind: str) -> Snapshot:
        """This snapshot, or an error when a model is given the wrong kind of training set or
        an empty one (before any run folder is made)."""
        require_kind(f"Snapshot {self.id}", self.manifest["kind"], kind, WRONG_KIND)
        if not self.manifest["counts"]["entries"]:
            raise SnapshotError(
                f"Snapshot {self.id} ({self.manifest['name']}) holds 0 entries; there is "
                f"nothing to train on (check its parameters with 'tcdb snapshot show {self.id}')"
            )
        return self

    @property
    def entries(self) -> pd.DataFrame:
        return self.table("entries.parquet")

    @property
    def structures(self) -> pd.DataFrame:
        return self.table("structures.parquet")


# --------------------------------------------------------------------------------- hashes


def snapshot_id(kind: str, parameters: dict, files: dict[str, dict]) -> str:
    """The content hash that names a snapshot: kind, parameters and file contents."""
    contents = {k: v["sha256"] for k, v in files.items()}
    return json_sha256({"kind": kind, "parameters": parameters, "files": contents})[:16]


def manifest_sha256(manifest: dict) -> str:
    """The hash of every field of a manifest but ``manifest_sha256`` itself."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return json_sha256(body)


# -------------------------------------------------------------------------------- freezing


def _write_parquet(frame: pd.DataFrame, path: Path) -> dict:
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")
    return file_entry(path) | {"rows": table.num_rows}


def freeze_snapshot(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    kind: str,
    parameters: dict,
    tables: dict[str, pd.DataFrame],
    root: Path,
    *,
    held_out_materials: list[str],
    curation_run_id: str,
    sources: dict[str, dict],
    notes: dict | None = None,
) -> Snapshot:
    """Write ``tables`` as a snapshot under ``root/<id>/`` (staged, then renamed whole) and
    record it in the database. A verifying folder with the same id is kept as it is.
    ``notes`` (counts that describe the content, such as what each label table gave) go into
    the manifest as they are."""
    if sorted(tables) != sorted(FILES[kind]):
        raise SnapshotError(
            f"A {kind} snapshot holds {', '.join(FILES[kind])}, not {', '.join(sorted(tables))}"
        )
    with staging_folder(root) as staging:
        files = {file: _write_parquet(frame, staging / file) for file, frame in tables.items()}
        sid = snapshot_id(kind, parameters, files)
        stamp = provenance_stamp()
        manifest = {
            "id": sid,
            "name": name,
            "kind": kind,
            "parameters": parameters,
            "files": files,
            "counts": {
                "entries": files["entries.parquet"]["rows"],
                "structures": files.get("structures.parquet", {}).get("rows", 0),
                "materials": int(tables["entries.parquet"]["material_id"].nunique()),
            },
            "held_out_materials": sorted(held_out_materials),
            "curation_run_id": curation_run_id,
            "sources": sources,
            **({"notes": notes} if notes else {}),
            **stamp.columns(),
            "created_at": utcnow().isoformat(timespec="seconds") + "Z",
        }
        manifest["manifest_sha256"] = manifest_sha256(manifest)
        target = root / sid
        if target.exists() and not verify_snapshot(target):
            log.info("snapshot %s already exists with the same content; kept as it is", sid)
            shutil.rmtree(staging)
            snapshot = Snapshot(sid, target, read_manifest(target))
        else:
            if target.exists():
                set_aside(target, "snapshot")
            (staging / MANIFEST).write_bytes(manifest_bytes(manifest))
            staging.rename(target)
            snapshot = Snapshot(sid, target, manifest)
    _remember_name(root, name, snapshot.id)
    _record(conn, snapshot)
    return snapshot


def _names(root: Path) -> dict[str, str]:
    path = root / NAMES
    return json.loads(path.read_text()) if path.is_file() else {}


def _remember_name(root: Path, name: str, sid: str) -> None:
    """A name points at the latest snapshot created with it, even when the content (and so the
    id) is that of an earlier snapshot with another name."""
    names = _names(root) | {name: sid}
    (root / NAMES).write_text(json.dumps(names, indent=2, sort_keys=True) + "\n")


def _record(conn: duckdb.DuckDBPyConnection, snapshot: Snapshot) -> None:
    m = snapshot.manifest
    conn.execute(
        "INSERT INTO snapshot (id, name, kind, path, parameters_json, manifest_json, n_entries, "
        "n_structures, curation_run_id, tcdb_version, code_revision, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "manifest_json = excluded.manifest_json, path = excluded.path",
        [
            snapshot.id, m["name"], m["kind"], str(snapshot.path),
            json.dumps(m["parameters"], sort_keys=True), json.dumps(m, sort_keys=True),
            m["counts"]["entries"], m["counts"]["structures"], m["curation_run_id"],
            m["tcdb_version"], m["code_revision"], utcnow(),
        ],
    )  # fmt: skip


# ------------------------------------------------------------------------------- checking


def read_manifest(path: Path) -> dict:
    """The manifest of a snapshot folder, or a SnapshotError naming the file and what is wrong
    with it (missing, not JSON, a field missing or of the wrong type)."""
    manifest_path = path / MANIFEST
    try:  # a regular file of bounded size: a FIFO or /dev/zero here would never end
        manifest = json.loads(read_limited(manifest_path, MANIFEST_MAX_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise ArtifactIntegrityError(f"{manifest_path} does not exist") from None
    except FileRefusedError as exc:
        raise ArtifactIntegrityError(f"{manifest_path} {exc.detail}") from None
    except json.JSONDecodeError as exc:
        raise ArtifactIntegrityError(
            f"{manifest_path} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactIntegrityError(f"{manifest_path} cannot be read ({exc})") from None
    if not isinstance(manifest, dict):
        raise ArtifactIntegrityError(f"{manifest_path} is not a JSON object")
    missing = [f for f in MANIFEST_FIELDS if f not in manifest]
    if missing == ["manifest_sha256"]:
        raise ArtifactIntegrityError(
            f"{manifest_path} has no manifest_sha256 (frozen before manifests were hashed); "
            f"create the snapshot again"
        )
    if missing:
        raise ArtifactIntegrityError(f"{manifest_path} lacks the field(s) {', '.join(missing)}")
    problem = _shape_problem(manifest)
    if problem:
        raise ArtifactIntegrityError(f"{manifest_path}: {problem}")
    return manifest


def _shape_problem(manifest: dict) -> str | None:
    """What is malformed in a manifest with every field present (None: nothing)."""
    if manifest["kind"] not in FILES:
        return f"kind {manifest['kind']!r} is not one of {', '.join(FILES)}"
    files = manifest["files"]
    if not isinstance(files, dict) or sorted(files) != sorted(FILES[manifest["kind"]]):
        return f"files must list exactly {', '.join(FILES[manifest['kind']])}"
    if not all(isinstance(f, dict) and isinstance(f.get("sha256"), str) for f in files.values()):
        return "every file needs a sha256"
    if not all(isinstance(f.get("size", 0), int) for f in files.values()):
        return "a file's size must be an integer"
    counts = manifest["counts"]
    if not isinstance(counts, dict) or not all(
        isinstance(counts.get(k), int) for k in ("entries", "structures", "materials")
    ):
        return "counts must give entries, structures and materials as integers"
    if not isinstance(manifest["parameters"], dict):
        return "parameters must be an object"
    return None


_FILE_PROBLEMS = {
    "missing": "{name} is missing",
    "changed": "{name} has changed since the snapshot was frozen (hash differs)",
    "unlisted": "{name} is not in the snapshot's manifest",
}


def verify_snapshot(path: Path, recorded_sha256: str | None = None) -> list[str]:
    """Every way the folder differs from its manifest (empty: intact). ``recorded_sha256`` is
    the manifest hash the database recorded when the snapshot was frozen, when known."""
    try:
        manifest = read_manifest(path)
    except ArtifactError as exc:
        return [str(exc)]
    problems = [
        _FILE_PROBLEMS[p.what].format(name=p.name) for p in folder_problems(path, manifest["files"])
    ]
    recomputed = snapshot_id(manifest["kind"], manifest["parameters"], manifest["files"])
    if recomputed != manifest["id"] or path.name != manifest["id"]:
        problems.append("the manifest's parameters or file list were edited (id does not match)")
    if manifest_sha256(manifest) != manifest["manifest_sha256"]:
        problems.append(
            "the manifest was edited (its name, counts, curation run, sources, held-out list "
            "or another field no longer match manifest_sha256)"
        )
    elif recorded_sha256 is not None and recorded_sha256 != manifest["manifest_sha256"]:
        problems.append("the manifest differs from the one the database recorded when frozen")
    return problems


def recorded_manifest_sha256(db: Path | None, snapshot_id: str) -> str | None:
    """The manifest hash the database recorded for a snapshot; None when there is no database,
    no row, or the database is locked by a writer (the manifest's own hash is still checked)."""
    from tcdb.core.errors import DatabaseLockedError
    from tcdb.schema.database import connect

    if db is None or not Path(db).is_file():
        return None
    try:
        conn = connect(db, read_only=True)
    except DatabaseLockedError:
        log.warning("%s is locked; snapshot %s checked against its own hash only", db, snapshot_id)
        return None
    try:
        row = conn.execute(
            "SELECT manifest_json FROM snapshot WHERE id = ?", [snapshot_id]
        ).fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        conn.close()
    if row is None:
        return None
    try:
        return json.loads(row[0]).get("manifest_sha256")
    except (json.JSONDecodeError, AttributeError):
        return None


# ---------------------------------------------------------------------- finding and reading


def _entries(root: Path) -> list[Entry]:
    """Every snapshot folder as a reference target. A name recorded in ``names.json`` names
    only the snapshot it points at there (the latest created with it); other names come from
    the manifests that still verify their own hash."""
    names = _names(root)
    entries = []
    for manifest in list_snapshots(root):
        own = manifest.get("name")
        listed = tuple(n for n, sid in sorted(names.items()) if sid == manifest["id"])
        extra = (own,) if own and own not in names and not manifest.get("damaged") else ()
        entries.append(Entry(manifest["id"], listed + extra, str(manifest.get("created_at", ""))))
    return entries


def resolve(root: Path, ref: str) -> Path:
    """A snapshot folder from its id, an unambiguous id prefix, its name (the latest snapshot
    created with it) or ``latest``."""
    entry = resolve_reference(
        ref,
        _entries(root),
        "snapshot",
        f"Snapshots are kept in {root}; 'tcdb snapshot list' shows them.",
    )
    return root / entry.id


def load_snapshot(root: Path, ref: str, db: Path | None = None) -> Snapshot:
    """A verified snapshot; a changed file or manifest is refused. Given the database file,
    the manifest is also checked against the hash recorded there."""
    path = resolve(root, ref)
    recorded = recorded_manifest_sha256(db, path.name)
    problems = verify_snapshot(path, recorded)
    if problems:
        raise ArtifactIntegrityError(f"Snapshot {path.name} cannot be used: {'; '.join(problems)}.")
    manifest = read_manifest(path)
    return Snapshot(manifest["id"], path, manifest)


def list_snapshots(root: Path) -> list[dict]:
    """The manifests of every snapshot folder, oldest first; a folder whose manifest cannot be
    read or was edited is listed as ``{"id": folder name, "damaged": reason}``."""
    if not root.is_dir():
        return []
    manifests = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.startswith("."):
            continue
        try:
            manifest = read_manifest(folder)
        except ArtifactError as exc:
            manifests.append({"id": folder.name, "damaged": str(exc)})
            continue
        if manifest_sha256(manifest) != manifest["manifest_sha256"]:
            manifests.append({"id": folder.name, "damaged": "the manifest was edited"})
            continue
        manifests.append(manifest)
    return sorted(manifests, key=lambda m: str(m.get("created_at", "")))


def diff_snapshots(a: Snapshot, b: Snapshot) -> dict:
    """Parameters that differ, and entries added, removed or relabelled from a to b."""
    key = "literature_entry_id" if a.manifest["kind"] == "hydrides" else "material_id"
    label = "tc_K" if a.manifest["kind"] == "hydrides" else "label_tc_K"
    ea = a.entries.groupby(key)[label].apply(lambda s: sorted(s.round(6)))
    eb = b.entries.groupby(key)[label].apply(lambda s: sorted(s.round(6)))
    added = sorted(set(eb.index) - set(ea.index))
    removed = sorted(set(ea.index) - set(eb.index))
    changed = sorted(k for k in set(ea.index) & set(eb.index) if ea[k] != eb[k])
    return {
        "parameters": diff_fields(a.manifest["parameters"], b.manifest["parameters"]),
        "counts": (a.manifest["counts"], b.manifest["counts"]),
        "added": added,
        "removed": removed,
        "relabelled": changed,
    }
