"""How long the command line takes to answer: `tcdb --help` and `tcdb db status`.

Run: .venv/bin/python benchmarks/startup.py [--repeat N]
Each command runs in a fresh process, as a user starts it; the median and worst of N runs
are printed. Target (issue 2): well under 2 s for --help and the database commands.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall_time(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tcdb.cli", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "bench.duckdb")
        subprocess.run([sys.executable, "-m", "tcdb.cli", "--db", db, "db", "upgrade"], check=True)
        commands = {
            "tcdb --help": ["--help"],
            "tcdb db status": ["--db", db, "db", "status"],
            "tcdb db upgrade (nothing to do)": ["--db", db, "db", "upgrade"],
        }
        for label, args in commands.items():
            times = [wall_time(args) for _ in range(options.repeat)]
            print(
                f"{label:<34} median {statistics.median(times):.2f} s   "
                f"max {max(times):.2f} s   ({options.repeat} runs)"
            )


if __name__ == "__main__":
    main()
