"""Ingest speed on the real sources (issue 3 targets).

Run: .venv/bin/python benchmarks/ingest_speed.py [--sources PATH]

Measures, on a new database in a temporary folder:
- the whole NIMS SuperCon table (26,321 rows): read, parse and load (target: under 2 s);
- the 4,266 Materials Project CIFs of the offline mirror (target: under 60 s on 2 cores);
- re-ingesting every source unchanged (target: under 2 s);
- ``tcdb ingest all --force`` on a fresh database, in its own process as a user runs it
  (imports, hashing, parsing and loading of every source; ``--only-command`` runs this alone).
Library imports are warmed first and reported apart: they are paid once per process.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ingest_all_command(sources: Path) -> tuple[float, float]:
    """Wall time and CPU time (the command and its worker processes) of
    ``tcdb ingest all --force`` on a new database, in a fresh process. The CPU time varies
    less than the wall time when other work shares the machine."""
    env = {k: v for k, v in os.environ.items() if k != "MP_API_KEY"}  # the offline mirror
    with tempfile.TemporaryDirectory() as folder:
        tcdb = [sys.executable, "-m", "tcdb.cli", "--db", str(Path(folder) / "bench.duckdb")]
        subprocess.run([*tcdb, "db", "upgrade"], check=True, capture_output=True, env=env)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [*tcdb, "--sources", str(sources), "ingest", "all", "--force"],
            check=True,
            capture_output=True,
            env=env,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu


def print_ingest_all(sources: Path) -> None:
    wall, cpu = ingest_all_command(sources)
    print(f"{'tcdb ingest all --force (new db)':<34}{wall:6.2f} s   CPU {cpu:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from tcdb.core.settings import environment_settings

    parser.add_argument("--sources", type=Path, default=environment_settings().sources)
    parser.add_argument(
        "--only-command", action="store_true", help="time only `tcdb ingest all --force`"
    )
    options = parser.parse_args()
    if options.only_command:
        print_ingest_all(options.sources)
        return

    start = time.perf_counter()
    import pymatgen.core  # noqa: F401

    from tcdb.core.composition import material_row, normalise
    from tcdb.core.supercon_formula import parse_supercon_formula
    from tcdb.ingest import pipeline
    from tcdb.ingest.sources import mp_mirror, nims_supercon, stanev_supercon
    from tcdb.schema import migrate
    from tcdb.schema.bulk import rows_table
    from tcdb.schema.database import connect

    material_row(normalise({"La": 1, "H": 10}))
    parse_supercon_formula("LaH10")
    rows_table([{"a": 1}])
    print(f"imports (once per process)        {time.perf_counter() - start:6.2f} s")

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        migrate.upgrade(db)
        conn = connect(db)
        try:
            timings = {}
            for label, source in (
                ("NIMS SuperCon table (26,321 rows)", nims_supercon),
                ("Stanev SuperCon table", stanev_supercon),
                ("Materials Project mirror (CIFs)", mp_mirror),
            ):
                t0 = time.perf_counter()
                outcome = pipeline.run_job(conn, source, options.sources)
                timings[label] = time.perf_counter() - t0
                print(f"{label:<34}{timings[label]:6.2f} s   {outcome.message}")
            t0 = time.perf_counter()
            pipeline.ingest(conn, "literature", options.sources)
            print(f"{'literature (CSV + 51 CIFs)':<34}{time.perf_counter() - t0:6.2f} s")
            t0 = time.perf_counter()
            outcomes = pipeline.ingest(conn, "all", options.sources)
            elapsed = time.perf_counter() - t0
            statuses = {o.status for o in outcomes}
            print(f"{'re-ingest everything unchanged':<34}{elapsed:6.2f} s   statuses {statuses}")
        finally:
            conn.close()
    print_ingest_all(options.sources)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB (this process), {children:.0f} MB (largest worker)")


if __name__ == "__main__":
    main()
