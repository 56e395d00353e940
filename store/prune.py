"""What ``tcdb prune`` removes: model runs no one needs and feature caches no kept run reads.

Why: every training writes a run folder and a structural training a feature cache (~85 MiB
each); they pile up. A plan is made first (``plan_runs``, ``plan_caches``) so that
``--dry-run`` shows exactly what ``apply`` would do. Rules:

- A run folder without a registered run goes (a crashed training, or one whose results could
  not be stored), unless the process that is filling it is alive (``.unfinished``).
- A registered run that did not succeed goes; its row stays, with status ``pruned``.
- Of each model's succeeded runs the ``keep`` newest stay; older ones go (row status
  ``pruned``), except one that a ``prediction`` row refers to (``model_run_id``, the only
  column that references ``model_run``; see ``schema/references.py``). The newest succeeded
  run of a model always stays (``keep`` is at least 1), so ``latest`` keeps meaning the same.
- A feature cache folder (``<cache>/<64 hex key>/``) goes when no kept run's snapshot and
  feature configuration give its key; the caller computes those keys (``ml`` knows how).
- Snapshots are never removed (a kept run's snapshot is what makes it reproducible), and only
  folders inside the runs and cache folders are ever deleted.
- A symbolic link in the runs or cache folder is never followed, deleted through or removed:
  training writes real folders, so a link was put there by someone, and what it points at may
  be anything (another disk's runs, a home folder). It stays, with a note; a registered run
  whose folder is a link keeps its row. Links inside a run folder are removed with the folder,
  never followed (``shutil.rmtree`` unlinks them).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from tcdb.store.artifacts import MANIFEST, filling_process, folder_bytes

log = logging.getLogger(__name__)

CACHE_KEY = re.compile(r"[0-9a-f]{64}")
PRUNED = "pruned"


@dataclass(frozen=True)
class Removal:
    """A folder to delete, its size, why, and the run whose row is then marked pruned."""

    path: Path
    size: int
    reason: str
    run_id: str | None = None


@dataclass(frozen=True)
class KeptRun:
    """A succeeded run that stays, with what its feature cache key depends on."""

    id: str
    model: str
    snapshot_id: str
    config: dict


@dataclass
class Plan:
    removals: list[Removal] = field(default_factory=list)
    kept_runs: list[KeptRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what stays that one might expect to go

    @property
    def size(self) -> int:
        return sum(r.size for r in self.removals)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve()) and path.resolve() != root.resolve()
    except OSError:
        return False


def plan_runs(conn: duckdb.DuckDBPyConnection, runs_root: Path, keep: int) -> Plan:
    """Which run folders go and which runs stay (see the module's rules)."""
    if keep < 1:
        raise ValueError("keep must be at least 1: the newest run of each model always stays")
    rows = conn.execute(
        "SELECT id, model, status, snapshot_id, config_json FROM model_run "
        "ORDER BY model, finished_at DESC NULLS LAST, id DESC"
    ).fetchall()
    referenced = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT model_run_id FROM prediction WHERE model_run_id IS NOT NULL"
        ).fetchall()
    }
    plan = Plan()
    succeeded_seen: dict[str, int] = {}
    for run_id, model, status, snapshot_id, config_json in rows:
        folder = runs_root / run_id
        if folder.is_symlink():
            plan.notes.append(_link_note(folder))
            continue
        if status == "succeeded":
            succeeded_seen[model] = succeeded_seen.get(model, 0) + 1
            if succeeded_seen[model] <= keep:
                plan.kept_runs.append(KeptRun(run_id, model, snapshot_id, _config(config_json)))
                continue
            if run_id in referenced:
                plan.notes.append(f"{run_id} stays: predictions refer to it")
                plan.kept_runs.append(KeptRun(run_id, model, snapshot_id, _config(config_json)))
                continue
            reason = f"older than the {keep} newest {model} run(s)"
        elif run_id in referenced:
            plan.notes.append(f"{run_id} (status {status}) stays: predictions refer to it")
            continue
        elif status == PRUNED and not folder.exists():
            continue
        else:
            reason = f"status {status}"
        size = folder_bytes(folder) if folder.is_dir() else 0
        plan.removals.append(Removal(folder, size, reason, run_id))
    registered = {r[0] for r in rows}
    plan.notes += [_link_note(link) for link in _links(runs_root) if link.name not in registered]
    for folder in _subfolders(runs_root):
        if folder.name in registered:
            continue
        pid = filling_process(folder)
        if pid is not None:
            plan.notes.append(f"{folder.name} stays: process {pid} is still writing it")
            continue
        reason = (
            "not registered in the database"
            if (folder / MANIFEST).is_file()
            else "unfinished (no manifest, no process writing it)"
        )
        plan.removals.append(Removal(folder, folder_bytes(folder), reason))
    return plan


def _config(text: str | None) -> dict:
    try:
        config = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return config if isinstance(config, dict) else {}


def _subfolders(root: Path) -> list[Path]:
    """The real folders directly in ``root``; links to folders are not among them."""
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if not p.is_symlink() and p.is_dir() and not p.name.startswith(".")
    )


def _links(root: Path) -> list[Path]:
    """The symbolic links directly in ``root`` (a link is never followed or removed)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_symlink() and not p.name.startswith("."))


def _link_note(link: Path) -> str:
    """Why a link stays, in the words ``tcdb prune`` prints after "kept: "."""
    log.info("%s is a symbolic link; prune neither follows nor removes links", link)
    return f"{link} stays: it is a symbolic link, which prune neither follows nor removes"


def plan_caches(cache_root: Path, keys_in_use: set[str]) -> list[Removal]:
    """The feature cache folders whose key no kept run uses; other folders, and links, are
    left alone."""
    for link in _links(cache_root):
        _link_note(link)
    return [
        Removal(folder, folder_bytes(folder), "feature cache no kept run uses")
        for folder in _subfolders(cache_root)
        if CACHE_KEY.fullmatch(folder.name) and folder.name not in keys_in_use
    ]


def apply(
    conn: duckdb.DuckDBPyConnection, removals: list[Removal], roots: list[Path]
) -> tuple[int, int]:
    """Mark the removed runs' rows pruned (one transaction), then delete the folders; only
    folders inside ``roots`` are ever deleted. The folders deleted and the bytes freed."""
    run_ids = sorted({r.run_id for r in removals if r.run_id})
    if run_ids:
        conn.begin()
        try:
            conn.execute(
                "UPDATE model_run SET status = ? WHERE id IN (SELECT unnest(?::VARCHAR[]))",
                [PRUNED, run_ids],
            )
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    deleted = freed = 0
    for removal in removals:
        if _remove(removal, roots):
            deleted += 1
            freed += removal.size
    return deleted, freed


def _remove(removal: Removal, roots: list[Path]) -> bool:
    """Delete one planned folder; a link (one swapped in since the plan too), a folder outside
    ``roots`` or one that cannot be deleted is logged and left, and pruning goes on."""
    path = removal.path
    if path.is_symlink():
        log.warning("%s is a symbolic link; prune neither follows nor removes links", path)
        return False
    if not path.is_dir():
        return False
    if not any(_inside(path, root) for root in roots):
        log.warning("%s is outside %s; left in place", path, roots)
        return False
    try:
        shutil.rmtree(path)
    except OSError as exc:
        log.warning("%s could not be removed (%s); left in place", path, exc)
        return False
    log.info("removed %s (%s)", path, removal.reason)
    return True
