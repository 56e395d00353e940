"""The study behind the structure experts' ``STRUCTURES_SHARE``: out-of-fold r² of the
composition expert's mixture of trees on SuperCon entries and trees on the structures'
formulas, for each share and composition profile, over a split's training and validation
parts (its test part is never read).

Run: .venv/bin/python benchmarks/experts_composition_share.py [--snapshot default-structures]
     [--protocol grouped] [--folds 5] [--profiles paper,quick] [--output PATH]

Why: the share is a design choice, so it is chosen on data the reported test figures never
saw. The training and validation parts of the protocol's split (seed 0) are cut into folds
grouped by reduced formula (by chemical system under ``grouped-by-system``); in each fold the
entries' trees learn from the SuperCon entries whose composition is in neither that fold nor
the test part (``held_out_entries``), and each profile's trees from the other folds'
structures. Structures more than half hydrogen go to the hydride forest fitted on the other
folds' H-rich structures, as in the model. The rule: the (profile, share) with the highest
r² under ``grouped``. Prints the table and writes it as JSON (default
``benchmarks/results/experts_composition_share-<protocol>.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARES = (0.0, 0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", default="default-structures")
    parser.add_argument("--protocol", default="grouped")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--profiles", default="paper,quick")
    parser.add_argument("--output", type=Path, default=None)
    return parser.parse_args()


def fold_of_rows(groups: np.ndarray, folds: int) -> np.ndarray:
    """Each row's fold: the groups in a seeded order, dealt round the folds."""
    names = np.unique(groups)
    order = names[np.random.default_rng(0).permutation(len(names))]
    fold = {name: k % folds for k, name in enumerate(order)}
    return np.array([fold[g] for g in groups])


def r2(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2))


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    from tcdb.core.families import chemical_system
    from tcdb.core.settings import environment_settings
    from tcdb.ml.evaluation import ByTimeSplit
    from tcdb.ml.model_names import COMPOSITION
    from tcdb.ml.registry import get
    from tcdb.ml.structure_experts.experts import (
        COMPOSITION_COLUMNS,
        fit_composition,
        fit_hydride,
        fit_structures,
        gate,
    )
    from tcdb.ml.structure_experts.training import ExpertsConfig
    from tcdb.ml.structure_features import feature_preset, structure_features
    from tcdb.ml.structure_splits import (
        formula_compositions,
        held_out_entries,
        split_structures,
        structure_years,
    )
    from tcdb.store.snapshots import load_snapshot

    settings = environment_settings()
    snapshot = load_snapshot(settings.snapshots, args.snapshot, settings.db)
    config = ExpertsConfig(protocol=args.protocol)
    frame = snapshot.require_kind("structures").structures
    features = structure_features(
        frame, feature_preset(config.features), settings.cache, progress=False
    )
    labels = frame["label_tc_K"].to_numpy(dtype=float)
    rows = np.flatnonzero(features.valid & np.isfinite(labels))
    numerical, y = features.numerical[rows], labels[rows]
    usable = frame.iloc[rows].reset_index(drop=True)
    years = structure_years(snapshot, usable) if args.protocol == ByTimeSplit.name else None
    protocol, parts = split_structures(usable, config, years)
    pool = np.concatenate([parts.train, parts.validation])
    test = parts.test if parts.test is not None else np.array([], dtype=int)
    formulas = usable["reduced_formula"].to_numpy()[pool]
    if getattr(protocol, "grouped_by", None) == "chemical system":
        groups = np.array([chemical_system(c) for c in formula_compositions(list(formulas))])
    else:
        groups = formulas
    fold = fold_of_rows(groups, args.folds)
    profiles = args.profiles.split(",")
    X = numerical[:, COMPOSITION_COLUMNS]
    entries = np.full(len(pool), np.nan)
    hydride = np.full(len(pool), np.nan)
    structures = {p: np.full(len(pool), np.nan) for p in profiles}
    for k in range(args.folds):
        inner, outer = pool[fold == k], pool[fold != k]
        held = np.concatenate([inner, test])
        X_entries, y_entries, _ = held_out_entries(snapshot, usable, held, protocol)
        members = fit_composition(config, X_entries, y_entries)
        entries[fold == k] = np.mean([m.predict(X[inner]) for m in members], axis=0)
        for profile in profiles:
            trees = get(COMPOSITION).configure(profile, config.seed)
            structures[profile][fold == k] = fit_structures(trees, X[outer], y[outer]).predict(
                X[inner]
            )
        rich = outer[gate(numerical[outer], config.h_fraction)]
        if len(rich) >= 2:
            forest = fit_hydride(config, numerical[rich], y[rich])
            hydride[fold == k] = forest.predict(numerical[inner])
        print(f"fold {k + 1}/{args.folds}: {len(inner)} structures", flush=True)
    to_hydride = gate(numerical[pool], config.h_fraction) & np.isfinite(hydride)
    table = []
    for profile in profiles:
        for share in SHARES:
            mixed = (1 - share) * entries + share * structures[profile]
            score = r2(y[pool], np.where(to_hydride, hydride, mixed))
            table.append({"profile": profile, "share": share, "r2": score})
            print(f"{profile:8s} share {share:.3f}: r² {score:.4f} (n {len(pool)})")
    best = max(table, key=lambda row: row["r2"])
    print(f"highest: {best['profile']} trees with share {best['share']:.3f}, r² {best['r2']:.4f}")
    output = args.output or REPO / "benchmarks" / "results" / (
        f"experts_composition_share-{args.protocol}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "snapshot": snapshot.id,
        "protocol": args.protocol,
        "folds": args.folds,
        "n": len(pool),
        "table": table,
        "highest": best,
    }
    output.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
