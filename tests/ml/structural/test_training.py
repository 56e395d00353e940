"""The structural model from a frozen structures snapshot: a recorded run on a seeded split,
validation predictions in the database, and a saved model that reloads identically."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from tcdb.ml import metrics
from tcdb.ml.structural.baselines import BASELINES
from tests.commands import invoke_tcdb
from tests.conftest import query


def test_a_small_seeded_run_is_recorded_and_reloads(trained_models, structures_snapshot):
    """The session's tiny two-epoch network (``trained_models``): its record, its validation
    predictions in the database, its features cached and its archive reloading identically."""
    from tcdb.ml.structural.cvcnn import load_model

    run = trained_models.cvcnn
    manifest = json.loads((run.path / "manifest.json").read_text())
    recorded_metrics, notes = manifest["metrics"], manifest["notes"]
    assert manifest["snapshot_id"] == structures_snapshot.id
    assert manifest["config"]["cvcnn"]["epochs"] == 2
    validation = recorded_metrics["validation"]
    assert np.isfinite(validation["rmse_K"]) and validation["n"] >= 2
    assert (validation["protocol"], validation["validation_fraction"]) == ("paper", 0.2)
    assert validation["optimistic"] and validation["part"] == "validation"
    assert "test" not in recorded_metrics
    # every baseline predicts the same rows the model is scored on, under the same protocol
    parity = pd.read_parquet(run.path / "validation_parity.parquet")
    assert set(recorded_metrics["baselines"]) == set(BASELINES)
    for name, scored in recorded_metrics["baselines"].items():
        assert (scored["protocol"], scored["part"], scored["n_validation"]) == (
            "paper", "validation", validation["n_validation"])  # fmt: skip
        assert scored["n"] == parity[f"{name}_tc_K"].notna().sum() <= validation["n"]
        assert scored["r2"] == pytest.approx(
            metrics.regression(parity.label_tc_K, parity[f"{name}_tc_K"])["r2"])  # fmt: skip
    stored = query(
        trained_models.db, "SELECT count(*) FROM prediction WHERE model_run_id = ?", run.id
    )[0][0]
    assert stored == validation["n"]
    # structures holding elements beyond Z = 86 (Th, U ...) have no descriptors: counted, not lost
    left_out = notes["structures_left_out"]
    assert (
        left_out
        == len(structures_snapshot.structures) - validation["n"] - recorded_metrics["n_train"]
    )

    from tcdb.ml.structure_features import structure_features

    frame = structures_snapshot.structures
    cache = trained_models.db.parent / "cache"
    features = structure_features(frame, cache_dir=cache, progress=False)
    assert features.cache_hit  # computed once, by the training run
    rows = np.flatnonzero(features.valid)[:8]
    scaling = np.load(run.path / "scaling.npz")
    first = load_model(run.path / "model.keras")
    inputs = [features.fourier[rows], (features.numerical[rows] - scaling["mean"])
              / np.where(scaling["std"] > 0, scaling["std"], 1.0)]  # fmt: skip
    again = load_model(run.path / "model.keras")
    assert np.array_equal(first.predict(inputs, verbose=0), again.predict(inputs, verbose=0))


def test_the_grouped_protocol_from_the_command_line_keeps_the_test_part_out_of_training(
    grouped_ensemble,
):
    """`tcdb train cvcnn --protocol grouped` on a smoke run (of two networks: the session's
    ``grouped_ensemble``): no formula in two parts, the test part is never given to training or
    checkpointing, baselines scored on the test rows."""
    trained = grouped_ensemble.training
    stdout, db = trained.stdout, trained.db
    assert "protocol grouped" in stdout and "wins: r²" in stdout
    for name in BASELINES:
        assert f"baseline {name} on test (protocol grouped)" in stdout

    run_id = trained.run_id
    folder = db.parent / "runs" / run_id
    run = json.loads((folder / "manifest.json").read_text())
    test, validation = run["metrics"]["test"], run["metrics"]["validation"]
    assert test["protocol"] == validation["protocol"] == "grouped" and not test["optimistic"]
    assert run["config"]["cvcnn"]["protocol"] == "grouped"

    # each network is handed the one split
    (train_rows, validation_rows), other = grouped_ensemble.splits
    assert np.array_equal(other[0], train_rows) and np.array_equal(other[1], validation_rows)
    assert (len(train_rows), len(validation_rows)) == (test["n_train"], test["n_validation"])
    assert not set(train_rows) & set(validation_rows)
    usable = test["n_train"] + test["n_validation"] + test["n_test"]
    assert len(set(train_rows) | set(validation_rows)) == usable - test["n_test"]

    tested = pd.read_parquet(folder / "test_parity.parquet")
    validated = pd.read_parquet(folder / "validation_parity.parquet")
    assert len(tested) == test["n_test"] and len(validated) == test["n_validation"]
    assert not set(tested.reduced_formula) & set(validated.reduced_formula)
    for name, scored in run["metrics"]["baselines"].items():
        assert scored["part"] == "test" and scored["n"] == tested[f"{name}_tc_K"].notna().sum()
    # Each score is also split by the labels' origin, over the same rows.
    by_origin = test["by_origin"]
    assert set(by_origin) == set(tested.origin)
    assert sum(s["n"] for s in by_origin.values()) == test["n"]
    for origin, scored in by_origin.items():
        assert scored["n"] == (tested.origin == origin).sum()
    kinds = query(db, "SELECT json_extract_string(extra_json, '$.kind'), count(*) FROM "
                  "prediction WHERE model_run_id = ? GROUP BY 1 ORDER BY 1", run_id)  # fmt: skip
    assert kinds == [("test", test["n_test"]), ("validation", test["n_validation"])]


def test_by_time_tests_only_later_structures_and_tables_each_family_for_every_model(
    trained_models, structures_snapshot, tmp_path
):
    """`tcdb train cvcnn --protocol by-time`: the test part is the structures first reported
    after the year, training and checkpoint see only earlier ones, the SuperCon baseline fits
    no later entry, and each family's later members are counted for the network and every
    baseline."""
    supercon = structures_snapshot.entries.query("origin == 'supercon'")
    years = supercon.drop_duplicates("material_id").set_index("material_id")["year"]
    structures = structures_snapshot.structures.set_index("structure_id")
    year_of = structures["material_id"].map(years).where(structures.origin == "supercon")
    known = year_of.dropna()
    last = int(np.quantile(known, 0.6))
    db = tmp_path / "tcdb.duckdb"
    shutil.copy(trained_models.db, db)
    shutil.copytree(trained_models.db.parent / "cache", tmp_path / "cache")
    shutil.copytree(structures_snapshot.path, tmp_path / "snapshots" / structures_snapshot.id)
    result = invoke_tcdb("--db", str(db), "train", "cvcnn", "--snapshot", structures_snapshot.id,
                         "--profile", "smoke", "--protocol", "by-time",
                         "--last-training-year", str(last))  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_id = re.search(r"model run (\S+) on snapshot", result.stdout).group(1)
    folder = tmp_path / "runs" / run_id
    run = json.loads((folder / "manifest.json").read_text())
    test = run["metrics"]["test"]
    assert (test["protocol"], test["last_training_year"]) == ("by-time", last)
    tested = pd.read_parquet(folder / "test_parity.parquet")
    validated = pd.read_parquet(folder / "validation_parity.parquet")
    assert (tested.structure_id.map(year_of) > last).all() and len(tested) == test["n_test"]
    assert (validated.structure_id.map(year_of) <= last).all()
    later_or_unknown = int((~(supercon.year <= last)).sum())
    assert run["metrics"]["baselines"]["composition_supercon"]["n_fit"] <= (
        len(supercon) - later_or_unknown
    )
    table = pd.DataFrame(run["metrics"]["by_time_families"])
    assert set(table.model) == {"cvcnn", *BASELINES}
    for _, rows in table.groupby("model"):
        assert rows.n.sum() == test["n_test"]
        assert (rows.n_found <= rows.n_true_above).all()


def test_the_baseline_trees_are_the_composition_models_found_through_the_registry():
    """The structural package never imports the composition model: its baselines take the
    composition profile named by ``baseline_trees`` from the registered model, and a profile it
    does not have is one sentence, not a traceback."""
    from tcdb.core.errors import TcdbError
    from tcdb.ml.registry import get
    from tcdb.ml.structural.baselines import baseline_trees

    trees = baseline_trees(get, "smoke", seed=3)
    assert trees == get("composition").configure("smoke", 3)
    with pytest.raises(TcdbError, match=r"baseline_trees 'bogus' is not a composition profile"):
        baseline_trees(get, "bogus", seed=0)


def test_a_long_run_fits_its_baselines_in_another_process_and_a_short_one_in_a_thread():
    import dataclasses
    import os

    from tcdb.ml.structural.cvcnn import CVCNNConfig
    from tcdb.ml.structural.parameters import BASELINES_IN_A_PROCESS_FROM_EPOCHS
    from tcdb.ml.structural.training import _beside_the_network

    long = dataclasses.replace(CVCNNConfig(), epochs=BASELINES_IN_A_PROCESS_FROM_EPOCHS)
    short = dataclasses.replace(long, epochs=BASELINES_IN_A_PROCESS_FROM_EPOCHS - 1)
    with _beside_the_network(long) as pool:
        assert pool.submit(os.getpid).result() != os.getpid()
    with _beside_the_network(short) as pool:
        assert pool.submit(os.getpid).result() == os.getpid()
