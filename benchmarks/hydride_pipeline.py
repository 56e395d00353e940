"""How long a user waits for the hydride model: `tcdb train hydride-mlp` then
`tcdb screen hydrides`, as commands, on a copy of the database.

Run: .venv/bin/python benchmarks/hydride_pipeline.py [--profile quick] [--snapshot NAME]
     [--repeat 1] [--output PATH]

Why: training now runs an inner cross-validation inside the whole data and inside each of ten
outer folds, trains the kept 64-member ensemble, the folds' ensembles and the baselines; the
screen predicts every EH_n with every member and flags its domain. Users run both after every
new snapshot, so the pair must stay quick. The commands run in fresh processes (TensorFlow's
import and tracing included) on a copy of the database and its snapshots, so the real one is
untouched. Peak memory is the largest resident set of a child process.

Target: training plus screening in at most 2 minutes on the 2 cores (quick profile).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TCDB = REPO / ".venv" / "bin" / "tcdb"
TARGET_S = 120.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--snapshot", default="default-hydrides")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--db", type=Path, default=REPO / "data" / "tcdb.duckdb")
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args()


def copy_database(db: Path, into: Path) -> Path:
    """The database file and its snapshots folder, copied (runs are not needed)."""
    if not db.is_file():
        sys.exit(f"{db} does not exist: run `make run` (or at least the snapshot steps) first")
    shutil.copy2(db, into / db.name)
    shutil.copytree(db.parent / "snapshots", into / "snapshots")
    return into / db.name


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def checked_output(args: argparse.Namespace) -> Path | None:
    """The --output file, refused before any measurement if it would touch the database
    named by --db, a file named after it or a folder tcdb keeps."""
    from tcdb.core.output_paths import protected_paths
    from tcdb.core.settings import environment_settings

    if args.output is None:
        return None
    settings = environment_settings().model_copy(update={"db": args.db})
    return protected_paths(settings).check_file(args.output, make_folder=True)


def main() -> None:
    from tcdb.core.atomic_files import write_text_atomically

    args = parse_args()
    args.output = checked_output(args)
    rows = []
    for attempt in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="tcdb-bench-") as folder:
            env = os.environ | {"TCDB_DB": str(copy_database(args.db, Path(folder)))}
            train = timed([str(TCDB), "train", "hydride-mlp", "--snapshot", args.snapshot,
                           "--profile", args.profile], env)  # fmt: skip
            screen = timed([str(TCDB), "screen", "hydrides", "--run", "latest"], env)
        rows.append({"attempt": attempt + 1, "train_s": train, "screen_s": screen,
                     "total_s": train + screen})  # fmt: skip
        print(f"attempt {attempt + 1}: train {train:.1f} s + screen {screen:.1f} s = "
              f"{train + screen:.1f} s (target {TARGET_S:.0f} s)")  # fmt: skip
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(f"peak resident memory of a child: {peak_gib:.2f} GiB; load average "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    output = args.output or REPO / "benchmarks" / "results" / f"hydride_pipeline-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(output, json.dumps({"profile": args.profile, "snapshot": args.snapshot,
                                  "target_s": TARGET_S, "peak_child_rss_gib": peak_gib,
                                  "attempts": rows}, indent=1))  # fmt: skip
    print(f"written to {output}")


if __name__ == "__main__":
    from tcdb.core.errors import TcdbError

    try:
        main()
    except TcdbError as exc:  # one sentence, as the command line says it
        sys.exit(f"error: {exc}")
