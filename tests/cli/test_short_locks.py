"""Long commands hold the database only while they read inputs and write results: a real
training runs in another process and `tcdb sql` answers meanwhile, without waiting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.commands import REPO, invoke_tcdb
from tests.conftest import query


@pytest.fixture
def training_db(curated_db: Path, hydride_snapshot) -> Path:
    """A curated database with the hydrides snapshot beside it, where the command finds it."""
    shutil.copytree(hydride_snapshot.path, curated_db.parent / "snapshots" / hydride_snapshot.id)
    return curated_db


def _start_training(db: Path, snapshot_id: str, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    command = [sys.executable, "-m", "tcdb.cli", "--db", str(db), "train", "hydride-mlp",
               "--snapshot", snapshot_id, "--profile", "smoke", *extra]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


def _wait_for_run_folder(runs: Path, training: subprocess.Popen, timeout: float = 120) -> Path:
    """The run folder, which appears once the snapshot is read and fitting starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(runs.glob("hydride-mlp-*")) if runs.is_dir() else []
        if found:
            return found[0]
        if training.poll() is not None:
            pytest.fail(f"training ended before it computed: {training.stdout.read()}")
        time.sleep(0.2)
    pytest.fail("training did not start computing within two minutes")


def test_sql_answers_at_once_while_a_training_computes(training_db, hydride_snapshot):
    # enough epochs that it is still fitting when the query runs; killed afterwards
    training = _start_training(training_db, hydride_snapshot.id, "--max-epochs", "1000000")
    try:
        _wait_for_run_folder(training_db.parent / "runs", training)
        start = time.monotonic()
        answer = invoke_tcdb("--db", str(training_db), "sql",
                             "SELECT count(*) AS n FROM measurement", "--format", "csv",
                             env={"TCDB_LOCK_WAIT": "0"})  # fmt: skip
        seconds = time.monotonic() - start
        assert answer.returncode == 0, answer.stderr  # exit 3 = locked, with no retry allowed
        assert int(answer.stdout.split()[1]) > 0
        assert training.poll() is None, "the training must still be computing"
        print(f"tcdb sql answered in {seconds:.1f} s during the training")
    finally:
        training.kill()
        training.wait(timeout=60)


def test_a_training_records_its_run_and_predictions_at_the_end(training_db, hydride_snapshot):
    command = ["train", "hydride-mlp", "--snapshot", hydride_snapshot.id, "--profile", "smoke"]
    training = invoke_tcdb("--db", str(training_db), *command, "--max-epochs", "5")
    output = training.stdout + training.stderr
    assert training.returncode == 0, output
    (run_id,) = query(training_db, "SELECT id FROM model_run WHERE model = 'hydride-mlp'")[0]
    assert run_id in output
    assert query(training_db, "SELECT count(*) > 0 FROM prediction WHERE model_run_id = ?",
                 run_id) == [(True,)]  # fmt: skip
