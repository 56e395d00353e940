"""The study behind the structure experts' ``STRUCTURES_SHARE``, ``HYDRIDE_MAX_FEATURES`` and
``HYDRIDE_MIN_LEAF``: out-of-fold r² of the composition expert's mixture of trees on SuperCon
entries and trees on the structures' formulas, for each share and composition profile, then of
the hydride forest's settings beside the best mixture, and the normal likelihood of the
mixture's errors under σ ∝ spread + weight × |T_c| (``TC_WEIGHTS``), over a split's training
and validation parts (its test part is never read).

Run: .venv/bin/python benchmarks/experts_design.py [--snapshot default-structures]
     [--protocol grouped] [--folds 5] [--profiles paper,quick] [--output PATH]

Why: the share is a design choice, so it is chosen on data the reported test figures never
saw. The training and validation parts of the protocol's split (seed 0) are cut into folds
grouped by reduced formula (by chemical system under ``grouped-by-system``); in each fold the
entries' trees learn from the SuperCon entries whose composition is in neither that fold nor
the test part (``held_out_entries``), and each profile's trees from the other folds'
structures. Structures more than half hydrogen go to the hydride forest fitted on the other
folds' H-rich structures, as in the model (first with the settings of the earlier design, a
third of the descriptors per split and leaves of 1). The rule: the (profile, share), then the
(descriptor share, leaf) of the hydride forest, with the highest r² under ``grouped``. Prints
the tables and writes them as JSON (default
``benchmarks/results/experts_design-<protocol>.json``).
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
MAX_FEATURES = (1 / 3, 0.5, 2 / 3, 1.0)
MIN_LEAVES = (1, 2, 4)


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


def tc_weight_likelihoods(y, entries, members, structures, share) -> list[dict]:
    """Mean normal negative log-likelihood of the composition rows' errors for each weight of
    ``TC_WEIGHTS``: the mixture's T_c and spread as the model forms them (``mixture``), σ =
    factor × (spread + weight × unit × |T_c|) with the factor the model's calibration sets
    (``factor_and_likelihood``; the distance term is left out: it needs each fold's domain)."""
    from tcdb.ml.structure_experts.experts import factor_and_likelihood, mixture, weight_unit
    from tcdb.ml.structure_experts.parameters import MIN_SPREAD_K, TC_WEIGHTS

    tc, spread = mixture(entries, members, structures, share)
    spread = np.maximum(spread, MIN_SPREAD_K)
    error = np.abs(y - tc)
    unit = weight_unit(spread, np.abs(tc))
    out = []
    for weight in TC_WEIGHTS:
        _, nll = factor_and_likelihood(error, spread + weight * unit * np.abs(tc))
        out.append({"tc_weight": weight, "nll": nll})
        print(f"σ with T_c weight {weight:.2f}: negative log-likelihood {nll:.3f} (n {len(y)})")
    return out


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING)
    from dataclasses import replace

    from tcdb.core.families import chemical_system
    from tcdb.core.settings import environment_settings
    from tcdb.ml.evaluation import ByTimeSplit
    from tcdb.ml.metrics import regression
    from tcdb.ml.model_names import COMPOSITION
    from tcdb.ml.registry import get
    from tcdb.ml.structure_experts.experts import (
        COMPOSITION_COLUMNS,
        fit_composition,
        fit_hydride,
        fit_structures,
        gate,
        mixture,
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
    config = ExpertsConfig(protocol=args.protocol, hydride_max_features=1 / 3, hydride_min_leaf=1)
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
    members_spread = np.full(len(pool), np.nan)
    hydride = {(f, leaf): np.full(len(pool), np.nan) for f in MAX_FEATURES for leaf in MIN_LEAVES}
    structures = {p: np.full(len(pool), np.nan) for p in profiles}
    for k in range(args.folds):
        inner, outer = pool[fold == k], pool[fold != k]
        held = np.concatenate([inner, test])
        X_entries, y_entries, _ = held_out_entries(snapshot, usable, held, protocol)
        members = fit_composition(config, X_entries, y_entries)
        each = np.stack([m.predict(X[inner]) for m in members])
        entries[fold == k], members_spread[fold == k] = each.mean(axis=0), each.std(axis=0)
        for profile in profiles:
            trees = get(COMPOSITION).configure(profile, config.seed)
            structures[profile][fold == k] = fit_structures(trees, X[outer], y[outer]).predict(
                X[inner]
            )
        rich = outer[gate(numerical[outer], config.h_fraction)]
        for (features, leaf), predicted in hydride.items() if len(rich) >= 2 else ():
            settings = replace(config, hydride_max_features=features, hydride_min_leaf=leaf)
            forest = fit_hydride(settings, numerical[rich], y[rich])
            predicted[fold == k] = forest.predict(numerical[inner])
        print(f"fold {k + 1}/{args.folds}: {len(inner)} structures", flush=True)
    earlier = hydride[(1 / 3, 1)]
    to_hydride = gate(numerical[pool], config.h_fraction) & np.isfinite(earlier)
    table = []
    for profile in profiles:
        for share in SHARES:
            mixed, _ = mixture(entries, members_spread, structures[profile], share)
            score = regression(y[pool], np.where(to_hydride, earlier, mixed))["r2"]
            table.append({"profile": profile, "share": share, "r2": score})
            print(f"{profile:8s} share {share:.3f}: r² {score:.4f} (n {len(pool)})")
    best = max(table, key=lambda row: row["r2"])
    print(f"highest: {best['profile']} trees with share {best['share']:.3f}, r² {best['r2']:.4f}")
    mixed, _ = mixture(entries, members_spread, structures[best["profile"]], best["share"])
    forests = []
    for (features, leaf), predicted in hydride.items():
        score = regression(y[pool], np.where(to_hydride, predicted, mixed))["r2"]
        alone = regression(y[pool][to_hydride], predicted[to_hydride])["r2"]
        forests.append({"max_features": features, "min_leaf": leaf, "r2": score,
                        "r2_hydrides": alone})  # fmt: skip
        print(f"hydride forest, descriptors {features:.2f}, leaves {leaf}: r² {score:.4f} "
              f"(its {int(to_hydride.sum())} hydrides: {alone:.3f})")  # fmt: skip
    forest = max(forests, key=lambda row: row["r2"])
    print(f"highest: descriptors {forest['max_features']:.2f}, leaves {forest['min_leaf']}, "
          f"r² {forest['r2']:.4f}")  # fmt: skip
    spreads = tc_weight_likelihoods(
        y[pool][~to_hydride],
        entries[~to_hydride],
        members_spread[~to_hydride],
        structures[best["profile"]][~to_hydride],
        best["share"],
    )
    output = args.output or REPO / "benchmarks" / "results" / (
        f"experts_design-{args.protocol}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "snapshot": snapshot.id,
        "protocol": args.protocol,
        "folds": args.folds,
        "n": len(pool),
        "table": table,
        "highest": best,
        "hydride_forest": forests,
        "highest_hydride_forest": forest,
        "tc_weight_nll": spreads,
    }
    output.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
