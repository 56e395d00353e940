"""``tcdb pipeline`` (``make run``): a failing step stops the job with its status after the table
of what ran, and each headline figure is read from what the step stored. (The whole job runs in
the README test, on small slices of every source.)"""

from __future__ import annotations

import json

import duckdb

from tcdb.cli.pipeline import DatabaseState, _morphs, _state, _training, main_job
from tests.commands import invoke_tcdb


def test_a_failing_step_stops_the_job_with_its_exit_status_after_the_table(tmp_path):
    not_a_database = tmp_path / "tcdb.duckdb"
    not_a_database.write_text("these bytes are not a DuckDB file\n")
    record = tmp_path / "steps.json"

    failed = invoke_tcdb("--db", str(not_a_database), "pipeline", "--record", str(record))

    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    table = failed.stdout[failed.stdout.index("step ") :].splitlines()
    assert table[1].startswith("db upgrade") and f"failed (exit {failed.returncode})" in table[1]
    assert table[2].startswith("total") and len(table) == 3  # nothing after the failed step
    recorded = json.loads(record.read_text())
    assert [s["name"] for s in recorded["steps"]] == ["db upgrade"]
    assert recorded["steps"][0]["status"] == failed.returncode


def test_the_record_may_not_overwrite_the_database(tmp_path):
    db = tmp_path / "tcdb.duckdb"
    refused = invoke_tcdb("--db", str(db), "pipeline", "--record", str(db))
    assert refused.returncode == 1 and "Refusing to write" in refused.stderr
    assert not db.exists() and "Traceback" not in refused.stderr


def test_a_training_step_is_summed_up_by_its_run_grouped_scores(hydride_run):
    after = _state(hydride_run.db)
    with duckdb.connect(str(hydride_run.db), read_only=True) as conn:
        headline = _training(conn, DatabaseState(), after)
        metrics = json.loads(
            conn.execute(
                "SELECT metrics_json FROM model_run WHERE id = ?", [hydride_run.run_id]
            ).fetchone()[0]
        )
    grouped = metrics["network grouped-by-composition"]
    assert headline.startswith(hydride_run.run_id)
    assert f"grouped by formula (n={grouped['n']:,})" in headline
    assert f"network {grouped['tc_rmse']:.1f} K" in headline


def test_the_job_is_the_commands_the_readme_describes_in_order(tmp_path):
    names = [step.name for step in main_job("quick", tmp_path)]
    assert names[:3] == ["db upgrade", "ingest", "curate"] and names[-1] == "report"
    trainings = [step.args for step in main_job("paper", tmp_path) if step.args[0] == "train"]
    assert all(args[args.index("--profile") + 1] == "paper" for args in trainings)
    assert [args[1] for args in trainings] == [
        "hydride-mlp",
        "composition",
        "cvcnn",
        "cvcnn",
        "structure-experts",
    ]


def test_the_morph_steps_run_every_family_once_side_by_side_except_in_the_smoke_profile(tmp_path):
    from tcdb.ml.structural.morphs import FAMILIES

    for profile, beside in (("quick", True), ("smoke", False)):
        steps = [s for s in main_job(profile, tmp_path) if s.args[:2] == ("morph", "run")]
        families = [a for s in steps for a in s.args[2 : s.args.index("--profile")]]
        assert sorted(families) == sorted(FAMILIES) and len(steps) == 2
        assert [s.beside for s in steps] == [False, beside]


def test_a_morph_step_counts_only_its_own_families():
    before = DatabaseState(morphs={"xyh36": 10}, morph_predictions={"xyh36": 20})
    after = DatabaseState(
        morphs={"xyh36": 15, "mgh13-xy": 7}, morph_predictions={"xyh36": 30, "mgh13-xy": 14}
    )
    assert _morphs(("xyh36",))(None, before, after) == (
        "xyh36: 5 morphs built, 10 predicted and stored"
    )
    assert _morphs(("mgh13-xy", "dome"))(None, before, after).endswith(
        ": 7 morphs built, 14 predicted and stored"
    )


def test_steps_side_by_side_each_take_their_own_time(tmp_path, monkeypatch):
    import sys

    from tcdb.cli.pipeline import Step, _run_beside

    fake = tmp_path / "fake-python"  # sleeps for its last argument's seconds
    fake.write_text('#!/bin/sh\nfor a; do last=$a; done\nsleep "$last"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    slow, quick = (Step(name, (seconds,), _training) for name, seconds in
                   (("slow", "1.5"), ("quick", "0.1")))  # fmt: skip

    finished = _run_beside([slow, quick], [], tmp_path / "tcdb.duckdb")

    seconds = {step.name: s for step, status, s, _ in finished if status == 0}
    assert seconds["slow"] >= 1.5 and seconds["quick"] < 1.0
