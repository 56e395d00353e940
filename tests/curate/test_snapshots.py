"""Frozen snapshots: stable content-hash ids, verification, held-out compositions, policies."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from curate.run import run_curation
from curate.snapshots import (
    SnapshotError,
    create_snapshot,
    diff_snapshots,
    load_snapshot,
    verify_snapshot,
)
from schema.database import connect
from tcdb.parameters import SnapshotParameters


def freeze(db, root, name="s", **params):
    conn = connect(db)
    try:
        return create_snapshot(conn, name, SnapshotParameters(**params), root)
    finally:
        conn.close()


def test_structures_snapshot_holds_labelled_structures(curated_db, tmp_path):
    snapshot = freeze(curated_db, tmp_path, kind="structures")
    structures = snapshot.structures
    assert len(structures) > 0
    assert structures["label_tc_K"].notna().all()
    assert set(structures["match_method"]) <= {"exact_reduced", "literature_file"}
    assert {"supercon", "literature"} == set(structures["origin"])
    assert snapshot.manifest["counts"]["structures"] == len(structures)
    assert "nims_supercon" in snapshot.manifest["sources"]


def test_hydrides_snapshot_holds_binary_hydrides_without_retracted_or_predictions(
    curated_db, tmp_path
):
    entries = freeze(curated_db, tmp_path, kind="hydrides").entries
    assert len(entries) > 50
    assert entries["element"].notna().all() and (entries["n_h"] > 0).all()
    assert set(entries["method"]) <= {"experiment", "dft_harmonic", "dft_anharmonic"}
    assert not entries["flags"].fillna("").str.contains("RETRACTED").any()


def test_the_same_inputs_and_parameters_give_the_same_id(curated_db, tmp_path):
    first = freeze(curated_db, tmp_path / "a", kind="structures")
    conn = connect(curated_db)
    try:
        run_curation(conn, force=True)  # a second pass over the same data
    finally:
        conn.close()
    second = freeze(curated_db, tmp_path / "b", name="other name", kind="structures")
    assert first.id == second.id
    assert load_snapshot(tmp_path / "b", "other name").id == first.id  # the name finds it
    other = freeze(curated_db, tmp_path / "c", kind="structures", high_variance_policy="exclude")
    assert other.id != first.id


def test_curating_unchanged_inputs_again_writes_nothing(curated_db):
    conn = connect(curated_db)
    try:
        before = conn.execute("SELECT count(*) FROM composition_group").fetchone()
        latest = conn.execute(
            "SELECT id FROM curation_run ORDER BY started_at DESC LIMIT 1"
        ).fetchone()[0]
        assert run_curation(conn) == latest
        assert conn.execute("SELECT count(*) FROM composition_group").fetchone() == before
    finally:
        conn.close()


def test_a_tampered_file_is_refused(curated_db, tmp_path):
    snapshot = freeze(curated_db, tmp_path, kind="hydrides")
    path = snapshot.path / "entries.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    assert "entries.parquet has changed" in verify_snapshot(snapshot.path)[0]
    with pytest.raises(SnapshotError, match="cannot be used"):
        load_snapshot(tmp_path, snapshot.id)


def test_an_edited_manifest_is_refused(curated_db, tmp_path):
    snapshot = freeze(curated_db, tmp_path, kind="hydrides")
    manifest_path = snapshot.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["parameters"]["include_flagged"] = True
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="id does not match"):
        load_snapshot(tmp_path, snapshot.id)


def test_held_out_compositions_leave_no_trace(curated_db, tmp_path):
    full = freeze(curated_db, tmp_path / "full", kind="structures")
    target = full.structures["reduced_formula"].iloc[0]
    material = full.structures["material_id"].iloc[0]
    held = freeze(curated_db, tmp_path / "held", kind="structures", exclude_formulas=(target,))
    assert material not in set(held.entries["material_id"])
    assert material not in set(held.structures["material_id"])
    assert held.manifest["held_out_materials"] == [material]


def test_policies_change_the_labels_and_diff_says_how(curated_db, tmp_path):
    average = freeze(curated_db, tmp_path, name="avg", kind="structures")
    exclude = freeze(curated_db, tmp_path, name="exc", kind="structures",
                     high_variance_policy="exclude")  # fmt: skip
    keep = freeze(curated_db, tmp_path, name="all", kind="structures",
                  high_variance_policy="keep-all")  # fmt: skip
    n_high = int(average.entries["high_variance"].sum())
    assert n_high > 0
    assert len(exclude.entries) == len(average.entries) - n_high
    assert len(keep.entries) > len(average.entries)
    diff = diff_snapshots(average, exclude)
    assert diff["parameters"] == {"high_variance_policy": ("average", "exclude")}
    assert len(diff["removed"]) == n_high and not diff["added"]
