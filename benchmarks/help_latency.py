"""How long every `--help` of the command line takes: `tcdb --help` and each subcommand's.

Run: .venv/bin/python benchmarks/help_latency.py [--repeat N] [--output PATH]

Why: `--help` is what a user types to find a command; it must answer at once, so no heavy
library (pymatgen, TensorFlow, pandas, scikit-learn) may be imported to build it. Each help
runs as `python -m tcdb.cli … --help` in a fresh process, as a user starts it; the command tree
is walked from the click command typer builds, so a new command is measured without listing it
here. The median and worst wall time of N runs are printed as a table, slowest first, with the
median CPU time (user + system) of the process, which other load on the machine changes much
less than the wall time; `--output` also writes them as JSON.

Target (issue 28): every `--help` under 1 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

TARGET_S = 1.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median, max)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table as JSON")
    return parser.parse_args()


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of `tcdb`, as the words that name it (the root is ``()``)."""
    import typer

    from tcdb.cli import app

    paths: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):  # a group's commands
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def children_cpu_seconds() -> float:
    """User plus system CPU seconds of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_help(words: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU seconds of ``tcdb WORDS --help`` in a fresh process, start to exit."""
    cpu = children_cpu_seconds()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tcdb.cli", *words, "--help"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start, children_cpu_seconds() - cpu


def measure(paths: list[tuple[str, ...]], repeat: int) -> list[dict[str, object]]:
    """The median and worst time of each help, measured round-robin so that a burst of other
    load on the machine spreads over every command instead of falling on one."""
    times: dict[tuple[str, ...], list[tuple[float, float]]] = {path: [] for path in paths}
    for _ in range(repeat):
        for path in paths:
            times[path].append(timed_help(path))
    rows = [
        {
            "command": " ".join(("tcdb", *path, "--help")),
            "median_s": round(statistics.median(wall for wall, _ in runs), 3),
            "max_s": round(max(wall for wall, _ in runs), 3),
            "median_cpu_s": round(statistics.median(cpu for _, cpu in runs), 3),
        }
        for path, runs in times.items()
    ]
    return sorted(rows, key=lambda row: row["median_s"], reverse=True)


def print_table(rows: list[dict[str, object]], repeat: int) -> None:
    width = max(len(str(row["command"])) for row in rows)
    header = f"{'command':<{width}}  median      max  median CPU"
    print(f"{header}  ({repeat} runs each, fresh processes)")
    for row in rows:
        flag = "" if float(row["median_s"]) < TARGET_S else f"   over {TARGET_S:g} s"
        print(
            f"{row['command']:<{width}}  {row['median_s']:5.2f} s  {row['max_s']:5.2f} s"
            f"     {row['median_cpu_s']:5.2f} s{flag}"
        )
    walls = [float(row["median_s"]) for row in rows]
    cpus = [float(row["median_cpu_s"]) for row in rows]
    print(
        f"{len(rows)} helps: slowest median {max(walls):.2f} s, median of medians "
        f"{statistics.median(walls):.2f} s (CPU {statistics.median(cpus):.2f} s); "
        f"target under {TARGET_S:g} s"
    )


def main() -> None:
    args = parse_args()
    rows = measure(command_paths(), args.repeat)
    print_table(rows, args.repeat)
    if args.output is not None:
        record = {
            "benchmark": "help_latency",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "repeat": args.repeat,
            "target_s": TARGET_S,
            "rows": rows,
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
