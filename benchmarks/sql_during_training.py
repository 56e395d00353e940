"""How long ``tcdb sql`` waits for the database while a paper-profile training runs.

Run: .venv/bin/python benchmarks/sql_during_training.py [--queries 5] [--model cvcnn]
     [--snapshot default-structures] [--profile paper]

Why: DuckDB lets one process write a file, and a reader keeps writers out too, so a command
that held the database for a whole training (9-15 minutes for the paper profile) left every
``tcdb sql`` failing until it ended. Training now opens the file only to write its results.
This script copies the database to a temporary folder (the snapshots and feature cache are
linked, not copied), starts ``tcdb train`` there as a real second process, waits until it is
computing (Keras prints its first epoch), then times ``tcdb sql`` with ``TCDB_LOCK_WAIT=0``, so
any lock held by the training would fail the query at once instead of being waited for. The
same queries are then timed with nothing running, to separate start-up from waiting.

Target: every query answers while the training computes (no lock wait).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QUERY = "SELECT count(*) AS n FROM measurement"
COMPUTING = "Epoch 1/"  # what Keras prints once the inputs are read and training has begun


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=5)
    parser.add_argument("--model", default="cvcnn", help="cvcnn | composition | hydride-mlp")
    parser.add_argument("--snapshot", default="default-structures")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--start-timeout", type=float, default=600.0)
    return parser.parse_args()


def copy_database(folder: Path) -> Path:
    """The user's database copied into ``folder``, with its snapshots and cache linked."""
    from tcdb.core.settings import environment_settings

    settings = environment_settings()
    db = folder / "tcdb.duckdb"
    shutil.copy(settings.db, db)
    for name, source in (("snapshots", settings.snapshots), ("cache", settings.cache)):
        if source.is_dir():
            (folder / name).symlink_to(source.resolve(), target_is_directory=True)
    return db


def timed_query(env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tcdb.cli", "sql", QUERY, "--format", "csv"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return time.perf_counter() - started, result.returncode


def wait_until_computing(log: Path, training: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if training.poll() is not None:
            raise SystemExit(f"the training ended early (exit {training.returncode}); see {log}")
        if COMPUTING in log.read_text(errors="replace"):
            return time.monotonic() - started
        time.sleep(1)
    raise SystemExit(f"the training did not start computing within {timeout:.0f} s; see {log}")


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        db = copy_database(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
        env.update(TCDB_DB=str(db), TCDB_LOCK_WAIT="0", TCDB_LOG_LEVEL="WARNING")
        log = folder / "training.log"
        with log.open("w") as out:
            training = subprocess.Popen(
                [sys.executable, "-m", "tcdb.cli", "train", args.model,
                 "--snapshot", args.snapshot, "--profile", args.profile],
                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            start = wait_until_computing(log, training, args.start_timeout)
            print(f"training {args.model} ({args.profile}) computing after {start:.0f} s")
            during = []
            for _ in range(args.queries):
                during.append(timed_query(env))
                time.sleep(2)
            still_running = training.poll() is None
        finally:
            os.killpg(training.pid, signal.SIGKILL)
            training.wait()
        idle = [timed_query(env) for _ in range(args.queries)]
    for label, results in (("during training", during), ("nothing running", idle)):
        seconds = [s for s, _ in results]
        answered = sum(code == 0 for _, code in results)
        print(
            f"tcdb sql {label:<16} {answered}/{len(results)} answered (TCDB_LOCK_WAIT=0), "
            f"{min(seconds):.2f}-{max(seconds):.2f} s each"
        )
    print(f"training still computing after the last query: {still_running}")
    if not still_running or any(code != 0 for _, code in during):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
