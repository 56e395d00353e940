"""Ingest speed on the real sources (issue 3 targets).

Run: .venv/bin/python benchmarks/ingest_speed.py [--sources PATH]

Measures, on a new database in a temporary folder:
- the whole NIMS SuperCon table (26,321 rows): read, parse and load (target: under 2 s);
- the 4,266 Materials Project CIFs of the offline mirror (target: under 60 s on 2 cores);
- re-ingesting every source unchanged (target: under 2 s).
Library imports are warmed first and reported apart: they are paid once per process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from core.settings import environment_settings

    parser.add_argument("--sources", type=Path, default=environment_settings().sources)
    options = parser.parse_args()

    start = time.perf_counter()
    import pymatgen.core  # noqa: F401

    from core.composition import material_row, normalise
    from core.supercon_formula import parse_supercon_formula
    from ingest import pipeline
    from schema import migrate
    from schema.bulk import rows_table
    from schema.database import connect

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
            for label, group_or_job in (
                ("NIMS SuperCon table (26,321 rows)", pipeline.JOBS["supercon"][0]),
                ("Stanev SuperCon table", pipeline.JOBS["supercon"][1]),
                ("Materials Project mirror (CIFs)", pipeline.JOBS["materials-project"][0]),
            ):
                t0 = time.perf_counter()
                outcome = pipeline.run_job(conn, group_or_job, options.sources)
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
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB (this process), {children:.0f} MB (largest worker)")


if __name__ == "__main__":
    main()
