"""How the structure models split a snapshot's labelled structures, shared by every one of them.

Why: a structure model is only comparable with another, and with the baselines, on the same
rows. Every structure model of a ``structures`` snapshot takes its parts from here: grouped by
reduced formula (``grouped``), by element set (``grouped-by-system``), by the year a
composition was first reported (``by-time``) or at random (``paper``), each protocol of
``ml.evaluation`` under the same seed and fractions giving the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tcdb.core.families import chemical_system, family
from tcdb.ml.composition_descriptors import composition_matrix
from tcdb.ml.evaluation import ByTimeSplit, Parts, family_scores, years_of
from tcdb.store.snapshots import Snapshot


def formula_key(amounts: dict[str, float] | str) -> str:
    """A composition as a comparable key: pymatgen's reduced formula of the amounts."""
    from pymatgen.core import Composition

    return Composition(amounts).reduced_formula


def formula_compositions(formulas: Sequence[str]) -> list[dict[str, float]]:
    """Element amounts of each reduced formula (parsed once per distinct formula)."""
    from pymatgen.core import Composition

    parsed = {
        f: {el.symbol: float(n) for el, n in Composition(f).element_composition.items()}
        for f in set(formulas)
    }
    return [parsed[f] for f in formulas]


def split_structures(
    structures: pd.DataFrame, config, years: np.ndarray | None = None
) -> tuple[object, Parts]:
    """The protocol the configuration names and its parts over these (usable) structures,
    grouped by their reduced formulas, or by their element sets under ``grouped-by-system``;
    ``by-time`` also needs each structure's year (NaN where none)."""
    protocol = config.split_protocol()
    formulas = structures["reduced_formula"].to_numpy()
    if getattr(protocol, "grouped_by", None) == "chemical system":
        groups = np.array([chemical_system(c) for c in formula_compositions(list(formulas))])
        return protocol, protocol.parts(len(structures), groups)
    if protocol.name == ByTimeSplit.name:
        return protocol, protocol.parts(len(structures), formulas, years=years)
    return protocol, protocol.parts(len(structures), formulas)


def structure_years(snapshot: Snapshot, structures: pd.DataFrame) -> np.ndarray:
    """Each structure's label year: the earliest SuperCon record of its composition (NaN for
    literature labels, which carry no year, and SuperCon labels without one)."""
    entries = snapshot.entries
    years = years_of(entries, f"snapshot {snapshot.id}'s labels")
    supercon = (entries["origin"] == "supercon").to_numpy()
    year = pd.Series(years[supercon], index=entries["material_id"].to_numpy()[supercon])
    year = year[~year.index.duplicated()]
    mapped = structures["material_id"].map(year).to_numpy(dtype=float)
    return np.where(structures["origin"].to_numpy() == "supercon", mapped, np.nan)


def supercon_entries(snapshot: Snapshot) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The snapshot's SuperCon labels with their 81 composition descriptors (entries,
    descriptors, T_c), leaving out the entries whose descriptors cannot be computed."""
    entries = snapshot.entries
    entries = entries[entries["origin"] == "supercon"].reset_index(drop=True)
    batch = composition_matrix([json.loads(c) for c in entries["composition_json"]])
    entries = entries[batch.valid].reset_index(drop=True)
    return entries, batch.X[batch.valid], entries["label_tc_K"].to_numpy()


def held_out_entries(snapshot: Snapshot, structures: pd.DataFrame, held: np.ndarray,
                      protocol=None):  # fmt: skip
    """The snapshot's SuperCon entries (81 descriptors, labels) whose composition no
    held-out structure has, and how many were left out for that. Under ``grouped-by-system``
    entries of a held-out element set are left out too, and under ``by-time`` entries first
    reported after the last training year (or without a year), so a model trained on them
    sees no more than the structures' own training part allows."""
    entries, X, y = supercon_entries(snapshot)
    held_keys = {formula_key(f) for f in structures["reduced_formula"].iloc[held]}
    held_materials = set(structures["material_id"].iloc[held])
    compositions = [json.loads(c) for c in entries["composition_json"]]
    keys = [formula_key(c) for c in compositions]
    keep = np.array(
        [k not in held_keys and m not in held_materials
         for k, m in zip(keys, entries["material_id"], strict=True)], dtype=bool
    )  # fmt: skip
    if getattr(protocol, "grouped_by", None) == "chemical system":
        held_formulas = list(structures["reduced_formula"].iloc[held])
        held_systems = {chemical_system(c) for c in formula_compositions(held_formulas)}
        keep &= np.array([chemical_system(c) not in held_systems for c in compositions])
    if getattr(protocol, "name", None) == ByTimeSplit.name:
        years = years_of(entries, f"snapshot {snapshot.id}'s labels")
        keep &= years <= protocol.last_training_year  # NaN compares False: left out
    return X[keep], y[keep], int((~keep).sum())


def by_time_families(
    structures: pd.DataFrame, parts: Parts, y: np.ndarray, predicted: dict[str, np.ndarray]
) -> list[dict]:
    """Per family, the later structures of a by-time run (its test part): each model's
    (``predicted``: name -> the test part's T_c) count above 20 K and error
    (``ml.evaluation.family_scores``), one row per model and family."""
    families = [family(c) for c in formula_compositions(list(structures["reduced_formula"]))]
    rows = []
    for model, values in predicted.items():
        full = np.full(len(y), np.nan)
        full[parts.test] = values
        rows += [{"model": model} | r for r in family_scores(families, y, full, parts.test)]
    return rows
