"""How fast the 64-member (T_c, P) hydride ensemble trains and screens, and how well it predicts.

Run: .venv/bin/python benchmarks/hydride_training.py [--members 64] [--epochs 2000]
     [--threads N] [--seed 0] [--snapshot ID|NAME|PATH] [--repeat 5]

Why: the paper's error estimate needs 64 trainings of its network on 64 random 75/25 splits;
one Keras ``fit`` after another would take minutes, which is too slow to rerun with every new
snapshot. ``ml.hydride_ensemble`` trains all members at once. This script loads the frozen
hydride snapshot, builds the eight descriptors with ``hydride_matrix`` (default configuration),
standardises them with the screening grid's statistics (label-free), trains the default
ensemble and prints the wall time (graph tracing included), the time per epoch, the peak
resident memory, the mean best epoch, and the out-of-fold RMSE / MAE / R² of T_c and P for the
ensemble beside ordinary linear regression on the same splits (and, for scale, the training
mean). Then it times predicting the whole screening grid (every screenable element,
n = 1 … 31) with all members.

Targets: the full 64-member ensemble trained in under 10 minutes on this machine (aim: well
under 1 minute); the grid predicted by all 64 members in under 10 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml import hydride_ensemble as he  # noqa: E402
from ml.hydride_descriptors import hydride_matrix, screening_grid  # noqa: E402
from ml.hydride_training import METRIC_PREFIXES as TARGETS  # noqa: E402
from ml.metrics import regression_targets  # noqa: E402

SNAPSHOT = "default-hydrides"  # the hydrides snapshot `make run` freezes (an id, name or path)
TRAINING_TARGET_S = 600.0
GRID_TARGET_S = 10.0


def snapshot_entries(ref: str) -> Path:
    """The entries file of a snapshot given by path, id or name (in the settings' folder)."""
    if Path(ref).is_file():
        return Path(ref)
    from core.settings import environment_settings
    from store.snapshots import load_snapshot

    return load_snapshot(environment_settings().snapshots, ref).path / "entries.parquet"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = he.HydrideMLPConfig()
    parser.add_argument("--members", type=int, default=defaults.members)
    parser.add_argument("--epochs", type=int, default=defaults.max_epochs)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--threads", type=int, default=0, help="TensorFlow intra-op threads (0: its default)"
    )
    parser.add_argument("--snapshot", default=SNAPSHOT)
    parser.add_argument("--repeat", type=int, default=5, help="timed grid predictions")
    return parser.parse_args()


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_tensorflow(threads: int) -> float:
    """Import TensorFlow (legacy Keras) and fix its thread pools; returns the seconds taken."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    start = time.perf_counter()
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return time.perf_counter() - start


def load_data(snapshot: Path) -> tuple[np.ndarray, np.ndarray]:
    """Descriptors (n, 8) and targets (n, 2) = [T_c K, P GPa] of the snapshot's hydrides."""
    frame = pd.read_parquet(snapshot, columns=["element", "n_h", "tc_K", "pressure_GPa"])
    X, _ = hydride_matrix(frame["element"].tolist(), frame["n_h"].to_numpy(dtype=float))
    return X, frame[["tc_K", "pressure_GPa"]].to_numpy(dtype=float)


def mean_predictor_oof(y: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Each member predicts its training mean; averaged out of fold like the others."""
    members = np.stack([np.broadcast_to(y[~held].mean(axis=0), y.shape) for held in masks])
    return he._oof_mean(members, masks)


def print_metrics(columns: dict[str, dict[str, float]]) -> None:
    """Side-by-side table: rows (target, metric), one column per model."""
    names = list(columns)
    print(f"  {'out-of-fold':<24}" + "".join(f"{name:>14}" for name in names))
    for prefix, unit in (("tc", "K"), ("pressure", "GPa")):
        for metric in ("rmse", "mae", "r2"):
            label = f"{prefix} {metric}" + ("" if metric == "r2" else f" ({unit})")
            values = "".join(f"{columns[name][f'{prefix}_{metric}']:>14.3f}" for name in names)
            print(f"  {label:<24}{values}")
    counts = "".join(f"{columns[name]['n']:>14d}" for name in names)
    print(f"  {'points held out':<24}{counts}")


def time_grid(ensemble: he.HydrideEnsemble, grid: np.ndarray, repeat: int) -> list[float]:
    """Seconds per full-grid prediction with all members (first call included)."""
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        ensemble.predict(grid)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args.snapshot = snapshot_entries(args.snapshot)
    print(f"snapshot {args.snapshot}")
    tf_import_s = import_tensorflow(args.threads)
    X, y = load_data(args.snapshot)
    grid, elements, _ = screening_grid()
    print(
        f"data {X.shape[0]} hydrides x {X.shape[1]} descriptors; grid {grid.shape[0]} rows "
        f"({len(set(elements))} elements x 31); TensorFlow import {tf_import_s:.1f} s; "
        f"threads {args.threads or 'default'}"
    )
    config = he.HydrideMLPConfig(members=args.members, max_epochs=args.epochs, seed=args.seed)
    print(f"config {config.as_dict()}")
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    ensemble = he.HydrideEnsemble(config).fit(X, y, grid.mean(axis=0), grid.std(axis=0))
    wall = time.perf_counter() - start
    print(
        f"training: {wall:.1f} s for {config.members} members x {config.max_epochs} epochs "
        f"({1e3 * wall / config.max_epochs:.2f} ms per epoch for all members, "
        f"{1e3 * wall / (config.max_epochs * config.members):.3f} ms per member-epoch); "
        f"target < {TRAINING_TARGET_S:.0f} s: {'met' if wall < TRAINING_TARGET_S else 'MISSED'}"
    )
    print(f"peak resident memory {rss_before:.0f} MiB before fit, {peak_rss_mib():.0f} MiB after")
    best = ensemble.best_epochs_
    late = int((best >= 0.95 * config.max_epochs).sum())
    print(
        f"best epoch (0-based): mean {best.mean():.0f}, median {np.median(best):.0f}, "
        f"min {best.min()}, max {best.max()}; {late} of {config.members} members in the last 5 %"
    )
    masks = ensemble.validation_masks_
    print_metrics(
        {
            "ensemble": regression_targets(y, ensemble.oof_predictions(), TARGETS),
            "linear": regression_targets(y, he.linear_baseline_oof(X, y, masks), TARGETS),
            "train mean": regression_targets(y, mean_predictor_oof(y, masks), TARGETS),
        }
    )
    times = time_grid(ensemble, grid, args.repeat)
    print(
        f"grid prediction ({grid.shape[0]} rows x {config.members} members): first "
        f"{times[0]:.3f} s, best {min(times):.3f} s; target < {GRID_TARGET_S:.0f} s: "
        f"{'met' if max(times) < GRID_TARGET_S else 'MISSED'}"
    )
    print(f"peak resident memory at the end {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
