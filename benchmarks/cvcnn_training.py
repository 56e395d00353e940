"""Time and peak memory of training the structural model (CVCNN) on a structures snapshot.

Run: .venv/bin/python benchmarks/cvcnn_training.py [--profile paper|quick|smoke]
     [--configuration tcdb|authors] [--epochs N] [--snapshot default-structures]

Why: the paper keeps the best of 300 epochs; the full training must fit this 2-core, 24 GB
machine, and `make run` trains the quick profile in the time it allows. This script does what
``tcdb train cvcnn`` does (features from the snapshot's cache, seeded 80/20 split, training,
saving, validation metrics) on a copy of the database in a temporary folder, so the user's
database gains no run, and prints the wall time of the whole training call, the time spent in
Keras ``fit``, the validation metrics and the peak resident memory of the process.

Target: the paper profile (300 epochs) fits 2 cores and 24 GB; the quick one well under 20 min.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEMORY_LIMIT_GIB = 24.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="paper", help="paper | quick | smoke | ensemble")
    parser.add_argument("--configuration", default=None, help="tcdb | authors (default: tcdb)")
    parser.add_argument("--epochs", type=int, default=None, help="overrides the profile")
    parser.add_argument("--snapshot", default="default-structures")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    from core.settings import environment_settings
    from ml.contract import FitContext
    from ml.registry import get
    from ml.training import train
    from schema.database import connect
    from store.snapshots import load_snapshot

    settings = environment_settings()
    config = get("cvcnn").configure(
        args.profile, configuration=args.configuration, epochs=args.epochs
    )
    snapshot = load_snapshot(settings.snapshots, args.snapshot)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tcdb.duckdb"
        shutil.copy(settings.db, db)
        conn = connect(db)
        try:
            start = time.perf_counter()
            run = train(get("cvcnn"), conn, snapshot, Path(folder) / "runs", config,
                        args.profile, FitContext(settings.cache, progress=False))  # fmt: skip
            total = time.perf_counter() - start
        finally:
            conn.close()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    v = run.metrics["validation"]
    print(f"snapshot                  {snapshot.id}")
    print(f"configuration             {config.configuration}")
    print(f"profile                   {args.profile}: {config.epochs} epochs "
          f"(best {run.metrics['best_epoch'] + 1})")  # fmt: skip
    print(
        f"training call             {total:8.1f} s "
        f"(Keras fit {run.metrics['training_seconds']:.1f} s)"
    )
    print(
        f"validation                r² {v['r2']:.4f}, RMSE {v['rmse_K']:.2f} K, "
        f"MAE {v['mae_K']:.2f} K on {v['n']} structures ({run.metrics['n_train']} trained)"
    )
    print(f"peak resident memory      {peak_gib:8.2f} GiB (limit {MEMORY_LIMIT_GIB:.0f} GiB: "
          f"{'fits' if peak_gib < MEMORY_LIMIT_GIB else 'does NOT fit'})")  # fmt: skip


if __name__ == "__main__":
    main()
