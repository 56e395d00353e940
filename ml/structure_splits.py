"""How the structure models split a snapshot's labelled structures, shared by every one of them.

Why: a structure model is only comparable with another, and with the baselines, on the same
rows. Every structure model of a ``structures`` snapshot takes its parts from here: grouped by
reduced formula (``grouped``), by element set (``grouped-by-system``), by the year a
composition was first reported (``by-time``) or at random (``paper``), each protocol of
``ml.evaluation`` under the same seed and fractions giving the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tcdb.core.families import chemical_system
from tcdb.ml.evaluation import ByTimeSplit, Parts, years_of
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
