"""The composition baseline: grouped cross-validation, a recorded run, identical reloads, and
stored boosters that are loaded only as hashed and only once checked."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tcdb.core.errors import TcdbError
from tcdb.curate.parameters import SnapshotParameters
from tcdb.curate.snapshots import create_snapshot
from tcdb.ml.composition.parameters import COMPOSITION_PROFILES
from tcdb.ml.composition.training import (
    CompositionModelConfig,
    composition_data,
    composition_prediction_rows,
    load_model,
    predict_compositions,
)
from tcdb.schema.database import connect
from tcdb.store.model_runs import RunIntegrityError, sha256_of, verify_run

SMOKE = CompositionModelConfig(**COMPOSITION_PROFILES["smoke"])


def test_the_models_own_folds_never_share_a_composition_and_test_every_row_once(
    structures_snapshot,
):
    """The split training uses (``protocol_splits`` under the default protocol): no
    composition on both sides of a fold, every row tested in exactly one fold and trained on
    in the others, the same folds for the same seed and other folds for another."""
    from tcdb.ml.composition.training import protocol_splits

    data = composition_data(structures_snapshot)
    config = replace(SMOKE, folds=10)
    splits, described = protocol_splits(config, data, "snapshot")
    groups = data.entries["material_id"].to_numpy()
    rows = np.arange(len(groups))
    assert described == {"protocol": "grouped-by-composition", "folds": 10, "seed": config.seed}
    assert len(splits) == 10
    for train, test in splits:
        assert len(test) and not set(groups[train]) & set(groups[test])
        assert np.array_equal(np.sort(np.concatenate([train, test])), rows)
    assert np.array_equal(np.sort(np.concatenate([test for _, test in splits])), rows)

    again, _ = protocol_splits(config, data, "snapshot")
    assert all(np.array_equal(a, b) for split, same in zip(splits, again, strict=True)
               for a, b in zip(split, same, strict=True))  # fmt: skip
    other, _ = protocol_splits(replace(config, seed=config.seed + 1), data, "snapshot")
    assert any(not np.array_equal(s[1], o[1]) for s, o in zip(splits, other, strict=True))


def test_tcdb_train_composition_records_a_run_with_a_spread_and_reloads_identically(
    trained_models, structures_snapshot
):
    """The session's `tcdb train composition --profile smoke` (``trained_models``): what it
    printed, recorded and stored."""
    stdout = trained_models.composition_stdout
    assert "descriptors hamidieh81+fractions+magpie, method search" in stdout
    assert "within ±1σ" in stdout
    run_id = re.search(r"model run (\S+) on snapshot", stdout).group(1)
    assert run_id == trained_models.composition.id
    conn = connect(trained_models.db, read_only=True)
    try:
        checked = verify_run(conn, run_id, "composition")
        n_predictions, n_spread = conn.execute(
            "SELECT count(*), count(tc_std_K) FROM prediction WHERE model_run_id = ?", [run_id]
        ).fetchone()
    finally:
        conn.close()
    cv = checked.manifest["metrics"]["cross_validation"]
    assert cv["n"] == n_predictions == n_spread > 1000  # every out-of-fold row has a spread
    assert (cv["protocol"], cv["folds"], cv["seed"]) == ("grouped-by-composition", 3, 0)
    assert cv["r2"] > 0.5  # far better than the mean, even with the tiny smoke settings
    spread = checked.manifest["metrics"]["uncertainty"]
    assert spread["n"] == cv["n"] and 0.3 < spread["within_1_sigma"] < 0.99
    manifest = json.loads((checked.path / "manifest.json").read_text())
    assert manifest["snapshot_id"] == structures_snapshot.id
    assert manifest["config"]["descriptors"]["preset"] == "hamidieh81+fractions+magpie"
    inner = manifest["notes"]["inner_search"]
    assert len(inner["outer_folds"]) == 3 and inner["final_model"]["max_leaf_nodes"] in (7, 15)
    assert {"member_0.txt", "member_1.txt", "model.npz", "out_of_fold.parquet"} == set(
        checked.manifest["artefacts"]
    )
    oof = pd.read_parquet(checked.path / "out_of_fold.parquet")
    assert (oof["oof_tc_std_K"] > 0).all()
    data = composition_data(structures_snapshot, preset=SMOKE.descriptors)
    model = load_model(checked)
    assert len(model.members) == 2 and model.scale is not None
    first = model.predict(data.X[:50])
    assert np.array_equal(first, load_model(checked).predict(data.X[:50]))
    predicted, errors = predict_compositions(checked, [{"La": 2, "Cu": 1, "O": 4}, {"Xx": 1}])
    assert np.isfinite(predicted[0]) and np.isnan(predicted[1])
    assert 1 in errors
    (row,) = composition_prediction_rows(checked, ["MgB2"])
    assert row["subject_kind"] == "composition" and row["tc_std_K"] > 0


def test_a_hydrides_snapshot_is_refused(curated_db, tmp_path):
    from tcdb.core.errors import TcdbError

    conn = connect(curated_db)  # a copy: freezing writes to the database
    try:
        hydrides = create_snapshot(conn, "h", SnapshotParameters(kind="hydrides"), tmp_path)
    finally:
        conn.close()
    with pytest.raises(TcdbError, match="not 'structures'"):
        composition_data(hydrides)


# ---- the stored boosters: what the manifest hashed, checked before LightGBM parses it


@pytest.fixture
def run_copy(trained_models, tmp_path):
    """The session's composition run, copied so that its files can be tampered with."""
    run = trained_models.composition
    folder = tmp_path / run.id
    shutil.copytree(run.path, folder)
    return replace(run, path=folder)


def test_the_stored_boosters_are_lightgbm_text_and_predict_as_saved(run_copy):
    import lightgbm

    model = load_model(run_copy)
    assert all(isinstance(m, lightgbm.Booster) for m in model.members)
    text = (run_copy.path / "member_0.txt").read_text()
    assert text.startswith("tree\nversion=v4\n") and "\nend of trees\n" in text
    rows = np.random.default_rng(0).normal(size=(40, model.members[0].num_feature()))
    assert np.array_equal(model.predict(rows), load_model(run_copy).predict(rows))


def test_a_tampered_booster_text_is_refused_by_the_manifest_hash(run_copy):
    path = run_copy.path / "member_1.txt"
    text = path.read_text()
    path.write_text(text.replace("\nshrinkage=1\n", "\nshrinkage=2\n", 1))  # same size
    assert path.read_text() != text
    with pytest.raises(
        RunIntegrityError, match=r"artefact member_1\.txt differs from its manifest"
    ):
        load_model(run_copy)


def _registered(run, name: str, data: bytes):
    """The run with ``name`` replaced by ``data`` and a manifest hashing it: what an attacker
    who could also write the database row would hold."""
    (run.path / name).write_bytes(data)
    listed = {**run.manifest["artefacts"], name: {"sha256": sha256_of(data), "size": len(data)}}
    return replace(run, manifest={**run.manifest, "artefacts": listed})


TRUNCATED = "the text has no 'end of trees' line (truncated?)"


@pytest.mark.parametrize(
    ("craft", "reason"),
    [
        (lambda text: text[: len(text) // 3], TRUNCATED),
        (lambda text: "garbage\n" * 100, TRUNCATED),
        (
            lambda text: re.sub(r"left_child=-?\d+", "left_child=0", text, count=1),
            "tree 0: the children do not form one tree",
        ),
    ],
    ids=["truncated", "garbage", "the root its own child"],
)
def test_a_hostile_booster_text_with_a_matching_hash_is_one_sentence(run_copy, craft, reason):
    """Handed to LightGBM as they are, the truncated text aborts the process and the root
    that is its own child loops forever once a row is predicted."""
    text = (run_copy.path / "member_0.txt").read_text()
    run = _registered(run_copy, "member_0.txt", craft(text).encode())
    with pytest.raises(TcdbError) as refused:
        load_model(run)
    assert str(refused.value) == (
        f"Run {run.id}: member_0.txt is not a valid LightGBM model ({reason})."
    )


def test_a_booster_text_larger_than_the_limit_is_refused_before_it_is_read(run_copy):
    listed = dict(run_copy.manifest["artefacts"])
    listed["member_0.txt"] = {**listed["member_0.txt"], "size": 1 << 40}
    run = replace(run_copy, manifest={**run_copy.manifest, "artefacts": listed})
    limit = r"gives it 1,099,511,627,776 bytes, more than BOOSTER_TEXT_MAX_BYTES \(134,217,728\)\)"
    with pytest.raises(TcdbError, match=limit):
        load_model(run)
