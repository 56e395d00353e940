"""Seconds per epoch, peak memory and wall time of training the structural model (CVCNN).

Run: .venv/bin/python benchmarks/cvcnn_training.py [--profile paper|quick|smoke]
     [--configuration NAME] [--set FIELD=VALUE ...] [--epochs N]
     [--snapshot default-structures] [--output FILE.json]

Why: the paper keeps the best of 300 epochs; the full training must fit this 2-core, 24 GB
machine, and `make run` trains the quick profile in the time it allows. A change to the
network or its training (another configuration, batch size, architecture) changes the cost
of an epoch, so the figure to compare is seconds per epoch for a stated configuration. This
script does what ``tcdb train cvcnn`` does (features from the snapshot's cache, seeded 80/20
split, training, saving, validation metrics) on a copy of the database in a temporary folder,
so the user's database gains no run. It reports the first epoch alone (it traces the graph)
and the mean of the later ones, the time in Keras ``fit``, the wall time of the whole training
call, the peak resident memory of the process and the validation metrics, and writes them
with the full configuration as JSON (default ``benchmarks/results/cvcnn_training-<UTC
time>.json``).

The configuration: the named configuration (``ml.structural.parameters.CVCNN_CONFIGURATIONS``), then
the profile's settings (the number of epochs), then ``--epochs``, then each ``--set field=value``
of ``CVCNNConfig``, the later winning.

Target: the paper profile (300 epochs) fits 2 cores and 24 GB; the quick one well under 20 min.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MEMORY_LIMIT_GIB = 24.0
RESULTS = REPO / "benchmarks" / "results"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="paper", help="paper | quick | smoke | ensemble")
    parser.add_argument(
        "--configuration",
        default=None,
        help="tcdb | authors (ml.structural.parameters.CVCNN_CONFIGURATIONS; default tcdb)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any CVCNNConfig field, e.g. --set batch_size=500 --set head_units=512,512",
    )
    parser.add_argument("--epochs", type=int, default=None, help="overrides the profile")
    parser.add_argument("--snapshot", default="default-structures")
    parser.add_argument("--output", type=Path, default=None, help="the JSON file to write")
    return parser.parse_args()


def configuration(args: argparse.Namespace):
    """The CVCNNConfig to train: named configuration, profile, --epochs, --set, the later
    winning (a profile sets the run's length, a configuration the network and its training)."""
    from tcdb.core.overrides import parse_overrides
    from tcdb.ml.structural.cvcnn import CVCNNConfig, configured
    from tcdb.ml.structural.parameters import CVCNN_PROFILES, DEFAULT_CVCNN_CONFIGURATION

    values = dict(CVCNN_PROFILES[args.profile])
    if args.epochs is not None:
        values["epochs"] = args.epochs
    values.update(parse_overrides(CVCNNConfig, args.overrides))
    tuples = {f.name for f in dataclasses.fields(CVCNNConfig) if isinstance(f.default, tuple)}
    values = {k: tuple(v) if k in tuples else v for k, v in values.items()}
    return configured(args.configuration or DEFAULT_CVCNN_CONFIGURATION, **values)


def epoch_figures(epoch_seconds: list[float]) -> dict[str, Any]:
    """The first epoch alone (graph tracing) and the later ones' mean, spread and count."""
    later = epoch_seconds[1:]
    return {
        "first_epoch_s": epoch_seconds[0] if epoch_seconds else None,
        "later_epochs": len(later),
        "later_epoch_mean_s": statistics.fmean(later) if later else None,
        "later_epoch_stdev_s": statistics.stdev(later) if len(later) > 1 else None,
        "epoch_seconds": epoch_seconds,
    }


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    from tcdb.core.atomic_files import write_text_atomically
    from tcdb.core.output_paths import protected_paths
    from tcdb.core.settings import environment_settings
    from tcdb.core.timestamps import utcnow
    from tcdb.ml.contract import FitContext
    from tcdb.ml.registry import get
    from tcdb.ml.training import train
    from tcdb.schema.database import connect
    from tcdb.store.snapshots import load_snapshot

    settings = environment_settings()
    if args.output is not None:  # refused before any measurement if it would touch the database
        args.output = protected_paths(settings).check_file(args.output, make_folder=True)
    config = configuration(args)
    snapshot = load_snapshot(settings.snapshots, args.snapshot)
    measured_at = utcnow()
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
        history = json.loads((run.path / "history.json").read_text())
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    epochs = epoch_figures(history.get("epoch_seconds", []))
    v = run.metrics["validation"]
    record = {
        "benchmark": "cvcnn_training",
        "measured_at": measured_at.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "cpus": _cpus(),
        },
        "snapshot": snapshot.id,
        "profile": args.profile,
        "configuration_name": config.configuration,
        "overrides": args.overrides,
        "configuration": config.as_dict(),
        "epochs_run": run.metrics["epochs_run"],
        "best_epoch": run.metrics["best_epoch"] + 1,
        **epochs,
        "keras_fit_s": run.metrics["training_seconds"],
        "training_call_s": total,
        "peak_resident_GiB": peak_gib,
        "validation": v,
        "n_train": run.metrics["n_train"],
    }
    output = args.output or RESULTS / f"cvcnn_training-{measured_at:%Y%m%dT%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(output, json.dumps(record, indent=2, default=str) + "\n")
    later = epochs["later_epoch_mean_s"]
    print(f"snapshot                  {snapshot.id}")
    changed = "".join(f" --set {o}" for o in args.overrides)
    print(f"profile                   {args.profile}, configuration "
          f"{config.configuration}{changed}: {config.epochs} epochs "
          f"(best {record['best_epoch']})")  # fmt: skip
    print(f"first epoch               {epochs['first_epoch_s'] or float('nan'):8.2f} s "
          "(graph tracing included)")  # fmt: skip
    print(f"later epochs, mean        {later if later is not None else float('nan'):8.2f} s "
          f"over {epochs['later_epochs']}")  # fmt: skip
    print(f"training call             {total:8.1f} s "
          f"(Keras fit {run.metrics['training_seconds']:.1f} s)")  # fmt: skip
    print(
        f"validation                r² {v['r2']:.4f}, RMSE {v['rmse_K']:.2f} K, "
        f"MAE {v['mae_K']:.2f} K on {v['n']} structures ({run.metrics['n_train']} trained)"
    )
    print(f"peak resident memory      {peak_gib:8.2f} GiB (limit {MEMORY_LIMIT_GIB:.0f} GiB: "
          f"{'fits' if peak_gib < MEMORY_LIMIT_GIB else 'does NOT fit'})")  # fmt: skip
    print(f"written                   {output}")


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    from tcdb.core.errors import TcdbError

    try:
        main()
    except TcdbError as exc:  # one sentence, as the command line says it
        sys.exit(f"error: {exc}")
