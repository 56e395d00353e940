"""Model runs load without running code: no pickle, no HDF5 posing as a .keras archive, no
module a Keras config names, and only runs the database registered, with the files it hashed.

Each attack writes a marker file if any of its code runs; every test asserts the marker never
appears and that a one-sentence error is raised instead."""

from __future__ import annotations

import functools
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tcdb.ml.boosted_trees import BoostedTrees
from tcdb.ml.composition.training import MODEL_FILE, load_model, tree_bytes
from tcdb.ml.composition_descriptors import CompositionDescriptorConfig
from tcdb.schema.database import connect
from tcdb.store.model_runs import (
    MANIFEST,
    RunError,
    RunIntegrityError,
    RunNotFoundError,
    artefact_list,
    finish_run,
    resolve_run,
    start_run,
    verify_run,
)
from tests.commands import invoke_tcdb


class _Payload:
    """Unpickling this runs ``exec`` on a statement that writes the marker."""

    def __init__(self, marker: Path) -> None:
        self.statement = f"open({str(marker)!r}, 'w').write('ran')"

    def __reduce__(self):
        import builtins

        return builtins.exec, (self.statement,)


def _pickle_payload(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "code-ran.txt"


@functools.cache
def _fitted_trees(seed: int = 0):
    """Tiny trees and their inputs, fitted once per session (no test changes them): a fit per
    test cost 0.5-10 s, as the cores were idle or busy."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 81))
    X[rng.random(X.shape) < 0.03] = np.nan  # missing values take the side learnt in fit
    y = np.nansum(X[:, :4], axis=1) + rng.normal(scale=0.1, size=len(X))
    model = HistGradientBoostingRegressor(max_iter=30, max_depth=6, min_samples_leaf=1,
                                          max_features=0.5, early_stopping=False,
                                          random_state=seed).fit(X, y)  # fmt: skip
    return model, X


@pytest.fixture
def composition_run(migrated_db, tmp_path):
    """A registered composition run (tiny trees), its fitted estimator and inputs."""
    model, X = _fitted_trees()
    config = {"descriptors": CompositionDescriptorConfig().as_dict()}
    run = start_run("composition", "snapshot-x", config, 0, tmp_path / "runs")
    (run.path / MODEL_FILE).write_bytes(tree_bytes(model, X))
    (run.path / "notes").mkdir()
    (run.path / "notes" / "extra.json").write_text("{}")
    conn = connect(migrated_db)
    try:
        finish_run(conn, run)
    finally:
        conn.close()
    return run, model, X


def _verify(db: Path, run_id: str, model: str = "composition"):
    conn = connect(db, read_only=True)
    try:
        return verify_run(conn, run_id, model)
    finally:
        conn.close()


# ---- the composition model's new format


def test_saved_trees_predict_exactly_as_the_fitted_model(migrated_db, composition_run):
    run, model, X = composition_run
    trees = load_model(_verify(migrated_db, run.id))
    rng = np.random.default_rng(1)
    fresh = rng.normal(size=(300, 81))
    fresh[rng.random(fresh.shape) < 0.1] = np.nan
    for inputs in (X, fresh):
        assert np.array_equal(trees.predict(inputs), model.predict(inputs))


def test_the_manifest_lists_every_artefact_and_the_row_holds_its_hash(migrated_db, composition_run):
    run, _, _ = composition_run
    manifest = json.loads((run.path / MANIFEST).read_text())
    assert set(manifest["artefacts"]) == {MODEL_FILE, "notes/extra.json"}
    assert manifest["artefacts"] == artefact_list(run.path)
    checked = _verify(migrated_db, run.id)
    import hashlib

    assert checked.manifest_sha256 == hashlib.sha256((run.path / MANIFEST).read_bytes()).hexdigest()


# ---- pickle


def test_a_pickle_in_an_unregistered_run_folder_never_runs(migrated_db, tmp_path, marker):
    """The attack of the issue: a crafted folder under runs/ with a consistent manifest."""
    evil = tmp_path / "runs" / "composition-evil"
    evil.mkdir(parents=True)
    (evil / "model.pkl").write_bytes(_pickle_payload(marker))
    (evil / MODEL_FILE).write_bytes(_pickle_payload(marker))
    manifest = {"id": evil.name, "model": "composition", "artefacts": artefact_list(evil),
                "config": {"descriptors": CompositionDescriptorConfig().as_dict()}}  # fmt: skip
    (evil / MANIFEST).write_text(json.dumps(manifest))
    conn = connect(migrated_db, read_only=True)
    try:
        with pytest.raises(RunNotFoundError, match="is registered in the database"):
            resolve_run(tmp_path / "runs", conn, evil.name, "composition")
        with pytest.raises(RunNotFoundError, match="No composition run yet"):
            resolve_run(tmp_path / "runs", conn, "latest", "composition")
    finally:
        conn.close()
    assert not marker.exists()


def test_a_pickle_swapped_into_a_registered_run_never_runs(migrated_db, composition_run, marker):
    run, _, _ = composition_run
    (run.path / MODEL_FILE).write_bytes(_pickle_payload(marker))
    with pytest.raises(RunIntegrityError, match=f"{MODEL_FILE} differs from its manifest"):
        _verify(migrated_db, run.id)
    assert not marker.exists()


def test_the_tree_reader_refuses_pickles_even_past_the_hash_check(marker):
    with pytest.raises(ValueError):
        BoostedTrees.from_bytes(_pickle_payload(marker))
    buffer = io.BytesIO()  # an .npz whose array holds a pickled object
    np.savez(buffer, meta=np.array([_Payload(marker)], dtype=object))
    with pytest.raises(ValueError):
        BoostedTrees.from_bytes(buffer.getvalue())
    assert not marker.exists()


def test_tree_arrays_that_would_loop_or_read_outside_are_refused():
    from tcdb.ml.boosted_trees import TreeFormatError, export

    model, _ = _fitted_trees()

    trees = export(model)
    looped = trees.left.copy()
    looped[trees.roots[0]] = trees.roots[0]  # the root is its own child
    with pytest.raises(TreeFormatError, match="do not form trees"):
        BoostedTrees(**{**trees.__dict__, "left": looped}).validate()
    outside = trees.right.copy()
    outside[trees.roots[0]] = 10**9
    with pytest.raises(TreeFormatError, match="outside"):
        BoostedTrees(**{**trees.__dict__, "right": outside}).validate()


# ---- the run's registration, manifest and files


def test_a_tampered_artefact_byte_is_refused(migrated_db, composition_run):
    run, _, _ = composition_run
    data = bytearray((run.path / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (run.path / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(RunIntegrityError, match="differs from its manifest"):
        _verify(migrated_db, run.id)


def test_a_file_changed_after_the_check_is_refused_when_read(migrated_db, composition_run):
    run, _, _ = composition_run
    checked = _verify(migrated_db, run.id)
    (run.path / MODEL_FILE).write_bytes(b"PK\x03\x04 swapped after the check")
    with pytest.raises(RunIntegrityError, match="differs from its manifest"):
        load_model(checked)


def test_a_tampered_manifest_is_refused(migrated_db, composition_run):
    """A manifest rewritten to list the attacker's own files, consistently hashed."""
    run, _, _ = composition_run
    (run.path / MODEL_FILE).write_bytes(b"attacker's trees")
    manifest = json.loads((run.path / MANIFEST).read_text())
    manifest["artefacts"] = artefact_list(run.path)
    (run.path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    with pytest.raises(RunIntegrityError, match="differs from the SHA-256 recorded"):
        _verify(migrated_db, run.id)


def test_a_file_not_in_the_manifest_is_refused(migrated_db, composition_run):
    run, _, _ = composition_run
    (run.path / "model.pkl").write_bytes(b"not listed")
    with pytest.raises(RunIntegrityError, match=r"model\.pkl is not in the run's manifest"):
        _verify(migrated_db, run.id)


def test_a_run_recorded_without_hashes_is_refused(migrated_db, composition_run):
    run, _, _ = composition_run
    conn = connect(migrated_db)
    try:
        conn.execute("UPDATE model_run SET manifest_sha256 = NULL WHERE id = ?", [run.id])
    finally:
        conn.close()
    with pytest.raises(RunIntegrityError, match="without artefact hashes"):
        _verify(migrated_db, run.id)


def test_latest_is_the_newest_registered_run_not_the_newest_folder(
    migrated_db, composition_run, tmp_path
):
    run, _, _ = composition_run
    newer = tmp_path / "runs" / "composition-29991231T235959000000-ffffffff"
    shutil.copytree(run.path, newer)
    manifest = json.loads((newer / MANIFEST).read_text())
    (newer / MANIFEST).write_text(json.dumps({**manifest, "id": newer.name}))
    conn = connect(migrated_db, read_only=True)
    try:
        assert resolve_run(tmp_path / "runs", conn, "latest", "composition").id == run.id
        with pytest.raises(RunError, match="not cvcnn"):
            resolve_run(tmp_path / "runs", conn, run.id, "cvcnn")
    finally:
        conn.close()


# ---- Keras: only .keras zip archives, only this network's objects, safe mode


@pytest.fixture(scope="module")
def lambda_model():
    """A tiny Keras model whose Lambda layer writes the marker named by the test, once run."""

    def build(marker: Path):
        from tcdb.ml.tensorflow_runtime import tensorflow

        tf = tensorflow()
        code = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x)[1]"
        inputs = tf.keras.Input(shape=(2,))
        outputs = tf.keras.layers.Lambda(eval(code))(inputs)  # the attack itself
        return tf.keras.Model(inputs, outputs)

    return build


def test_an_hdf5_file_named_model_keras_is_refused_before_any_loader(
    tmp_path, marker, lambda_model
):
    from tcdb.ml.structural.cvcnn import ModelFileError
    from tcdb.ml.structural.cvcnn import load_model as load_network

    legacy = tmp_path / "legacy.h5"
    lambda_model(marker).save(legacy, save_format="h5")
    marker.unlink(missing_ok=True)  # building the model ran the lambda once
    disguised = tmp_path / "model.keras"
    shutil.copy(legacy, disguised)
    with pytest.raises(ModelFileError, match="is an HDF5 file"):
        load_network(disguised)
    with pytest.raises(ModelFileError, match=r"only \.keras archives"):
        load_network(legacy)
    assert not marker.exists()


def test_a_keras_archive_with_a_lambda_layer_is_refused(tmp_path, marker, lambda_model):
    from tcdb.ml.structural.cvcnn import ModelFileError
    from tcdb.ml.structural.cvcnn import load_model as load_network

    path = tmp_path / "model.keras"
    lambda_model(marker).save(path)
    marker.unlink(missing_ok=True)
    with pytest.raises(ModelFileError, match="'Lambda'"):
        load_network(path)
    assert not marker.exists()


def test_a_keras_archive_naming_an_importable_module_is_refused(tmp_path, marker, monkeypatch):
    """tf-keras's safe mode imports any module a config names; the allow-list stops it first."""
    from tcdb.ml.structural.cvcnn import ModelFileError
    from tcdb.ml.structural.cvcnn import load_model as load_network

    (tmp_path / "tcdb_evil_module.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {"module": "tcdb_evil_module", "class_name": "Anything", "config": {},
              "registered_name": "Anything"}  # fmt: skip
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "2.21.0"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")
    with pytest.raises(ModelFileError, match="'tcdb_evil_module'"):
        load_network(path)
    assert not marker.exists()


# ---- the commands


def test_predict_and_screen_refuse_crafted_run_folders_with_one_sentence(
    models_db, trained_models, tmp_path
):
    marker = tmp_path / "code-ran.txt"
    evil = models_db.parent / "runs" / "composition-evil"
    evil.mkdir(parents=True)
    (evil / "model.pkl").write_bytes(_pickle_payload(marker))
    (evil / MANIFEST).write_text(json.dumps({"id": evil.name, "model": "composition"}))
    structure = tmp_path / "NaCl.json"
    from pymatgen.core import Lattice, Structure

    nacl = Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    structure.write_text(json.dumps([{"name": "NaCl", "structure": nacl.as_dict()}]))
    commands = [["predict", str(structure), "--no-store", option, evil.name]
                for option in ("--composition-run", "--run")]  # fmt: skip
    commands.append(["screen", "hydrides", "--run", evil.name])
    for command in commands:
        result = invoke_tcdb("--db", str(models_db), *command)
        assert result.returncode == 1, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: No model run") and "is registered in the database" in last
        assert "Traceback" not in result.stderr
    assert not marker.exists()
