"""Frozen snapshots: stable content-hash ids, verification, held-out compositions, policies."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tcdb.curate.parameters import SnapshotParameters
from tcdb.curate.run import run_curation
from tcdb.curate.snapshots import create_snapshot
from tcdb.schema.database import connect
from tcdb.store.snapshots import (
    SnapshotError,
    diff_snapshots,
    load_snapshot,
    verify_snapshot,
)


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


# ---- every field of the manifest is covered by its hash


def _edit(manifest_path, change):
    manifest = json.loads(manifest_path.read_text())
    change(manifest)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


EDITS = {
    "name": lambda m: m.update(name="published-results"),
    "counts": lambda m: m["counts"].update(entries=m["counts"]["entries"] + 100),
    "curation_run_id": lambda m: m.update(curation_run_id="cur-forged"),
    "sources": lambda m: next(iter(m["sources"].values())).update(sha256="0" * 64),
    "held_out_materials": lambda m: m["held_out_materials"].append("mat-forged"),
    "created_at": lambda m: m.update(created_at="2020-01-01T00:00:00Z"),
}


@pytest.fixture
def hydrides_copy(hydride_snapshot, tmp_path):
    """A private copy of the session's hydrides snapshot, to edit."""
    import shutil

    shutil.copytree(hydride_snapshot.path, tmp_path / hydride_snapshot.id)
    return tmp_path / hydride_snapshot.id


@pytest.mark.parametrize("field", sorted(EDITS))
def test_a_manifest_edited_in_any_field_is_refused(hydrides_copy, field):
    assert verify_snapshot(hydrides_copy) == []
    _edit(hydrides_copy / "manifest.json", EDITS[field])
    [problem] = verify_snapshot(hydrides_copy)
    assert "the manifest was edited" in problem
    with pytest.raises(SnapshotError, match="cannot be used: the manifest was edited"):
        load_snapshot(hydrides_copy.parent, hydrides_copy.name)


def test_a_manifest_edited_with_a_recomputed_hash_differs_from_the_database(curated_db, tmp_path):
    from tcdb.store.snapshots import manifest_sha256

    snapshot = freeze(curated_db, tmp_path, kind="hydrides")
    assert load_snapshot(tmp_path, snapshot.id, db=curated_db).id == snapshot.id

    def forge(m):
        m["name"] = "forged"
        m["manifest_sha256"] = manifest_sha256(m)

    _edit(snapshot.path / "manifest.json", forge)
    assert verify_snapshot(snapshot.path) == []  # self-consistent on its own...
    with pytest.raises(SnapshotError, match="differs from the one the database recorded"):
        load_snapshot(tmp_path, snapshot.id, db=curated_db)  # ...but not what was frozen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"id": "x"}', "lacks the field"),
        ("", "is not JSON"),
    ],
)
def test_a_manifest_that_is_not_one_is_one_sentence_and_listed_as_damaged(
    hydrides_copy, text, message
):
    import shutil

    from tcdb.store.snapshots import list_snapshots

    root = hydrides_copy.parent
    shutil.copytree(hydrides_copy, root / "0000intactcopy")  # another folder, left intact
    (hydrides_copy / "manifest.json").write_text(text)
    [problem] = verify_snapshot(hydrides_copy)
    assert message in problem and "manifest.json" in problem
    with pytest.raises(SnapshotError, match=message):
        load_snapshot(root, hydrides_copy.name)
    damaged, intact = [], []
    for m in list_snapshots(root):
        (damaged if "damaged" in m else intact).append(m)
    assert [m["id"] for m in damaged] == [hydrides_copy.name]
    assert message in damaged[0]["damaged"]
    assert [m["kind"] for m in intact] == ["hydrides"]


def test_freezing_again_over_a_damaged_folder_sets_it_aside(curated_db, tmp_path):
    snapshot = freeze(curated_db, tmp_path, kind="hydrides")
    (snapshot.path / "manifest.json").write_text("{broken")
    again = freeze(curated_db, tmp_path, kind="hydrides")
    assert again.id == snapshot.id and verify_snapshot(again.path) == []
    assert (tmp_path / f".damaged-{snapshot.id}-1" / "manifest.json").read_text() == "{broken"


def test_a_snapshot_with_no_entries_refuses_to_train_before_any_run_folder(curated_db, tmp_path):
    from tcdb.ml.registry import get
    from tcdb.ml.training import train

    empty = freeze(curated_db, tmp_path / "snapshots", kind="hydrides", literature_methods=())
    assert empty.manifest["counts"]["entries"] == 0
    conn = connect(curated_db)
    try:
        with pytest.raises(SnapshotError, match="holds 0 entries"):
            train(get("hydride-mlp"), conn, empty, tmp_path / "runs")
    finally:
        conn.close()
    assert not (tmp_path / "runs").exists()


def test_a_negative_or_nan_variance_cutoff_is_refused():
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="must be >= 0"):
            SnapshotParameters(kind="structures", variance_cutoff_K2=bad)
