"""The hydride run's forest: kept as arrays that load without running code, predicting the
fitted forest's exact floats with a spread over its trees; a damaged forest is refused in one
sentence. And the rule that chooses which of network and forest ranks the screen."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tcdb.core.errors import TcdbError
from tcdb.ml.boosted_trees import unpack
from tcdb.ml.hydride.descriptors import screening_grid
from tcdb.ml.hydride.ensemble import HydrideMLPConfig
from tcdb.ml.hydride.evaluation import in_sample_baselines
from tcdb.ml.hydride.forest import FOREST_FILE
from tcdb.ml.hydride.parameters import HydrideSelectionParameters
from tcdb.ml.hydride.selection import choose
from tcdb.ml.hydride.training import load, training_data
from tcdb.schema.database import connect
from tcdb.store.model_runs import RunIntegrityError, VerifiedRun, sha256_of, verify_run


@pytest.fixture(scope="module")
def run(hydride_run):
    conn = connect(hydride_run.db, read_only=True)
    try:
        return verify_run(conn, hydride_run.run_id, "hydride-mlp")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def predictor(run):
    return load(run)


@pytest.fixture(scope="module")
def metrics(run) -> dict:
    return run.manifest["metrics"]


def test_the_stored_forest_predicts_the_fitted_forests_floats_with_a_spread(
    run, predictor, hydride_snapshot
):
    """The forest fitted on every point again, with the run's configuration, and the one read
    from forest.npz predict the same floats on every EH_n of the screen."""
    config = HydrideMLPConfig.from_dict(run.manifest["config"]["mlp"])
    data = training_data(hydride_snapshot, predictor.descriptors)
    fitted = in_sample_baselines(data.X, data.y, config)["forest"][1]
    stored = predictor.forest
    grid, _, _ = screening_grid(predictor.descriptors)
    assert len(stored.predict_trees(grid)) == config.forest_trees == len(fitted.estimators_)
    mean, spread = stored.predict(grid)
    np.testing.assert_array_equal(mean, fitted.predict(grid))
    trees = np.stack([tree.predict(grid.astype(np.float32)) for tree in fitted.estimators_])
    np.testing.assert_allclose(spread, trees.std(axis=0), rtol=1e-12)
    assert (spread > 0).any()


def crafted(run, folder, forest: bytes) -> VerifiedRun:
    """The run copied with ``forest`` as its forest and a manifest listing it with its true
    hash: what someone who could also write the database row would hand over."""
    shutil.copytree(run.path, folder)
    (folder / FOREST_FILE).write_bytes(forest)
    manifest = json.loads(json.dumps(run.manifest))
    manifest["artefacts"][FOREST_FILE] = {"sha256": sha256_of(forest), "size": len(forest)}
    return VerifiedRun(run.id, run.model, folder, manifest, "recorded")


def test_a_damaged_forest_is_refused_in_one_sentence(run, tmp_path):
    trees = unpack(run.read_bytes(FOREST_FILE))
    outside = trees["tc_K"].arrays()
    inner = np.flatnonzero(~outside["leaf"])[0]
    outside["left"] = outside["left"].copy()
    outside["left"][inner] = len(outside["leaf"]) + 5
    mismatched = trees["pressure_GPa"].arrays()
    mismatched["threshold"] = mismatched["threshold"] + 1.0
    cases = {
        "a child index lies outside the nodes": {"tc_K": outside, "pressure_GPa": trees[
            "pressure_GPa"].arrays()},
        "the outputs' trees do not share their nodes": {"tc_K": trees["tc_K"].arrays(),
                                                             "pressure_GPa": mismatched},
        "the forest holds tc_K, not tc_K, pressure_GPa": {"tc_K": trees[
            "tc_K"].arrays()},
    }  # fmt: skip
    for number, (reason, arrays) in enumerate(cases.items()):
        damaged = _archive(arrays)
        with pytest.raises(TcdbError) as refused:
            load(crafted(run, tmp_path / str(number), damaged))
        message = str(refused.value)
        assert message == f"Run {run.id}: {FOREST_FILE} is not a valid forest ({reason})."
        assert "\n" not in message


def _archive(models: dict[str, dict[str, np.ndarray]]) -> bytes:
    """Named models' arrays in one archive, as ``ml.boosted_trees.pack`` writes them."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **{f"{name}/{key}": value for name, arrays in models.items()
                        for key, value in arrays.items()})  # fmt: skip
    return buffer.getvalue()


def test_a_forest_changed_after_its_run_was_registered_is_refused(run, tmp_path):
    """A byte changed in forest.npz: the hash the database registered no longer matches."""
    folder = tmp_path / "run"
    shutil.copytree(run.path, folder)
    data = bytearray((folder / FOREST_FILE).read_bytes())
    data[-100] ^= 1
    (folder / FOREST_FILE).write_bytes(bytes(data))
    changed = VerifiedRun(run.id, run.model, folder, run.manifest, run.manifest_sha256)
    with pytest.raises(RunIntegrityError) as refused:
        load(changed)
    assert str(refused.value) == (
        f"Run {run.id}: artefact {FOREST_FILE} differs from its manifest (SHA-256 or size "
        "changed); the run is refused."
    )


# ---- the rule


def test_the_run_ranks_with_the_model_of_lower_grouped_tc_rmse(metrics):
    grouped = {m: metrics[f"{m} grouped-by-composition"]["tc_rmse"] for m in ("network", "forest")}
    recorded = metrics["screening_model"]
    assert recorded["model"] == min(grouped, key=grouped.get)
    assert recorded["scores"] == grouped and recorded["scored_on"] == "grouped-by-composition"
    assert recorded["n"] == {m: metrics["n_points"] for m in grouped}
    assert recorded["rule"] == HydrideSelectionParameters().rule()
    assert choose(metrics) == recorded
    assert load_chosen(metrics) == recorded["model"]


def load_chosen(metrics) -> str:
    from tcdb.ml.hydride.selection import chosen_model

    return chosen_model(metrics, ("network", "forest"))


def scores(network: float, forest: float, **more) -> dict:
    scored = {f"{m} grouped-by-composition": {"tc_rmse": v, "n": 10}
              for m, v in (("network", network), ("forest", forest))}  # fmt: skip
    return scored | more


def test_the_rule_reads_only_the_grouped_scores_and_ties_go_to_the_network():
    assert choose(scores(70.0, 60.0))["model"] == "forest"
    assert choose(scores(60.0, 70.0))["model"] == "network"
    assert choose(scores(65.0, 65.0))["model"] == "network"
    assert choose(scores(70.0, float("nan")))["model"] == "network"
    assert choose(scores(70.0, 60.0), available=("network",))["model"] == "network"
    decoys = {"network random-folds": {"tc_rmse": 1.0}, "network test": {"tc_rmse": 0.0},
              "forest in-sample": {"tc_rmse": 99.0}}  # fmt: skip
    assert choose(scores(70.0, 60.0, **decoys))["model"] == "forest"
    for wrong in ({"protocol": "in-sample"}, {"protocol": "test"}, {"tie": "linear"}):
        with pytest.raises(ValueError):
            HydrideSelectionParameters(**wrong)


def test_both_spreads_are_scored_by_their_coverage_under_every_protocol(metrics):
    for protocol in ("in-sample", "random-folds", "grouped-by-composition"):
        for model in ("network", "forest"):
            scored = metrics[f"{model} {protocol}"]
            for target in ("tc", "pressure"):
                one, two = scored[f"{target}_within_1sd"], scored[f"{target}_within_2sd"]
                assert 0.0 <= one <= two <= 1.0
            assert "standard deviation over" in scored["spread"]
        assert "tc_within_1sd" not in metrics[f"linear {protocol}"]
    assert "tc_within_2sd" in metrics["network random-repeated"]
