"""Frozen, content-hashed training sets: Parquet files plus ``manifest.json``.

A snapshot is made from the latest curation run and the parameters given; its id is a hash of
its kind, its parameters and the content of its files, so the same inputs and parameters give
the same id. The manifest carries a second hash, ``manifest_sha256``, over every other field
(name, counts, curation run, sources, held-out list, created_at, ...), which the database's
``snapshot`` row records too; any edit to a file or to any field of the manifest is detected
when it is verified or loaded. Models train from snapshots only, never from the live database.

Kinds:
- ``structures`` (Novakovic et al. 2023): crystal structures labelled with their composition's
  T_c (SuperCon groups under the variance policy, via exact matches unless near matches are
  asked for) plus literature hydride structures labelled with the literature T_c (the mean of a
  two-μ* range).
- ``hydrides`` (Hutcheon et al. 2020): binary hydrides EH_n from the literature, one row per
  (material, phase, pressure, reference) with T_c and P.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import __version__
from core.composition import normalise
from core.errors import TcdbError
from core.hashing import file_sha256, record_id
from core.parameters import SnapshotParameters
from core.provenance import code_revision
from core.records import Rejection
from core.supercon_formula import parse_supercon_formula
from core.timestamps import utcnow
from curate.groups import label_groups
from curate.run import latest_curation_run
from schema.database import insert_new_rows

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
NAMES = "names.json"  # name -> id of the latest snapshot given that name
FILES = {"structures": ("entries.parquet", "structures.parquet"), "hydrides": ("entries.parquet",)}
# Every field a manifest has; the last is the hash of all the others.
MANIFEST_FIELDS = (
    "id", "name", "kind", "parameters", "files", "counts", "held_out_materials",
    "curation_run_id", "sources", "code_revision", "tcdb_version", "created_at",
    "manifest_sha256",
)  # fmt: skip


class SnapshotError(TcdbError):
    """A snapshot is missing, or its files do not match its manifest."""


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
        if self.manifest["kind"] != kind:
            raise SnapshotError(
                f"Snapshot {self.id} is of kind {self.manifest['kind']!r}, not {kind!r}"
            )
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


# ------------------------------------------------------------------------------- held out


def read_exclude_formulas(path: Path) -> tuple[str, ...]:
    """Formulas (one per line, ``#`` comments) to hold out, checked to resolve."""
    formulas = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if _material_id(text) is None:
            raise SnapshotError(f"{path} line {number}: {text!r} is not a formula that resolves")
        formulas.append(text)
    return tuple(formulas)


def _material_id(formula: str) -> str | None:
    if formula.startswith("mat-"):
        return formula
    parsed = parse_supercon_formula(formula)
    if isinstance(parsed, Rejection):
        return None
    composition = normalise(parsed.amounts)
    return None if isinstance(composition, Rejection) else composition.material_id


def held_out_materials(params: SnapshotParameters) -> set[str]:
    return {m for m in (_material_id(f) for f in params.exclude_formulas) if m}


# ---------------------------------------------------------------------------- build tables


def _query(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, params or []).df()


def structures_tables(
    conn: duckdb.DuckDBPyConnection, params: SnapshotParameters, run_id: str
) -> dict[str, pd.DataFrame]:
    """Entries (one per label) and labelled structures of a ``structures`` snapshot."""
    groups = _query(
        conn,
        "SELECT g.material_id, g.n_measurements, g.n_values, g.n_not_superconducting, "
        "g.tc_mean_K, g.tc_variance_K2, g.tc_min_K, g.tc_max_K, g.values_json "
        "FROM composition_group g WHERE g.curation_run_id = ? ORDER BY g.material_id",
        [run_id],
    )
    groups["values"] = groups.pop("values_json").map(
        lambda v: json.loads(v) if isinstance(v, str) else []
    )
    labels = label_groups(groups, params.variance_cutoff_K2, params.high_variance_policy)
    labels = labels.drop(columns=["values"]).assign(
        origin="supercon", literature_entry_id=None, pressure_GPa=None, method="experiment"
    )
    literature = _query(
        conn,
        "SELECT e.material_id, e.tc_K AS label_tc_K, e.id AS literature_entry_id, "
        "e.pressure_GPa, e.method, e.excluded_from_training FROM literature_entry e "
        "WHERE e.status = 'active' AND e.retired_run_id IS NULL AND e.structure_id IS NOT NULL "
        "AND e.tc_K IS NOT NULL AND isfinite(e.tc_K) "
        "AND e.method IN (SELECT unnest(?::VARCHAR[])) ORDER BY e.id",
        [list(params.literature_methods)],
    )
    _ledger_non_finite(conn, run_id, ("tc_K",))
    if not params.include_flagged:
        literature = literature[~literature["excluded_from_training"]]
    literature = literature.drop(columns=["excluded_from_training"]).assign(
        origin="literature", label_kind="literature", high_variance=False
    )
    entries = pd.concat([labels, literature], ignore_index=True)
    materials = _query(
        conn, "SELECT id AS material_id, reduced_formula, composition_json FROM material"
    )
    entries = entries.merge(materials, on="material_id", how="left")
    held_out = held_out_materials(params)
    entries = entries[~entries["material_id"].isin(held_out)]

    matches = _query(
        conn,
        "SELECT m.material_id, m.structure_id, m.method AS match_method, m.composition_distance, "
        "s.reduced_formula AS structure_formula, s.source_id AS structure_source, "
        "s.spacegroup_number, s.volume_A3, s.n_sites, s.pressure_GPa AS structure_pressure_GPa, "
        "s.structure_json FROM structure_match m JOIN crystal_structure s ON s.id = m.structure_id "
        "WHERE m.curation_run_id = ? AND m.status = 'active' AND s.status = 'active' "
        "AND m.method IN (SELECT unnest(?::VARCHAR[])) ORDER BY m.structure_id, m.material_id",
        [run_id, list(params.match_methods)],
    )
    supercon = entries[entries["origin"] == "supercon"].merge(
        matches[matches["match_method"] != "literature_file"], on="material_id"
    )
    lit_matches = matches[matches["match_method"] == "literature_file"]
    from_literature = entries[entries["origin"] == "literature"].merge(
        lit_matches, on="material_id"
    )
    # A literature entry labels only the structure file it names (its phase and pressure).
    linked = _query(conn, "SELECT id AS literature_entry_id, structure_id FROM literature_entry")
    from_literature = from_literature.merge(linked, on=["literature_entry_id", "structure_id"])
    structures = pd.concat([supercon, from_literature], ignore_index=True)
    structures = structures[~structures["structure_id"].isin(_held_out_structures(conn, held_out))]
    keep = [
        "structure_id", "material_id", "reduced_formula", "label_tc_K", "label_kind", "origin",
        "literature_entry_id", "match_method", "composition_distance", "structure_source",
        "spacegroup_number", "volume_A3", "n_sites", "structure_pressure_GPa", "structure_json",
    ]  # fmt: skip
    structures = structures[keep].sort_values(["structure_id", "label_tc_K", "origin"])
    entry_columns = [
        "material_id", "reduced_formula", "composition_json", "label_tc_K", "label_kind",
        "origin", "high_variance", "n_values", "tc_mean_K", "tc_variance_K2",
        "literature_entry_id", "pressure_GPa", "method",
    ]  # fmt: skip
    entries = entries[entry_columns].sort_values(["material_id", "label_tc_K", "origin"])
    return {
        "entries.parquet": entries.reset_index(drop=True),
        "structures.parquet": structures.reset_index(drop=True),
    }


def _held_out_structures(conn: duckdb.DuckDBPyConnection, materials: set[str]) -> set[str]:
    """Every structure of a held-out composition, however it was matched."""
    if not materials:
        return set()
    rows = conn.execute(
        "SELECT id FROM crystal_structure WHERE material_id IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(materials)],
    ).fetchall()
    return {r[0] for r in rows}


def hydrides_tables(
    conn: duckdb.DuckDBPyConnection, params: SnapshotParameters, run_id: str
) -> dict[str, pd.DataFrame]:
    """Binary hydride data points EH_n with T_c and pressure, for the (T_c, P) model."""
    entries = _query(
        conn,
        "SELECT e.id AS literature_entry_id, e.formula, m.reduced_formula, e.material_id, "
        "m.hydride_host AS element, m.h_per_host AS n_h, e.tc_K, e.tc_low_K, e.tc_high_K, "
        "e.pressure_GPa, e.pressure_low_GPa, e.pressure_high_GPa, e.mu_star, e.space_group, "
        "e.method, e.doi, e.reference, e.flags, e.excluded_from_training "
        "FROM literature_entry e JOIN material m ON m.id = e.material_id "
        "WHERE e.status = 'active' AND e.retired_run_id IS NULL AND m.hydride_host IS NOT NULL "
        "AND e.tc_K IS NOT NULL AND e.pressure_GPa IS NOT NULL "
        "AND isfinite(e.tc_K) AND isfinite(e.pressure_GPa) "
        "AND e.method IN (SELECT unnest(?::VARCHAR[])) ORDER BY e.id",
        [list(params.literature_methods)],
    )
    _ledger_non_finite(conn, run_id, ("tc_K", "pressure_GPa"))
    if not params.include_flagged:
        entries = entries[~entries["excluded_from_training"]]
    entries = entries[~entries["material_id"].isin(held_out_materials(params))]
    entries = entries.drop(columns=["excluded_from_training"])
    return {"entries.parquet": entries.sort_values("literature_entry_id").reset_index(drop=True)}


def _ledger_non_finite(
    conn: duckdb.DuckDBPyConnection, run_id: str, columns: tuple[str, ...]
) -> None:
    """Ledger entries for the literature entries a snapshot leaves out because a label column
    is NaN or infinite (ingest refuses such values; this guards rows loaded before it did)."""
    bad = " OR ".join(f"NOT isfinite({c})" for c in columns)
    rows = conn.execute(
        f"SELECT id FROM literature_entry WHERE status = 'active' AND retired_run_id IS NULL "
        f"AND ({bad}) ORDER BY id"
    ).fetchall()
    reason = f"{' or '.join(columns)} is NaN or infinite; left out of every snapshot"
    now = utcnow()
    ledger = []
    for (entry_id,) in rows:
        log.warning("literature entry %s has a non-finite %s; left out", entry_id, columns)
        ledger.append(
            {
                "id": record_id("ledger", "snapshot", "non_finite", run_id, entry_id),
                "curation_run_id": run_id,
                "stage": "snapshot",
                "subject_table": "literature_entry",
                "subject_id": entry_id,
                "action": "exclude",
                "reason": reason,
                "created_at": now,
            }
        )
    if ledger:
        insert_new_rows(conn, "curation_ledger", pa.Table.from_pylist(ledger))


# ---------------------------------------------------------------------------- hashing, I/O


def snapshot_id(kind: str, parameters: dict, files: dict[str, dict]) -> str:
    """The content hash that names a snapshot: kind, parameters and file contents."""
    payload = json.dumps(
        {
            "kind": kind,
            "parameters": parameters,
            "files": {k: v["sha256"] for k, v in files.items()},
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def manifest_sha256(manifest: dict) -> str:
    """The hash of every field of a manifest but ``manifest_sha256`` itself."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _write_parquet(frame: pd.DataFrame, path: Path) -> dict:
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")
    return {"sha256": file_sha256(path), "rows": table.num_rows}


def _source_hashes(conn: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rows = conn.execute("SELECT id, path, file_sha256 FROM source ORDER BY id").fetchall()
    return {sid: {"path": path, "sha256": sha} for sid, path, sha in rows}


def create_snapshot(
    conn: duckdb.DuckDBPyConnection, name: str, params: SnapshotParameters, root: Path
) -> Snapshot:
    """Freeze a snapshot under ``root/<id>/`` and record it in the database."""
    run_id = latest_curation_run(conn)
    build = structures_tables if params.kind == "structures" else hydrides_tables
    tables = build(conn, params, run_id)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        files = {file: _write_parquet(frame, staging / file) for file, frame in tables.items()}
        parameters = params.as_dict()
        sid = snapshot_id(params.kind, parameters, files)
        manifest = {
            "id": sid,
            "name": name,
            "kind": params.kind,
            "parameters": parameters,
            "files": files,
            "counts": {
                "entries": files["entries.parquet"]["rows"],
                "structures": files.get("structures.parquet", {}).get("rows", 0),
                "materials": int(tables["entries.parquet"]["material_id"].nunique()),
            },
            "held_out_materials": sorted(held_out_materials(params)),
            "curation_run_id": run_id,
            "sources": _source_hashes(conn),
            "code_revision": code_revision(),
            "tcdb_version": __version__,
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
                _set_aside(target)
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            staging.rename(target)
            snapshot = Snapshot(sid, target, manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remember_name(root, name, snapshot.id)
    _record(conn, snapshot)
    return snapshot


def _set_aside(target: Path) -> None:
    """A damaged (or pre-hash) folder with the id being frozen again is renamed, never deleted,
    so the fresh copy can take its place and the old one can still be inspected."""
    for n in range(1, 1000):
        aside = target.with_name(f".damaged-{target.name}-{n}")
        if not aside.exists():
            log.warning("snapshot %s did not verify; kept as %s and frozen again", target, aside)
            target.rename(aside)
            return
    raise SnapshotError(f"{target} does not verify and cannot be set aside; remove it by hand")


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


def read_manifest(path: Path) -> dict:
    """The manifest of a snapshot folder, or a SnapshotError naming the file and what is wrong
    with it (missing, not JSON, a field missing or of the wrong type)."""
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{manifest_path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(
            f"{manifest_path} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{manifest_path} cannot be read ({exc})") from None
    if not isinstance(manifest, dict):
        raise SnapshotError(f"{manifest_path} is not a JSON object")
    missing = [f for f in MANIFEST_FIELDS if f not in manifest]
    if missing == ["manifest_sha256"]:
        raise SnapshotError(
            f"{manifest_path} has no manifest_sha256 (frozen before manifests were hashed); "
            f"create the snapshot again"
        )
    if missing:
        raise SnapshotError(f"{manifest_path} lacks the field(s) {', '.join(missing)}")
    problem = _shape_problem(manifest)
    if problem:
        raise SnapshotError(f"{manifest_path}: {problem}")
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
    counts = manifest["counts"]
    if not isinstance(counts, dict) or not all(
        isinstance(counts.get(k), int) for k in ("entries", "structures", "materials")
    ):
        return "counts must give entries, structures and materials as integers"
    if not isinstance(manifest["parameters"], dict):
        return "parameters must be an object"
    return None


def verify_snapshot(path: Path, recorded_sha256: str | None = None) -> list[str]:
    """Every way the folder differs from its manifest (empty: intact). ``recorded_sha256`` is
    the manifest hash the database recorded when the snapshot was frozen, when known."""
    try:
        manifest = read_manifest(path)
    except SnapshotError as exc:
        return [str(exc)]
    problems = []
    for file, expected in manifest["files"].items():
        target = path / file
        if not target.is_file():
            problems.append(f"{file} is missing")
        elif file_sha256(target) != expected["sha256"]:
            problems.append(f"{file} has changed since the snapshot was frozen (hash differs)")
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
    from core.errors import DatabaseLockedError
    from schema.database import connect

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


def resolve(root: Path, ref: str) -> Path:
    """A snapshot folder from its id, an unambiguous id prefix, or its name (latest)."""
    if (root / ref).is_dir():
        return root / ref
    found = [p for p in root.glob(f"{ref}*") if p.is_dir() and not p.name.startswith(".")]
    if len(found) == 1:
        return found[0]
    if ref in _names(root) and (root / _names(root)[ref]).is_dir():
        return root / _names(root)[ref]
    named = [s for s in list_snapshots(root) if not s.get("damaged") and s["name"] == ref]
    if named:
        return root / max(named, key=lambda s: s["created_at"])["id"]
    raise SnapshotError(f"No snapshot {ref!r} in {root}; 'tcdb snapshot list' shows them.")


def load_snapshot(root: Path, ref: str, db: Path | None = None) -> Snapshot:
    """A verified snapshot; a changed file or manifest is refused. Given the database file,
    the manifest is also checked against the hash recorded there."""
    path = resolve(root, ref)
    recorded = recorded_manifest_sha256(db, path.name)
    problems = verify_snapshot(path, recorded)
    if problems:
        raise SnapshotError(f"Snapshot {path.name} cannot be used: {'; '.join(problems)}.")
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
        except SnapshotError as exc:
            manifests.append({"id": folder.name, "damaged": str(exc)})
            continue
        if manifest_sha256(manifest) != manifest["manifest_sha256"]:
            manifests.append({"id": folder.name, "damaged": "the manifest was edited"})
            continue
        manifests.append(manifest)
    return sorted(manifests, key=lambda m: str(m.get("created_at", "")))


def diff_snapshots(a: Snapshot, b: Snapshot) -> dict:
    """Parameters that differ, and entries added, removed or relabelled from a to b."""
    params = {
        k: (a.manifest["parameters"].get(k), b.manifest["parameters"].get(k))
        for k in sorted(set(a.manifest["parameters"]) | set(b.manifest["parameters"]))
        if a.manifest["parameters"].get(k) != b.manifest["parameters"].get(k)
    }
    key = "literature_entry_id" if a.manifest["kind"] == "hydrides" else "material_id"
    label = "tc_K" if a.manifest["kind"] == "hydrides" else "label_tc_K"
    ea = a.entries.groupby(key)[label].apply(lambda s: sorted(s.round(6)))
    eb = b.entries.groupby(key)[label].apply(lambda s: sorted(s.round(6)))
    added = sorted(set(eb.index) - set(ea.index))
    removed = sorted(set(ea.index) - set(eb.index))
    changed = sorted(k for k in set(ea.index) & set(eb.index) if ea[k] != eb[k])
    return {
        "parameters": params,
        "counts": (a.manifest["counts"], b.manifest["counts"]),
        "added": added,
        "removed": removed,
        "relabelled": changed,
    }
