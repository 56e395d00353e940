"""``tcdb prune`` on a real database: what goes, what stays, and what ``--dry-run`` says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tcdb.schema.database import connect
from tcdb.store.artifacts import MANIFEST, UNFINISHED, folder_bytes
from tcdb.store.model_runs import finish_run, resolve_run, start_run, verify_run, write_predictions
from tests.commands import invoke_tcdb
from tests.conftest import query


def _train(conn, root: Path, model: str, snapshot_id: str, config: dict | None = None) -> str:
    """A registered run whose one artefact is a few kilobytes of data."""
    run = start_run(model, snapshot_id, config or {"model": model}, 0, root)
    (run.path / "weights.bin").write_bytes(bytes(range(256)) * 16)
    finish_run(conn, run)
    return run.id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def store(migrated_db, structures_snapshot, tmp_path):
    """A database folder holding: three composition runs (the oldest with a prediction), a
    cvcnn run on a structures snapshot, a failed run, a crashed and a running training, a
    folder nobody registered, and two feature caches (the cvcnn run's and another)."""
    from tcdb.ml.structural.feature_cache_keys import feature_cache_key
    from tcdb.ml.structure_features import FeatureConfig

    root = tmp_path / "runs"
    snapshots = tmp_path / "snapshots"
    shutil.copytree(structures_snapshot.path, snapshots / structures_snapshot.id)
    features = FeatureConfig().as_dict()
    conn = connect(migrated_db)
    try:
        composition = [_train(conn, root, "composition", "snap-c") for _ in range(3)]
        write_predictions(
            conn,
            [{"model_run_id": composition[0], "subject_kind": "material",
              "subject_id": "mat-x", "tc_K": 1.0}],
        )  # fmt: skip
        cvcnn = _train(conn, root, "cvcnn", structures_snapshot.id, {"features": features})
        failed = _train(conn, root, "composition", "snap-c")
        conn.execute("UPDATE model_run SET status = 'failed' WHERE id = ?", [failed])
    finally:
        conn.close()
    crashed = start_run("cvcnn", structures_snapshot.id, {}, 0, root)
    (crashed.path / UNFINISHED).write_text(f"{_dead_pid()}\n")
    running = start_run("cvcnn", structures_snapshot.id, {}, 1, root)  # this process is alive
    stray = root / "composition-stray"
    stray.mkdir()
    (stray / MANIFEST).write_text("{}")
    used = feature_cache_key(structures_snapshot.structures, features)
    cache = tmp_path / "cache"
    for key in (used, "0" * 64):
        (cache / key).mkdir(parents=True)
        (cache / key / "features.npz").write_bytes(b"\0" * 3 * 2**20)
    (cache / "notes").mkdir()  # not a cache key: never touched
    return {
        "db": migrated_db, "composition": composition, "cvcnn": cvcnn, "failed": failed,
        "crashed": crashed.path, "running": running.path, "stray": stray,
        "used_cache": cache / used, "unused_cache": cache / ("0" * 64), "cache": cache,
        "snapshot": snapshots / structures_snapshot.id,
    }  # fmt: skip


def _status(db: Path, run_id: str) -> str:
    return query(db, "SELECT status FROM model_run WHERE id = ?", run_id)[0][0]


def test_the_feature_cache_key_is_the_one_training_files_features_under(
    structures_snapshot, tmp_path
):
    from tcdb.ml.structural.feature_cache_keys import feature_cache_key
    from tcdb.ml.structure_features import FeatureConfig, structure_features

    frame = structures_snapshot.structures.head(3)
    computed = structure_features(frame, cache_dir=tmp_path, progress=False)
    assert computed.cache_path.parent.name == feature_cache_key(frame, FeatureConfig().as_dict())
    assert feature_cache_key(frame, {"format_version": 0}) is None


def test_dry_run_lists_what_would_go_and_removes_nothing(store):
    root = store["db"].parent
    before = sorted(p.name for p in (root / "runs").iterdir())
    result = invoke_tcdb("--db", str(store["db"]), "prune", "--keep", "1", "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    going = [store["crashed"], store["stray"], store["unused_cache"]]
    going += [root / "runs" / r for r in (store["failed"], store["composition"][1])]
    for path in going:
        assert f"would remove {path} (" in out, path
    for path in (store["running"], store["used_cache"], root / "runs" / store["cvcnn"]):
        assert f"remove {path} " not in out
    assert f"kept: {store['composition'][0]} stays: predictions refer to it" in out
    assert "is still writing it" in out
    expected = sum(folder_bytes(p) for p in going)
    assert f"({expected:,} bytes) in 5 folder(s)" in out
    assert sorted(p.name for p in (root / "runs").iterdir()) == before
    assert store["unused_cache"].is_dir()
    assert _status(store["db"], store["composition"][1]) == "succeeded"


def test_prune_keeps_the_newest_the_referenced_and_what_kept_runs_read(store):
    root = store["db"].parent
    going = [store["crashed"], store["stray"], store["unused_cache"]]
    going += [root / "runs" / r for r in (store["failed"], store["composition"][1])]
    expected = sum(folder_bytes(p) for p in going)
    result = invoke_tcdb("--db", str(store["db"]), "prune", "--keep", "1")
    assert result.returncode == 0, result.stderr
    assert f"freed 3.0 MiB ({expected:,} bytes) in 5 folder(s)" in result.stdout
    oldest, older, newest = store["composition"]
    for gone in (store["crashed"], store["stray"], store["unused_cache"]):
        assert not gone.exists(), gone
    for run_id in (older, store["failed"]):
        assert not (root / "runs" / run_id).exists()
        assert _status(store["db"], run_id) == "pruned"
    kept = (store["running"], store["used_cache"], store["cache"] / "notes", store["snapshot"])
    for folder in kept:
        assert folder.is_dir(), folder
    conn = connect(store["db"], read_only=True)
    try:
        for run_id, model in ((oldest, "composition"), (newest, "composition"),
                              (store["cvcnn"], "cvcnn")):  # fmt: skip
            verify_run(conn, run_id, model)
        assert resolve_run(root / "runs", conn, "latest", "composition").id == newest
    finally:
        conn.close()
    again = invoke_tcdb("--db", str(store["db"]), "prune", "--keep", "1")
    assert again.returncode == 0 and "Nothing to prune." in again.stdout


def test_every_cache_stays_when_a_kept_runs_snapshot_cannot_be_read(store):
    shutil.rmtree(store["snapshot"])
    result = invoke_tcdb("--db", str(store["db"]), "prune", "--keep", "3")
    assert result.returncode == 0, result.stderr
    assert "every feature cache stays" in result.stdout
    assert store["unused_cache"].is_dir() and store["used_cache"].is_dir()
    assert not store["crashed"].exists()


def test_keep_must_be_at_least_one(store):
    result = invoke_tcdb("--db", str(store["db"]), "prune", "--keep", "0")
    assert result.returncode == 2
    assert all(p.exists() for p in (store["crashed"], store["stray"]))


def test_a_finished_run_has_no_unfinished_mark_in_its_manifest(store):
    run_dir = store["db"].parent / "runs" / store["cvcnn"]
    manifest = json.loads((run_dir / MANIFEST).read_text())
    assert not (run_dir / UNFINISHED).exists() and UNFINISHED not in manifest["artefacts"]
    assert (store["running"] / UNFINISHED).read_text().strip().isdigit()
