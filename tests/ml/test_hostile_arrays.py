"""An ``.npz`` whose array header claims 7 TiB: numpy would try to allocate it (a
MemoryError, or memory the machine does not have). Every reader of ``.npz`` artefacts checks
the headers first and refuses with one sentence: the composition trees, the hydride ensemble,
``VerifiedRun.read_npz`` and the feature cache (which is then recomputed)."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from tcdb.core.errors import TcdbError
from tcdb.ml import structure_features as sf
from tcdb.ml.boosted_trees import TreeFormatError, unpack
from tcdb.ml.composition.training import MODEL_FILE, load_model
from tcdb.ml.hydride.training import load as load_hydride_run
from tcdb.store.model_runs import RunIntegrityError, VerifiedRun, sha256_of
from tests.core.test_safe_reads import TIB, npz_claiming

SEVEN_TIB = npz_claiming((7 * TIB // 8,))
CLAIM = "claims shape (962072674304,) of float64 (7,696,581,394,432 bytes) but holds 16 bytes"


def crafted_run(folder, run_id: str, model: str, files: dict[str, bytes]) -> VerifiedRun:
    """A run whose manifest lists ``files`` with their true hashes and sizes: what an attacker
    who could also write the database row would have (the hash checks all pass)."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = {}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        listed[name] = {"sha256": sha256_of(data), "size": len(data)}
    manifest = {"id": run_id, "model": model, "artefacts": listed, "config": {}}
    return VerifiedRun(run_id, model, folder, manifest, "recorded")


def test_the_composition_trees_refuse_a_7_tib_header(tmp_path):
    with pytest.raises(TreeFormatError, match=CLAIM.replace("(", r"\(").replace(")", r"\)")):
        unpack(SEVEN_TIB)
    run = crafted_run(tmp_path / "run", "composition-x", "composition", {MODEL_FILE: SEVEN_TIB})
    with pytest.raises(TcdbError) as refused:
        load_model(run)
    assert str(refused.value) == (
        f"Run composition-x: {MODEL_FILE} is not a valid tree archive (the tree archive: array "
        f"'w0.npy' {CLAIM})."
    )


def test_read_npz_refuses_a_7_tib_header_naming_the_run_and_artefact(tmp_path):
    run = crafted_run(tmp_path / "run", "cvcnn-x", "cvcnn", {"scaling.npz": SEVEN_TIB})
    with pytest.raises(RunIntegrityError) as refused:
        run.read_npz("scaling.npz")
    assert str(refused.value) == (
        f"Run cvcnn-x: artefact scaling.npz: array 'w0.npy' {CLAIM}; the run is refused."
    )


def test_the_hydride_ensemble_refuses_a_7_tib_history_before_building_its_network(
    hydride_run, tmp_path
):
    folder = tmp_path / "run"
    shutil.copytree(hydride_run.db.parent / "runs" / hydride_run.run_id, folder)
    (folder / "ensemble" / "history.npz").write_bytes(SEVEN_TIB)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["artefacts"]["ensemble/history.npz"] = {
        "sha256": sha256_of(SEVEN_TIB),
        "size": len(SEVEN_TIB),
    }
    run = VerifiedRun(hydride_run.run_id, "hydride-mlp", folder, manifest, "recorded")
    with pytest.raises(TcdbError) as refused:
        load_hydride_run(run)
    assert str(refused.value) == (
        f"Run {hydride_run.run_id}: the ensemble was not loaded: history.npz: array 'w0.npy' "
        f"{CLAIM}."
    )


def test_a_feature_cache_claiming_7_tib_is_ignored_and_recomputed(tmp_path, caplog):
    path = tmp_path / "features.npz"
    path.write_bytes(SEVEN_TIB)
    with caplog.at_level(logging.WARNING, logger=sf.__name__):
        assert sf._load(path, np.array(["a"]), sf.FeatureConfig()) is None
    assert CLAIM in caplog.text and "recomputing" in caplog.text
