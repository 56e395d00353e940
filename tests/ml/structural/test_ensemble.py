"""Ensembles of the structural model: members on one split from their own weight seeds, one
archive each, and a mean with a spread in every prediction path (training, predict, morphs,
the views); one-member runs keep what they were."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from tcdb.ml.structural.ensemble import mean_and_spread, member_file
from tcdb.ml.structural.parameters import CVCNN_PROFILES, MORPH
from tcdb.ml.structural.predictor import StructuralModel
from tcdb.schema.database import connect
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES, query

TINY = {"epochs": 2, "conv_filters": 4, "numerical_units": (16,), "head_units": (16,),
        "baseline_trees": "smoke"}  # fmt: skip
MGH13 = SOURCES / "reference" / "structures" / "MgH13_Fm-3m_200GPa.cif"


def test_the_spread_is_the_members_standard_deviation_and_none_for_one_network():
    values = np.array([[1.0, 10.0, 4.0], [3.0, 10.0, 8.0]])
    mean, spread = mean_and_spread(values)
    np.testing.assert_allclose(mean, values.mean(axis=0))
    np.testing.assert_allclose(spread, values.std(axis=0))
    alone, no_spread = mean_and_spread(values[:1])
    np.testing.assert_array_equal(alone, values[0])
    assert np.isnan(no_spread).all()  # not 0: one network says nothing of its uncertainty


def test_member_zero_keeps_the_one_network_names_and_the_profile_asks_for_five():
    assert [member_file(k) for k in range(3)] == ["model.keras", "model-1.keras", "model-2.keras"]
    assert member_file(2, "history", ".json") == "history-2.json"
    assert CVCNN_PROFILES["ensemble"] == {"epochs": 300, "members": 5}


@pytest.fixture(scope="module")
def ensemble(trained_models, structures_snapshot, tmp_path_factory):
    """A tiny two-member run beside the session's one-member run of the same configuration."""
    from tcdb.ml.contract import FitContext
    from tcdb.ml.registry import get
    from tcdb.ml.structural.cvcnn import CVCNNConfig
    from tcdb.ml.training import train
    from tcdb.store.model_runs import verify_run

    folder = tmp_path_factory.mktemp("ensemble")
    db = folder / "tcdb.duckdb"
    shutil.copy(trained_models.db, db)
    shutil.copytree(trained_models.db.parent / "cache", folder / "cache")  # features cached
    config = CVCNNConfig(**TINY, members=2)
    conn = connect(db)
    try:
        run = train(get("cvcnn"), conn, structures_snapshot, folder / "runs", config,
                    context=FitContext(folder / "cache", progress=False))  # fmt: skip
        return db, verify_run(conn, run.id, "cvcnn")
    finally:
        conn.close()


def test_two_members_give_two_archives_member_scores_and_a_stored_spread(ensemble):
    db, run = ensemble
    files = set(run.manifest["artefacts"])
    assert {"model.keras", "model-1.keras", "history.json", "history-1.json"} <= files
    assert "model-2.keras" not in files
    metrics = run.manifest["metrics"]
    assert metrics["members"] == 2 and len(metrics["member_validation"]) == 2
    assert metrics["validation_spread_mean_K"] > 0
    assert json.loads(run.read_bytes("history-1.json"))["weight_seed"] == 1
    n = metrics["validation"]["n"]
    assert all(m["n"] == n for m in metrics["member_validation"])  # one shared split
    spreads = query(db, "SELECT tc_std_K FROM prediction WHERE model_run_id = ?", run.id)
    assert len(spreads) == n and all(s is not None and s > 0 for (s,) in spreads)
    parity = run.read_parquet("validation_parity.parquet")
    assert np.mean(parity.predicted_std_K) == pytest.approx(metrics["validation_spread_mean_K"])


def test_member_zero_is_the_one_member_run_and_one_member_runs_store_no_spread(
    ensemble, trained_models
):
    from tcdb.ml.structural.cvcnn import load_model_bytes

    db, run = ensemble
    single = trained_models.cvcnn
    assert "model-1.keras" not in single.manifest["artefacts"]
    assert "members" not in single.manifest["metrics"]
    stored = query(db, "SELECT count(*), count(tc_std_K) FROM prediction WHERE model_run_id = ?",
                   single.id)[0]  # fmt: skip
    assert stored[0] > 0 and stored[1] == 0  # NULL, never 0
    first = load_model_bytes(run.read_bytes("model.keras"))
    alone = load_model_bytes(single.read_bytes("model.keras"))
    for mine, theirs in zip(first.get_weights(), alone.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_loaded_ensemble_predicts_the_members_mean_and_their_spread(ensemble):
    from tcdb.ml.structural.morphs import load_reference_file

    _, run = ensemble
    model = StructuralModel.load(run)
    assert model.members == 2
    structure = load_reference_file(MGH13).structure
    tc, spread, errors = model.predict([structure, structure * (2, 1, 1)], [225, 225])
    assert not errors and np.isfinite(tc).all() and (spread > 0).all()
    members = [dataclasses.replace(model, networks=[net]) for net in model.networks]
    alone = [m.predict([structure], [225]) for m in members]
    assert all(np.isnan(s).all() for _, s, _ in alone)
    np.testing.assert_allclose(tc[0], np.mean([t[0] for t, _, _ in alone]), rtol=1e-5)
    np.testing.assert_allclose(spread[0], np.std([t[0] for t, _, _ in alone]), rtol=1e-4)


def test_predict_and_morph_runs_store_the_spread_and_the_views_show_it(ensemble, tmp_path):
    from tcdb.cli.discovery import read_references
    from tcdb.ml.structural.morph_runs import run_family
    from tcdb.ml.structural.morphs import FAMILIES

    db = tmp_path / "tcdb.duckdb"
    shutil.copy(ensemble[0], db)
    run = ensemble[1]
    shutil.copy(MGH13, tmp_path / "MgH13.cif")
    shown = invoke_tcdb("--db", str(db), "predict", "--run", run.id, "--composition-run",
                        "none", str(tmp_path / "MgH13.cif"))  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    ((tc, spread),) = query(db, "SELECT tc_K, tc_std_K FROM structure_prediction")
    assert spread > 0 and f"{tc:.1f} ± {spread:.1f}" in shown.stdout

    family = FAMILIES["mgh13-xy"]
    params = dataclasses.replace(MORPH, scan_points=2)
    conn = connect(db)
    try:
        run_family(conn, StructuralModel.load(run), family, None, params, ["Li", "Na"],
                   progress=False, references=read_references(conn, family))  # fmt: skip
    finally:
        conn.close()
    morphs = query(db, "SELECT tc_std_K FROM morph_prediction WHERE model_run_id = ?", run.id)
    assert morphs and all(s > 0 for (s,) in morphs)
    peaks = query(db, "SELECT tc_peak_std_K FROM morph_top_candidates WHERE family = ?",
                  family.name)  # fmt: skip
    assert peaks and all(s > 0 for (s,) in peaks)


def test_a_two_member_smoke_run_through_the_command_line(grouped_ensemble):
    """`tcdb train cvcnn --profile smoke --members 2` (under the grouped protocol: the
    session's ``grouped_ensemble``)."""
    trained = grouped_ensemble.training
    ((config_json,),) = query(
        trained.db, "SELECT config_json FROM model_run WHERE id = ?", trained.run_id
    )
    assert json.loads(config_json)["cvcnn"]["members"] == 2
    assert "ensemble mean of 2 networks" in trained.stdout
    assert "members' own validation r²" in trained.stdout
    folder = trained.db.parent / "runs" / trained.run_id
    assert (folder / "model.keras").is_file() and (folder / "model-1.keras").is_file()
    spreads = query(
        trained.db, "SELECT tc_std_K FROM prediction WHERE model_run_id = ?", trained.run_id
    )
    assert spreads and all(s > 0 for (s,) in spreads)
