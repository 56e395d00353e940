"""The structure experts: trained through the command on the session's snapshot, scored beside
baselines on the network's split, loaded back to the same floats, and judged by their domain."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from tcdb.ml.boosted_trees import TreeFormatError
from tcdb.ml.composition_descriptors import NUMERICAL_LABELS
from tcdb.ml.forest_trees import ForestTrees, checked_forest
from tcdb.ml.structural.cvcnn import CVCNNConfig
from tcdb.ml.structure_experts.domain import VOLUME_COLUMN
from tcdb.ml.structure_experts.experts import COMPOSITION_COLUMNS, Experts, calibrate
from tcdb.ml.structure_experts.predictor import load_experts
from tcdb.ml.structure_experts.training import ExpertsConfig
from tcdb.ml.structure_features import feature_preset, structure_features
from tcdb.schema.database import connect
from tcdb.store.model_runs import verify_run
from tcdb.store.snapshots import load_snapshot
from tests.conftest import query


@pytest.fixture(scope="module")
def experts(trained_models):
    """The run, loaded as the commands load it, with the snapshot's features (read from the
    cache the run filled) by structure id."""
    training = trained_models.experts
    conn = connect(training.db, read_only=True)
    try:
        run = verify_run(conn, training.run_id, "structure-experts")
    finally:
        conn.close()
    model = load_experts(run)
    snapshot = load_snapshot(training.db.parent / "snapshots", run.manifest["snapshot_id"])
    frame = snapshot.structures
    features = structure_features(
        frame, feature_preset("tcdb"), training.db.parent / "cache", progress=False
    )
    by_id = {sid: i for i, sid in enumerate(frame["structure_id"]) if features.valid[i]}
    return training, run, model, features.numerical, by_id


def test_the_command_scores_each_part_beside_the_baselines_and_says_which_wins(trained_models):
    printed = trained_models.experts.stdout
    assert "protocol grouped" in printed
    assert "experts on validation" in printed and "experts on test" in printed
    assert "baseline forest_descriptors on test" in printed
    assert "baseline composition_entries on test" in printed
    assert "baseline composition_structures on test" in printed
    assert " wins: r² " in printed
    assert "within ±1σ" in printed and "in the domain" in printed


def test_the_default_split_is_the_networks_grouped_split():
    ours = ExpertsConfig().split_protocol().describe()
    network = CVCNNConfig(protocol="grouped").split_protocol().describe()
    assert ours == network


def test_a_loaded_run_predicts_the_stored_predictions_to_the_float(experts):
    training, run, model, numerical, by_id = experts
    stored = query(
        training.db,
        "SELECT structure_id, tc_K, tc_std_K, in_domain FROM prediction "
        "WHERE model_run_id = ? ORDER BY subject_id",
        run.id,
    )
    assert stored, "the run stored no prediction"
    rows = np.array([by_id[s] for s, *_ in stored])
    tc, spread = model.predict_features(None, numerical[rows])
    assert np.array_equal(tc, np.array([t for _, t, _, _ in stored]))
    assert np.array_equal(spread, np.array([s for _, _, s, _ in stored]))
    inside, _, _ = model.judge(numerical[rows])
    assert inside.tolist() == [bool(d) for *_, d in stored]


def test_a_compressed_cell_leaves_the_domain_and_says_why(experts):
    _, _, model, numerical, by_id = experts
    rows = numerical[sorted(by_id.values())]
    inside, _, _ = model.judge(rows)
    assert inside.mean() > 0.8  # the snapshot's own structures are mostly inside
    squeezed = rows[inside][:20].copy()
    squeezed[:, VOLUME_COLUMN] *= 0.3  # the same atoms in under a third of the volume
    inside, reasons, _ = model.judge(squeezed)
    assert not inside.any()
    assert all("volume per atom" in reason for reason in reasons)


def test_the_spread_is_scaled_on_validation_and_its_coverage_stated_per_part(experts):
    import json

    training, run, *_ = experts
    ((metrics,),) = query(training.db, "SELECT metrics_json FROM model_run WHERE id = ?", run.id)
    metrics = json.loads(metrics)
    for expert, c in metrics["calibration"].items():
        assert c["factor"] > 0, expert
        assert c["calibrated"] == (c["n"] >= 5), expert
    for part in ("validation", "test"):
        assert {"within_1_sigma", "within_2_sigma", "n"} <= set(metrics[part]["coverage"])


def test_forest_arrays_predict_the_estimators_floats_and_refuse_other_outputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 7))
    y = X[:, 0] * 3 + rng.normal(size=60)
    forest = RandomForestRegressor(25, random_state=0).fit(X, y)
    stored = checked_forest(forest, ("tc_K",), X)
    loaded = ForestTrees.from_bytes(stored.to_bytes(), ("tc_K",), 7)
    mean, spread = loaded.predict(X)
    assert np.array_equal(mean[:, 0], forest.predict(X.astype(np.float32)))
    each = np.stack([t.predict(X.astype(np.float32)) for t in forest.estimators_])
    assert np.allclose(spread[:, 0], each.std(axis=0))
    with pytest.raises(TreeFormatError, match="not pressure_GPa"):
        ForestTrees.from_bytes(stored.to_bytes(), ("pressure_GPa",), 7)
    with pytest.raises(TreeFormatError, match="do not read 8"):
        ForestTrees.from_bytes(stored.to_bytes(), ("tc_K",), 8)


def test_without_a_hydride_expert_the_composition_expert_predicts_every_structure(experts):
    import dataclasses

    _, _, model, numerical, by_id = experts
    rows = numerical[sorted(by_id.values())]
    alone = dataclasses.replace(model.experts, hydride=None)
    assert set(alone.which(rows)) == {"composition"}
    tc, spread, _ = alone.predict(rows, model.domain.distances(rows, alone.which(rows)))
    assert np.isfinite(tc).all() and (spread > 0).all()


class _Member:
    """A composition member whose prediction is the first descriptor column (X of 81)."""

    def __init__(self, shift: float) -> None:
        self.shift = shift

    def predict(self, X):
        return X[:, 0] + self.shift


def _validation(errors_grow_with_distance: bool, n: int = 400):
    rng = np.random.default_rng(1)
    numerical = np.zeros((n, len(NUMERICAL_LABELS)))
    numerical[:, COMPOSITION_COLUMNS.start] = rng.uniform(0, 50, n)  # the members' answer
    distance = rng.uniform(0.5, 10.0, n)
    noise = distance * 2.0 if errors_grow_with_distance else np.full(n, 8.0)
    y = numerical[:, COMPOSITION_COLUMNS.start] + rng.normal(0, 1, n) * noise
    return numerical, y, distance


@pytest.mark.parametrize("grows", [True, False])
def test_the_spread_widens_with_distance_only_where_validation_errors_do(grows):
    numerical, y, distance = _validation(grows)
    experts = Experts([_Member(-1.0), _Member(1.0)], None, 0.5, {"composition": 1.0})
    result = calibrate(experts, numerical, y, distance)["composition"]
    near, far = np.full(1, 1.0), np.full(1, 9.0)
    row = numerical[:1]
    widens = experts.predict(row, far)[1][0] > experts.predict(row, near)[1][0]
    assert (result["distance_weight"] > 0) == grows and widens == grows
    tc, sigma, _ = experts.predict(numerical, distance)
    within = np.mean(np.abs(y - tc) <= sigma)
    assert abs(within - 0.683) < 0.01  # the factor holds the validation share either way


def test_the_composition_expert_mixes_both_trees_and_their_disagreement_widens_its_spread():
    """T_c is (1 - share) × the entries' members + share × the structures' trees; the spread
    is the mixture's standard deviation, so it grows where the two disagree."""
    numerical, _, _ = _validation(False, n=50)
    entries = [_Member(-1.0), _Member(1.0)]  # mean: the first column, spread 1
    alone = Experts(entries, None, 0.5, {"composition": 1.0})
    mixed = Experts(entries, None, 0.5, {"composition": 1.0}, {}, _Member(12.0), 0.25)
    tc_alone, spread_alone, _ = alone.raw(numerical)
    tc, spread, _ = mixed.raw(numerical)
    assert np.allclose(tc, tc_alone + 0.25 * 12.0)
    assert np.allclose(spread_alone, 1.0)
    assert np.allclose(spread, np.sqrt(1.0 + 0.25 * 0.75 * 12.0**2))
    agreeing = Experts(entries, None, 0.5, {"composition": 1.0}, {}, _Member(0.0), 0.25)
    assert np.allclose(agreeing.raw(numerical)[1], 1.0)


def test_a_run_ships_the_structures_trees_and_its_baselines_name_both(experts):
    import json

    training, run, model, *_ = experts
    assert model.experts.structures is not None
    assert model.experts.structures_share == pytest.approx(1 / 3)
    ((metrics,),) = query(training.db, "SELECT metrics_json FROM model_run WHERE id = ?", run.id)
    baselines = json.loads(metrics)["baselines"]
    assert {"composition_entries", "composition_structures", "forest_descriptors"} <= set(baselines)


@pytest.mark.parametrize("grows", [True, False])
def test_the_spread_grows_with_the_predicted_tc_only_where_validation_errors_do(grows):
    rng = np.random.default_rng(2)
    numerical, _, distance = _validation(False)
    tc = numerical[:, COMPOSITION_COLUMNS.start]  # the members' mean
    noise = 0.3 * tc + 0.5 if grows else np.full(len(tc), 8.0)
    y = tc + rng.normal(0, 1, len(tc)) * noise
    experts = Experts([_Member(-1.0), _Member(1.0)], None, 0.5, {"composition": 1.0})
    result = calibrate(experts, numerical, y, distance)["composition"]
    assert (result["tc_weight"] > 0) == grows
    low, high = numerical[tc < 10][:1], numerical[tc > 40][:1]
    one = np.full(1, 1.0)
    assert (experts.predict(high, one)[1][0] > experts.predict(low, one)[1][0]) == grows


def test_a_by_time_run_tables_each_family_for_the_experts_and_their_baselines(
    trained_models, structures_snapshot, tmp_path
):
    """`tcdb train structure-experts --protocol by-time`: per family, the later structures'
    counts and errors for the experts and each baseline on the same rows, shown by the
    report's family_by_time table beside the other models."""
    import json
    import re
    import shutil

    import pandas as pd

    from tcdb.reports import tables
    from tcdb.reports.inputs import ReportInputs
    from tcdb.schema.database import Database
    from tests.commands import invoke_tcdb

    supercon = structures_snapshot.entries.query("origin == 'supercon'")
    last = int(np.quantile(supercon["year"].dropna(), 0.6))
    db = tmp_path / "tcdb.duckdb"
    shutil.copy(trained_models.db, db)
    shutil.copytree(trained_models.db.parent / "cache", tmp_path / "cache")
    shutil.copytree(structures_snapshot.path, tmp_path / "snapshots" / structures_snapshot.id)
    result = invoke_tcdb("--db", str(db), "train", "structure-experts", "--snapshot",
                         structures_snapshot.id, "--profile", "smoke", "--protocol", "by-time",
                         "--last-training-year", str(last))  # fmt: skip
    assert result.returncode == 0, result.stderr
    run_id = re.search(r"model run (\S+) on snapshot", result.stdout).group(1)
    metrics = json.loads((tmp_path / "runs" / run_id / "manifest.json").read_text())["metrics"]
    table = pd.DataFrame(metrics["by_time_families"])
    assert set(table.model) == {"structure-experts", *metrics["baselines"]}
    for _, rows in table.groupby("model"):
        assert rows.n.sum() == metrics["test"]["n_test"]
        assert (rows.n_found <= rows.n_true_above).all()
    shown = tables.family_by_time(ReportInputs(Database(db), tmp_path)).frame
    assert set(shown.model) >= {"structure-experts", *metrics["baselines"]}
    assert (shown[shown.model == "structure-experts"].last_training_year == last).all()
