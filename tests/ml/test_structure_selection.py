"""The rule that picks the structure model a screening ranks with reads validation scores of
grouped runs on the newest snapshot, and nothing else."""

from __future__ import annotations

import pytest

from tcdb.core.errors import TcdbError
from tcdb.ml.structure_selection import RunRecord, choose


def _run(run_id: str, model: str, protocol: str, r2: float, snapshot: str = "s2", test=None):
    metrics = {"validation": {"protocol": protocol, "r2": r2}}
    if test is not None:
        metrics["test"] = {"protocol": protocol, "r2": test}
    return RunRecord(run_id, model, snapshot, metrics)


def test_the_best_validation_r2_of_the_grouped_runs_ranks_with_its_latest_run():
    runs = [
        _run("cvcnn-grouped", "cvcnn", "grouped", 0.76, test=0.99),  # a test score is not read
        _run("cvcnn-paper", "cvcnn", "paper", 0.95),  # not grouped: not compared
        _run("experts-grouped", "structure-experts", "grouped", 0.87, test=0.10),
    ]
    choice = choose(runs)
    assert (choice.model, choice.run_id) == ("structure-experts", "experts-grouped")
    assert choice.scores == {
        "cvcnn": {"run_id": "cvcnn-grouped", "validation_r2": 0.76},
        "structure-experts": {"run_id": "experts-grouped", "validation_r2": 0.87},
    }
    assert "validation r²" in choice.describe()


def test_the_network_wins_a_tie_and_then_ranks_with_its_latest_run():
    runs = [
        _run("cvcnn-grouped", "cvcnn", "grouped", 0.8),
        _run("experts-grouped", "structure-experts", "grouped", 0.8),
        _run("cvcnn-paper", "cvcnn", "paper", 0.9),
    ]
    assert choose(runs).run_id == "cvcnn-paper"


def test_only_the_newest_snapshot_counts_and_without_grouped_runs_the_latest_ranks():
    runs = [
        _run("old-experts", "structure-experts", "grouped", 0.99, snapshot="s1"),
        _run("cvcnn-paper", "cvcnn", "paper", 0.9, snapshot="s2"),
    ]
    choice = choose(runs)
    assert (choice.run_id, choice.scores) == ("cvcnn-paper", {})
    with pytest.raises(TcdbError, match="No structure model has been trained yet"):
        choose([_run("h", "hydride-mlp", "grouped", 0.5)])
