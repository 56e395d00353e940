"""The composition model's grouped 10-fold cross-validation: the default (quick) model against
the former quick model (Hamidieh's trees capped at 63 leaves, 81 descriptors) on the same folds.

Run: .venv/bin/python benchmarks/composition_cv.py [--snapshot default-structures]
     [--profiles quick,hamidieh-quick] [--linear] [--output PATH]

Why: the default composition model chooses its settings by inner validation inside each
training fold and fits several members, so its cross-validation costs more than one fixed
model; users retrain it after every snapshot. Reads the snapshot only (no database writes).
Prints, per profile, RMSE, MAE, R², n, the spread's calibration (share within ±1σ) and the
seconds the cross-validation took; writes one JSON line per fold and per profile as it goes.
With --linear, also ridge regression on the profile's standardised descriptors, same folds.

Target: R² >= 0.945 and RMSE <= 7.5 K grouped by composition; the default's CV in under
5 minutes on the 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_S = 300.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", default="default-structures")
    parser.add_argument("--profiles", default="quick,hamidieh-quick")
    parser.add_argument("--linear", action="store_true",
                        help="also ridge on each profile's descriptors and folds")  # fmt: skip
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results"
                        / "composition_cv.jsonl")  # fmt: skip
    return parser.parse_args()


def main() -> None:
    from tcdb.core.output_paths import protected_paths
    from tcdb.core.settings import Settings

    args = parse_args()
    settings = Settings()
    # refused before any import or measurement if it would touch the database or a kept folder
    args.output = protected_paths(settings).check_file(args.output, make_folder=True)
    from tcdb.ml.composition.ensemble import calibration
    from tcdb.ml.composition.training import composition_data, protocol_oof, protocol_splits
    from tcdb.ml.evaluation import GroupedByComposition, score
    from tcdb.ml.registry import get
    from tcdb.store.snapshots import load_snapshot

    snapshot = load_snapshot(settings.snapshots, args.snapshot)
    for profile in args.profiles.split(","):
        config = get("composition").configure(profile)
        data = composition_data(snapshot, preset=config.descriptors)
        splits, _ = protocol_splits(config, data, f"Snapshot {snapshot.id}")
        protocol = GroupedByComposition(config.folds, config.seed)  # names the scores
        start = time.perf_counter()
        fold_done = fold_writer(args.output, profile, protocol, data.y, start)
        oof = protocol_oof(config, data, splits, fold_done)
        predicted, std = oof.predicted, oof.std
        seconds = time.perf_counter() - start
        result = score(protocol, data.y, predicted) | {
            "profile": profile,
            "descriptors": config.descriptors,
            "seconds": seconds,
            "uncertainty": calibration(data.y, predicted, std),
            "target_s": TARGET_S,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write(args.output, result)
        print(f"{profile}: RMSE {result['rmse_K']:.2f} K, MAE {result['mae_K']:.2f} K, "
              f"R² {result['r2']:.3f}, n {result['n']:,}, {seconds:.0f} s")  # fmt: skip
        if args.linear:
            linear = linear_baseline(data, splits, protocol) | {"profile": f"{profile}/ridge"}
            write(args.output, linear)
            print(f"ridge, same descriptors and folds: RMSE {linear['rmse_K']:.2f} K, "
                  f"MAE {linear['mae_K']:.2f} K, R² {linear['r2']:.3f}, "
                  f"n {linear['n']:,}")  # fmt: skip


def linear_baseline(data, splits, protocol) -> dict:
    """Ridge regression on the standardised descriptors, fitted and scored on the same
    splits: the simple model the trees must beat."""
    import numpy as np
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from tcdb.ml.evaluation import score
    from tcdb.ml.structural.parameters import STRUCTURAL_BASELINES

    predicted = np.full(len(data.y), np.nan)
    for train, test in splits:
        model = make_pipeline(StandardScaler(), Ridge(alpha=STRUCTURAL_BASELINES.ridge_alpha))
        predicted[test] = model.fit(data.X[train], data.y[train]).predict(data.X[test])
    return score(protocol, data.y, predicted)


def fold_writer(output: Path, profile: str, protocol, y, start: float):
    """The per-fold callback: one JSON line with the fold's score, the seconds since
    ``start`` and what the inner search chose."""
    from tcdb.ml.evaluation import score

    def fold_done(number: int, test, predicted, chosen: dict) -> None:
        fold = score(protocol, y[test], predicted)
        write(output, {"profile": profile, "fold": number, "seconds":
                       time.perf_counter() - start, "chosen": chosen,
                       "rmse_K": fold["rmse_K"], "r2": fold["r2"]})  # fmt: skip

    return fold_done


def write(path: Path, record: dict) -> None:
    """One JSON line appended (the file grows as folds finish; it is never replaced)."""
    with path.open("a") as out:
        out.write(json.dumps(record, default=float) + "\n")


if __name__ == "__main__":
    from tcdb.core.errors import TcdbError

    try:
        main()
    except TcdbError as exc:  # one sentence, as the command line says it
        sys.exit(f"error: {exc}")
