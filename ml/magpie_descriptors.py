"""Element fractions and Magpie-style statistics of a composition (Ward et al. 2016).

Why: the 81 Hamidieh descriptors summarise eight properties; Ward et al.'s Magpie set adds the
periodic-table position, electronegativity and the valence-shell filling, which carry much of
what separates cuprates, iron pnictides and conventional superconductors. They are computed
here from the same element table (``ml.element_data``: mendeleev and pymatgen), vectorised
over the padded (materials x elements) arrays the Hamidieh descriptors use, so no other
package (matminer and its data files) is needed.

Properties (``MAGPIE_PROPERTIES``): Magpie's 22 less the three that come from OQMD ground-state
calculations (band gap, magnetic moment, space group); its DFT volume per atom is replaced by the
element's molar volume (atomic weight / density). Column is mendeleev's group, with the f-block
elements (no group there) in column 3 as Magpie puts them. Unfilled shells follow Magpie:
an occupied s/p/d/f subshell of the valence shells lacks 2/6/10/14 minus its electrons.

Statistics (``MAGPIE_STATISTICS``), with atomic fractions p and values t: fraction-weighted mean,
mean absolute deviation Σp|t - mean|, minimum, maximum, range and mode (the value of the most
abundant element; among equally abundant ones the smallest value, as matminer does).
Gaps are filled by ``ml.element_data.IMPUTATION_RULE`` when the configuration imputes, else
left NaN (the gradient-boosted trees route missing values).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from tcdb.ml import element_data as ed

WARD_2016 = (
    "L. Ward, A. Agrawal, A. Choudhary, C. Wolverton, A general-purpose machine learning "
    "framework for predicting properties of inorganic materials, npj Comput. Mater. 2, 16028 "
    "(2016), doi:10.1038/npjcompumats.2016.28"
)

MAGPIE_PROPERTIES: tuple[str, ...] = (
    "Number",
    "MendeleevNumber",
    "AtomicWeight",
    "MeltingT",
    "Column",
    "Row",
    "CovalentRadius",
    "Electronegativity",
    "NsValence",
    "NpValence",
    "NdValence",
    "NfValence",
    "NValence",
    "NsUnfilled",
    "NpUnfilled",
    "NdUnfilled",
    "NfUnfilled",
    "NUnfilled",
    "MolarVolume",
)
MAGPIE_SOURCES: dict[str, str] = {
    "Number": "atomic number Z",
    "MendeleevNumber": "mendeleev mendeleev_number",
    "AtomicWeight": "mendeleev atomic_weight (u)",
    "MeltingT": "pymatgen Element.melting_point (K)",
    "Column": "mendeleev group_id; f block: 3",
    "Row": "mendeleev period",
    "CovalentRadius": "mendeleev covalent_radius_cordero (pm)",
    "Electronegativity": "mendeleev en_pauling",
    "NsValence..NfValence": "electrons in the subshells after the noble-gas core (mendeleev econf)",
    "NsUnfilled..NfUnfilled": "2/6/10/14 minus those electrons, for occupied subshells",
    "MolarVolume": "atomic weight / mendeleev density (cm³/mol)",
}
MAGPIE_STATISTICS: tuple[str, ...] = ("mean", "avg_dev", "minimum", "maximum", "range", "mode")
MAGPIE_LABELS: tuple[str, ...] = tuple(
    f"magpie_{stat}_{prop}" for prop in MAGPIE_PROPERTIES for stat in MAGPIE_STATISTICS
)
FRACTION_LABELS: tuple[str, ...] = tuple(f"frac_{s}" for s in ed.symbols())
_CAPACITY = {"s": 2.0, "p": 6.0, "d": 10.0, "f": 14.0}


def _table() -> pd.DataFrame:
    """The Magpie-style properties by Z 1..118 (NaN where the sources have none)."""
    from mendeleev.fetch import fetch_table

    elements = fetch_table("elements").set_index("atomic_number").sort_index()
    elements = elements.reindex(pd.RangeIndex(1, ed.MAX_Z + 1))
    base = ed.element_table()
    table = pd.DataFrame(index=base.index)
    table["Number"] = base.index.to_numpy(dtype=float)
    table["MendeleevNumber"] = elements["mendeleev_number"].astype(float).to_numpy()
    table["AtomicWeight"] = base["atomic_mass"]
    table["MeltingT"] = ed.pymatgen_property("melting_point")
    f_block = (elements["block"] == "f").to_numpy()
    column = elements["group_id"].astype(float).to_numpy()
    table["Column"] = np.where(f_block & np.isnan(column), 3.0, column)
    table["Row"] = elements["period"].astype(float).to_numpy()
    table["CovalentRadius"] = elements["covalent_radius_cordero"].astype(float).to_numpy()
    table["Electronegativity"] = elements["en_pauling"].astype(float).to_numpy()
    for orbital in ed.ORBITALS:
        table[f"N{orbital}Valence"] = base[f"{orbital}_valence"]
    table["NValence"] = sum(base[f"{o}_valence"] for o in ed.ORBITALS)
    for orbital, capacity in _CAPACITY.items():
        electrons = base[f"{orbital}_valence"]
        table[f"N{orbital}Unfilled"] = np.where(electrons > 0, capacity - electrons, 0.0)
    table["NUnfilled"] = sum(table[f"N{o}Unfilled"] for o in ed.ORBITALS)
    table["MolarVolume"] = base["atomic_mass"] / base["density"]
    return table[list(MAGPIE_PROPERTIES)]


@cache
def property_array(impute: bool) -> np.ndarray:
    """(119, P) values indexed by Z (row 0: padding, NaN); gaps filled when ``impute``."""
    table = _table()
    if impute:
        table = table.fillna(table.loc[: ed.IMPUTATION_MAX_Z].mean(skipna=True))
    values = np.full((ed.MAX_Z + 1, len(MAGPIE_PROPERTIES)), np.nan)
    values[1:] = table.to_numpy(dtype=float)
    values.setflags(write=False)
    return values


def magpie_statistics(z: np.ndarray, fractions: np.ndarray, impute: bool = True) -> np.ndarray:
    """The ``MAGPIE_LABELS`` columns of padded compositions: ``z`` (m, k), 0 at padding, and
    atomic ``fractions`` (m, k) summing to 1 over each row's elements."""
    mask = (z > 0)[..., None]
    values = property_array(impute)[z]  # (m, k, P)
    p = fractions[..., None]
    t = np.where(mask, values, 0.0)
    mean = (p * t).sum(axis=1)
    avg_dev = (p * np.abs(t - mean[:, None, :])).sum(axis=1)
    low = np.where(mask, values, np.inf).min(axis=1)
    high = np.where(mask, values, -np.inf).max(axis=1)
    top = fractions >= fractions.max(axis=1, keepdims=True) - 1e-12
    mode = np.where(mask & top[..., None], values, np.inf).min(axis=1)
    empty = ~mask[..., 0].any(axis=1)
    stats = np.stack((mean, avg_dev, low, high, high - low, mode), axis=-1)  # (m, P, 6)
    stats[empty] = np.nan
    if not impute:  # a gap in any element of a row leaves that property's statistics NaN
        gap = (np.isnan(values) & mask).any(axis=1)
        stats[gap] = np.nan
    return stats.reshape(len(z), -1)


def element_fractions(z: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """(m, 118) atomic fraction of each element Z 1..118 (``FRACTION_LABELS``)."""
    out = np.zeros((len(z), ed.MAX_Z))
    rows = np.repeat(np.arange(len(z)), z.shape[1])
    flat_z = z.reshape(-1)
    keep = flat_z > 0
    np.add.at(out, (rows[keep], flat_z[keep] - 1), fractions.reshape(-1)[keep])
    return out
