"""Curation and snapshot speed on the real sources (issue 4 target: under 30 s in all).

Run: .venv/bin/python benchmarks/curate_speed.py [--sources PATH]

Ingests every source into a new database in a temporary folder (not timed), then times one
curation pass and freezing both snapshot kinds, in one process with libraries imported.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from tcdb.core.settings import environment_settings

    parser.add_argument("--sources", type=Path, default=environment_settings().sources)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from tcdb.curate.parameters import SnapshotParameters
    from tcdb.curate.run import run_curation
    from tcdb.curate.snapshots import create_snapshot
    from tcdb.ingest import pipeline
    from tcdb.schema import migrate
    from tcdb.schema.database import connect

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        migrate.upgrade(db)
        conn = connect(db)
        try:
            pipeline.ingest(conn, "all", options.sources)
            start = time.perf_counter()
            outcome = run_curation(conn, force=True)
            curated = time.perf_counter()
            sizes = {}
            for kind in ("structures", "hydrides"):
                snapshot = create_snapshot(
                    conn, f"bench-{kind}", SnapshotParameters(kind=kind), Path(folder) / "snap"
                )
                sizes[kind] = snapshot.manifest["counts"]
            done = time.perf_counter()
        finally:
            conn.close()
    print(f"curation pass                {curated - start:6.2f} s   {outcome.n_groups:,} groups")
    print(f"both snapshots               {done - curated:6.2f} s   {sizes}")
    print(f"curate + freeze both, total  {done - start:6.2f} s   (target < 30 s)")


if __name__ == "__main__":
    main()
