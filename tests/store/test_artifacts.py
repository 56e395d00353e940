"""The artefact store both snapshots and model runs use: references, files, compatibility."""

from __future__ import annotations

import json
import shutil

import pytest

from tcdb.core.provenance import provenance_stamp
from tcdb.schema.database import connect
from tcdb.store.artifacts import (
    ArtifactError,
    ArtifactNotFoundError,
    Entry,
    folder_problems,
    resolve_reference,
)
from tcdb.store.model_runs import RunError, RunNotFoundError, finish_run, resolve_run, start_run
from tcdb.store.snapshots import (
    SnapshotError,
    load_snapshot,
    manifest_sha256,
    resolve,
    verify_snapshot,
)
from tests.commands import invoke_tcdb
from tests.conftest import query

ENTRIES = [
    Entry("ab12", ("first",), "2026-01-01T00:00:00"),
    Entry("ab34", ("second",), "2026-01-02T00:00:00"),
    Entry("cd56", ("first",), "2026-01-03T00:00:00"),
]


def test_a_reference_is_an_id_a_prefix_a_name_or_latest():
    assert resolve_reference("ab34", ENTRIES, "snapshot", "").id == "ab34"
    assert resolve_reference("cd", ENTRIES, "snapshot", "").id == "cd56"
    assert resolve_reference("first", ENTRIES, "snapshot", "").id == "cd56"  # the newest
    assert resolve_reference("latest", ENTRIES, "snapshot", "").id == "cd56"


def test_an_ambiguous_or_unknown_reference_names_what_exists():
    with pytest.raises(ArtifactNotFoundError, match=r"'ab' is the start of 2 snapshot ids "
                       r"\(ab34 \(second\), ab12 \(first\)\); give more"):  # fmt: skip
        resolve_reference("ab", ENTRIES, "snapshot", "")
    with pytest.raises(ArtifactNotFoundError) as caught:
        resolve_reference("zz", ENTRIES, "snapshot", "'tcdb snapshot list' shows them.")
    assert str(caught.value) == (
        "No snapshot 'zz'; snapshots there are: cd56 (first), ab34 (second), ab12 (first). "
        "'tcdb snapshot list' shows them."
    )
    with pytest.raises(ArtifactNotFoundError, match="there is no snapshot yet"):
        resolve_reference("latest", [], "snapshot", "")


def test_one_error_family_for_both_kinds():
    assert SnapshotError is RunError is ArtifactError
    assert issubclass(RunNotFoundError, ArtifactError)


def test_a_folder_is_checked_for_missing_changed_and_unlisted_files(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    (tmp_path / "b.bin").write_bytes(b"def")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "extra").write_bytes(b"")
    listed = {
        "a.bin": {"sha256": "0" * 64, "size": 3},
        "b.bin": {"sha256": "ignored when the size differs", "size": 4},
        "gone.bin": {"sha256": "0" * 64, "size": 1},
    }
    found = {(p.name, p.what) for p in folder_problems(tmp_path, listed)}
    assert found == {("a.bin", "changed"), ("b.bin", "changed"), ("gone.bin", "missing"),
                     ("sub/extra", "unlisted")}  # fmt: skip


# ---- snapshots through the store


@pytest.fixture
def snapshots(hydride_snapshot, structures_snapshot, tmp_path):
    root = tmp_path / "snapshots"
    for snapshot in (hydride_snapshot, structures_snapshot):
        shutil.copytree(snapshot.path, root / snapshot.id)
    return root


def test_snapshot_references_resolve_through_the_store(snapshots, hydride_snapshot):
    assert resolve(snapshots, hydride_snapshot.id[:6]).name == hydride_snapshot.id
    assert resolve(snapshots, "hydrides").name == hydride_snapshot.id  # its manifest's name
    with pytest.raises(SnapshotError, match=r"No snapshot 'nope'; snapshots there are: .*hydrides"):
        resolve(snapshots, "nope")


def test_a_file_added_to_a_snapshot_is_refused(snapshots, hydride_snapshot):
    (snapshots / hydride_snapshot.id / "extra.parquet").write_bytes(b"not frozen")
    assert verify_snapshot(snapshots / hydride_snapshot.id) == [
        "extra.parquet is not in the snapshot's manifest"
    ]
    with pytest.raises(SnapshotError, match=r"cannot be used: extra\.parquet is not in"):
        load_snapshot(snapshots, hydride_snapshot.id)


def test_snapshots_frozen_before_sizes_were_recorded_still_load(snapshots, hydride_snapshot):
    folder = snapshots / hydride_snapshot.id
    manifest = json.loads((folder / "manifest.json").read_text())
    assert all("size" in f for f in manifest["files"].values())
    for entry in manifest["files"].values():
        del entry["size"]
    manifest["manifest_sha256"] = manifest_sha256(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    assert load_snapshot(snapshots, hydride_snapshot.id).id == hydride_snapshot.id
    assert load_snapshot(snapshots, hydride_snapshot.id).id == manifest["id"]


def test_the_wrong_kind_of_snapshot_is_one_sentence(hydride_snapshot):
    with pytest.raises(SnapshotError, match=f"Snapshot {hydride_snapshot.id} is of kind "
                       "'hydrides', not 'structures'"):  # fmt: skip
        hydride_snapshot.require_kind("structures")


# ---- model runs through the store


def _run(db, root, model="composition"):
    run = start_run(model, "snapshot-x", {"n": 1}, 0, root)
    (run.path / "model.bin").write_bytes(b"weights")
    conn = connect(db)
    try:
        finish_run(conn, run)
    finally:
        conn.close()
    return run


def test_runs_written_before_the_store_still_verify(migrated_db, tmp_path):
    """A manifest as the earlier code wrote it (same fields, no unfinished mark) loads."""
    run = _run(migrated_db, tmp_path / "runs")
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert set(manifest) == {
        "id", "model", "snapshot_id", "profile", "seed", "config", "metrics", "notes",
        "library_versions", "code_revision", "tcdb_version", "started_at", "finished_at",
        "artefacts",
    }  # fmt: skip
    conn = connect(migrated_db, read_only=True)
    try:
        assert resolve_run(tmp_path / "runs", conn, run.id[:20], "composition").id == run.id
        with pytest.raises(RunError, match=f"Run {run.id} is a composition run, not cvcnn."):
            resolve_run(tmp_path / "runs", conn, run.id, "cvcnn")
        with pytest.raises(RunNotFoundError, match="No model run 'cvcnn-' is registered"):
            resolve_run(tmp_path / "runs", conn, "cvcnn-", "cvcnn")
    finally:
        conn.close()


def test_every_step_is_stamped_the_same_way(
    curated_template, hydride_snapshot, migrated_db, tmp_path
):
    stamp = provenance_stamp(libraries=True)
    expected = (stamp.tcdb_version, stamp.code_revision)
    for table in ("ingest_run", "curation_run", "snapshot"):
        rows = set(query(curated_template, f"SELECT tcdb_version, code_revision FROM {table}"))
        assert rows == {expected}, table
    frozen = hydride_snapshot.manifest
    assert (frozen["tcdb_version"], frozen["code_revision"]) == expected
    run = _run(migrated_db, tmp_path / "runs")
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert (manifest["tcdb_version"], manifest["code_revision"]) == expected
    assert manifest["library_versions"] == stamp.library_versions
    assert query(migrated_db, "SELECT tcdb_version, code_revision FROM model_run") == [expected]


def test_runs_list_show_and_verify(migrated_db, tmp_path):
    run = _run(migrated_db, tmp_path / "runs")
    db = str(migrated_db)
    listed = invoke_tcdb("--db", db, "runs", "list")
    assert listed.returncode == 0 and run.id in listed.stdout and "succeeded" in listed.stdout
    shown = invoke_tcdb("--db", db, "runs", "show", "composition")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["artefacts"]["model.bin"]["size"] == len(b"weights")
    assert invoke_tcdb("--db", db, "runs", "verify", "latest").stdout == f"{run.id}: intact\n"
    (run.path / "model.bin").write_bytes(b"swapped")
    refused = invoke_tcdb("--db", db, "runs", "verify", run.id)
    assert refused.returncode == 1
    assert "model.bin differs from its manifest" in refused.stderr
    assert "Traceback" not in refused.stderr
