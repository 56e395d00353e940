"""How long the whole Fm-3m MgH13 X/Y morph map with its lattice scans takes, end to end.

Run: .venv/bin/python benchmarks/morph_mgh13.py [--run latest|RUN_ID] [--scan-points 16]
     [--elements H,Li,...]

Why: Novakovic et al. (2023, Fig. 4) map every X on the Mg site and Y on the centre H site
(Z 1-86 without noble gases: 80 x 80 pairs) and scan each pair's lattice to find its peak T_c;
with 16 scales that is 102,400 structures to build, featurise, predict and store. This script
does exactly what ``tcdb morph run mgh13-xy`` does, on a copy of the database in a temporary
folder (so the user's database is left alone), and prints the wall time split into loading the
model, building + featurising + predicting, and storing, with the throughput and the peak
resident memory.

Target: under 15 minutes on the 2-core machine of docs/stack.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_S = 15 * 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="latest", help="cvcnn run id or 'latest'")
    parser.add_argument("--scan-points", type=int, default=16)
    parser.add_argument("--elements", default=None, help="comma-separated subset (default all)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    from tcdb.cli.discovery import read_references
    from tcdb.core.settings import environment_settings
    from tcdb.ml.structural.morph_runs import run_family
    from tcdb.ml.structural.morphs import FAMILIES
    from tcdb.ml.structural.parameters import MORPH
    from tcdb.ml.structural.predictor import StructuralModel
    from tcdb.schema.database import connect
    from tcdb.store.model_runs import resolve_run

    settings = environment_settings()
    params = dataclasses.replace(MORPH, scan_points=args.scan_points)
    only = args.elements.split(",") if args.elements else None
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tcdb.duckdb"
        shutil.copy(settings.db, db)
        conn = connect(db)
        try:
            start = time.perf_counter()
            run_path = resolve_run(settings.runs, conn, args.run, "cvcnn")
            model = StructuralModel.load(run_path)
            loaded = time.perf_counter()
            family = FAMILIES["mgh13-xy"]
            (outcome,) = run_family(
                conn, model, family, None, params, only, progress=True,
                references=read_references(conn, family),
            )  # fmt: skip
            total = time.perf_counter() - start
            best = conn.execute(
                "SELECT formula, tc_peak_K, tc_lowest_K FROM morph_top_candidates "
                "WHERE family = 'mgh13-xy' ORDER BY rank LIMIT 3"
            ).fetchall()
        finally:
            conn.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model run                 {run_path.name}")
    print(f"structures                {outcome.candidates:,} ({outcome.predicted:,} predicted)")
    print(f"loading the model         {loaded - start:8.1f} s")
    print(f"build, featurise, predict, store {outcome.seconds:8.1f} s "
          f"({outcome.candidates / outcome.seconds:,.0f} structures/s)")  # fmt: skip
    print(f"total                     {total:8.1f} s  (target {TARGET_S:.0f} s: "
          f"{'met' if total < TARGET_S else 'NOT met'})")  # fmt: skip
    print(f"peak resident memory      {peak_mib:8.0f} MiB")
    print("top three by peak T_c     " + "; ".join(f"{f} {p:.0f}-{lo:.0f} K" for f, p, lo in best))


if __name__ == "__main__":
    main()
