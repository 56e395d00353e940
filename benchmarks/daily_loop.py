"""The daily loop as a new user meets it: a fresh clone, `make install`, `make run`, `make test`.

Run: .venv/bin/python benchmarks/daily_loop.py [--only install,run,test] [--profile quick]
     [--keep] [--output FILE]

Why: the budgets of the loop (`make run` with the quick profile ≤ 10 min, `make test` ≤ 5 min on
the 2-core machine) hold for a new checkout, not for a tree whose caches, bytecode and database
are warm. So the committed state of this repository is cloned into a temporary folder and each
target runs there as the README says, in a fresh process, with the sources of TCDB_SOURCES
(else ../shared/data beside this repository). The wall time of each target, the table
`make run` ends with (`tcdb pipeline`), the test summary line and the slowest tests are
printed and written as JSON to benchmarks/results/daily_loop-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS_S = {"run": 10 * 60.0, "test": 5 * 60.0}
TARGETS = ("install", "run", "test")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(TARGETS), help="targets, comma-separated")
    parser.add_argument("--profile", default="quick", help="PROFILE of make run")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args()


def sources() -> Path:
    return Path(os.environ.get("TCDB_SOURCES") or REPO.parent / "shared" / "data").resolve()


def clone(folder: Path) -> Path:
    """The committed state of this repository (HEAD), as `git clone` gives it."""
    target = folder / "tcdb"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True)
    return target


def timed_make(clone_dir: Path, target: str, env: dict[str, str], log: Path) -> dict:
    """`make TARGET` in the clone: wall time, exit status and the log's last lines."""
    start = time.perf_counter()
    with log.open("w") as out:
        status = subprocess.run(
            ["make", target], cwd=clone_dir, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    seconds = time.perf_counter() - start
    return {"target": target, "seconds": seconds, "status": status, "log": str(log)}


def test_summary(log: Path) -> dict:
    """pytest's last summary line and its slowest tests, from the log of `make test`."""
    text = log.read_text(errors="replace")
    summary = [line for line in text.splitlines() if re.search(r"\d+ passed|failed|error", line)]
    slowest = re.findall(r"^\s*(\d+\.\d+)s (call|setup|teardown)\s+(\S+)", text, flags=re.M)
    return {
        "summary": summary[-1].strip("= ") if summary else "",
        "slowest": [{"seconds": float(s), "phase": p, "test": t} for s, p, t in slowest[:20]],
    }


def main() -> None:
    args = parse_args()
    wanted = [t for t in args.only.split(",") if t]
    unknown = set(wanted) - set(TARGETS)
    if unknown:
        sys.exit(f"unknown targets: {', '.join(sorted(unknown))}; choose from {TARGETS}")
    folder = Path(tempfile.mkdtemp(prefix="tcdb-daily-loop-"))
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "targets": []}
    try:
        clone_dir = clone(folder)
        results["commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=clone_dir, capture_output=True, text=True
        ).stdout.strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
        env |= {"TCDB_SOURCES": str(sources()), "PROFILE": args.profile}
        for target in wanted:
            log = folder / f"make-{target}.log"
            outcome = timed_make(clone_dir, target, env, log)
            if target == "run":
                outcome["steps"] = _pipeline_table(log)
            if target == "test":
                outcome |= test_summary(log)
            results["targets"].append(outcome)
            _print(outcome)
            if outcome["status"] != 0:
                break
    finally:
        if args.keep:
            print(f"clone kept at {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    output = args.output or REPO / "benchmarks" / "results" / (
        f"daily_loop-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {output}")


def _pipeline_table(log: Path) -> list[str]:
    """The table `make run` ends with: from its header line to its total."""
    lines = log.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("step ")]
    if not starts:
        return []
    table = lines[starts[-1] :]
    ends = [i for i, line in enumerate(table) if line.startswith("total ")]
    return table[: ends[0] + 1] if ends else table


def _print(outcome: dict) -> None:
    target = outcome["target"]
    budget = TARGETS_S.get(target)
    verdict = ""
    if budget is not None:
        met = "met" if outcome["seconds"] <= budget else "NOT met"
        verdict = f" (budget {budget / 60:.0f} min: {met})"
    print(f"make {target:<8} {outcome['seconds']:8.1f} s  exit {outcome['status']}{verdict}")
    for line in outcome.get("steps", []):
        print(f"    {line}")
    if outcome.get("summary"):
        print(f"    {outcome['summary']}")


if __name__ == "__main__":
    main()
