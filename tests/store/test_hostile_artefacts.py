"""A FIFO or a link to /dev/zero where a snapshot or a run keeps a file: its manifest, a listed
file, the unfinished mark. Listing, verifying and pruning say so at once, never read it."""

from __future__ import annotations

import os

from tcdb.store.artifacts import filling_process, folder_problems
from tcdb.store.snapshots import list_snapshots, verify_snapshot
from tests.core.test_safe_reads import deadline


def test_a_snapshot_whose_manifest_is_a_fifo_is_listed_damaged_at_once(tmp_path):
    root = tmp_path / "snapshots"
    (root / "hydrides-abc").mkdir(parents=True)
    manifest = root / "hydrides-abc" / "manifest.json"
    os.mkfifo(manifest)
    with deadline(5):
        listed = list_snapshots(root)
        problems = verify_snapshot(root / "hydrides-abc")
    assert listed == [
        {"id": "hydrides-abc", "damaged": f"{manifest} is a FIFO, not a regular file"}
    ]
    assert problems == [f"{manifest} is a FIFO, not a regular file"]


def test_a_listed_file_that_became_a_device_or_a_fifo_differs_without_being_read(tmp_path):
    (tmp_path / "entries.parquet").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "structures.parquet")
    listed = {name: {"sha256": "0" * 64, "size": 10} for name in
              ("entries.parquet", "structures.parquet")}  # fmt: skip
    with deadline(5):
        problems = folder_problems(tmp_path, listed)
    assert {(p.name, p.what) for p in problems} == {
        ("entries.parquet", "missing"),
        ("structures.parquet", "missing"),
    }


def test_an_unfinished_mark_that_is_a_fifo_names_no_process(tmp_path):
    os.mkfifo(tmp_path / ".unfinished")
    with deadline(5):
        assert filling_process(tmp_path) is None
