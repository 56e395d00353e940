"""The local and Ray engines side by side on 1k, 10k and 100k morph candidates of MgH13.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/screening_engines.py [--run latest|RUN_ID]
     [--sizes 1k,10k,100k] [--engines local,ray]

Why: ``--engine ray`` is worth its start-up only past some size; docs/scaling.md needs the
measured throughput of both engines on this machine, where they cross, the start-up cost and
the memory each Ray worker takes, to say what a 10-million-structure screen costs on N nodes.
Each (engine, size) runs in a fresh process on a copy of the database (the user's database is
left alone): ``tcdb morph run mgh13-xy`` with 16 scales per pair over the first k elements
(8 elements: 1,024 morphs; 25: 10,000; all 80: 102,400). Start-up is loading the model (local)
or starting Ray with its actor pool and the first shard's imports (ray); throughput is morphs
per second of the rest. Memory: the peak resident set of the local process, and of each Ray
worker (read from /proc while the pool is up).

Target: Ray at 100k reaches at least 0.8 × the local engine's throughput.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SIZES = {"1k": 8, "10k": 25, "100k": None}  # elements of the X/Y map (16 scales per pair)
TARGET = 0.8


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="latest", help="cvcnn run id or 'latest'")
    parser.add_argument("--sizes", default="1k,10k,100k")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # engine:size, in a child
    return parser.parse_args()


def _peak_mib(pid: int | str = "self") -> float:
    """VmHWM (peak resident set) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ray_workers() -> dict[int, str]:
    """Ray's worker processes on this machine: pid -> their title (ray::Name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if title.startswith("ray::"):
            found[int(entry.name)] = title
    return found


def one(args: argparse.Namespace, engine: str, size: str) -> dict:
    """One engine on one size, in this (fresh) process; the figures as a dict."""
    logging.basicConfig(level=logging.WARNING)
    from tcdb.cli.discovery import read_references
    from tcdb.core.settings import environment_settings
    from tcdb.ml.element_data import atomic_number
    from tcdb.ml.screening_engine import EngineChoice, Screening, ray_session
    from tcdb.ml.structural.morph_runs import run_family, run_family_sharded
    from tcdb.ml.structural.morphs import FAMILIES, elements
    from tcdb.ml.structural.parameters import MORPH
    from tcdb.ml.structural.predictor import ModelPackage, StructuralModel
    from tcdb.schema.database import Database
    from tcdb.store.model_runs import resolve_run

    settings = environment_settings()
    params = dataclasses.replace(MORPH, scan_points=16)
    count = SIZES[size]
    pool = sorted(elements(params, None), key=atomic_number)
    only = pool[:count] if count else None
    family = FAMILIES["mgh13-xy"]
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "tcdb.duckdb")
        shutil.copy(settings.db, db.path)
        with db.reading() as conn:
            run = resolve_run(settings.runs, conn, args.run, "cvcnn")
        references = read_references(db, family)
        start = time.perf_counter()
        workers: dict = {}
        if engine == "local":
            model = StructuralModel.load(run)
            ready = time.perf_counter()
            (outcome,) = run_family(db, model, family, None, params, only, progress=False,
                                    references=references)  # fmt: skip
        else:
            package = ModelPackage.of(run)
            with ray_session(EngineChoice("ray"), package) as session:
                session.actor_pids()  # the pool is up and holds the networks
                ready = time.perf_counter()
                screening = Screening(session, Path(folder) / "jobs")
                (outcome,) = run_family_sharded(db, screening, package, family, None, params,
                                                only, references=references)  # fmt: skip
                workers = {f"{title} {pid}": round(_peak_mib(pid)) for pid, title in
                           _ray_workers().items()}  # fmt: skip
        done = time.perf_counter()
    return {
        "engine": engine,
        "size": size,
        "morphs": outcome.candidates,
        "predicted": outcome.predicted,
        "startup_s": round(ready - start, 1),
        "compute_s": round(done - ready, 1),
        "total_s": round(done - start, 1),
        "per_s": round(outcome.candidates / (done - ready), 1),
        "per_s_total": round(outcome.candidates / (done - start), 1),
        "driver_store_s": round(outcome.job.load_seconds, 1) if outcome.job else None,
        "driver_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "ray_workers_peak_mib": workers,
    }


def main() -> None:
    args = parse_args()
    if args.one:
        engine, size = args.one.split(":")
        print(json.dumps(one(args, engine, size)))
        return
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, {os.cpu_count()} CPUs")
    results = []
    for size in args.sizes.split(","):
        for engine in args.engines.split(","):
            child = subprocess.run(
                [sys.executable, __file__, "--run", args.run, "--one", f"{engine}:{size}"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if child.returncode != 0:
                print(child.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{engine} on {size} failed")
            result = json.loads(child.stdout.strip().splitlines()[-1])
            results.append(result)
            print(json.dumps(result), flush=True)
    print(f"{'size':>5} {'engine':>6} {'morphs':>8} {'start s':>8} {'rest s':>8} "
          f"{'morphs/s':>9} {'end to end/s':>12}")  # fmt: skip
    for r in results:
        print(f"{r['size']:>5} {r['engine']:>6} {r['morphs']:>8,} {r['startup_s']:>8} "
              f"{r['compute_s']:>8} {r['per_s']:>9} {r['per_s_total']:>12}")  # fmt: skip
    by = {(r["engine"], r["size"]): r for r in results}
    if ("local", "100k") in by and ("ray", "100k") in by:
        ratio = by["ray", "100k"]["per_s_total"] / by["local", "100k"]["per_s_total"]
        verdict = "meets" if ratio >= TARGET else "misses"
        print(f"ray / local at 100k, end to end: {ratio:.2f} ({verdict} the target {TARGET})")


if __name__ == "__main__":
    main()
