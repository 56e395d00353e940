"""Element properties for the descriptor sets, read once from maintained libraries.

Why one module: the hydride descriptors (Hutcheon et al. 2020) and the composition descriptors
(Hamidieh 2018, reused by Novakovic et al. 2023) need the same per-element data. Reading it in one
place from mendeleev and pymatgen, with each property's library, attribute and unit recorded in
``SOURCES``, keeps the descriptors reproducible. Two rules hold throughout:

* one source per property: a property with gaps in its table is never patched from another
  table (in particular the van der Waals radius comes from exactly one table, ``VDW_TABLES``);
* gaps stay NaN in :func:`element_table`. :func:`gaps` lists them, and filling them is a separate,
  explicit step (:func:`imputation_values`, rule ``IMPUTATION_RULE``) that callers ask for.

Electron counts come from mendeleev's ground-state configuration strings, expanded over the
noble-gas core ("all" shells, the default for the hydride model) or restricted to the subshells
written after the core ("valence").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd

MAX_Z = 118
PM_PER_ANGSTROM = 100.0

HAMIDIEH_PROPERTIES: tuple[str, ...] = (
    "atomic_mass",
    "first_ionisation_energy",
    "atomic_radius",
    "density",
    "electron_affinity",
    "fusion_heat",
    "thermal_conductivity",
    "valence",
)
ORBITALS: tuple[str, ...] = ("s", "p", "d", "f")
ShellSet = Literal["all", "valence"]
MassNumberRule = Literal["most_abundant_isotope", "rounded_atomic_mass"]


@dataclass(frozen=True)
class Source:
    """Where one property comes from: library, attribute, unit and a note on the data."""

    library: str
    attribute: str
    unit: str
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        """Plain dict, for run manifests."""
        return asdict(self)


VDW_TABLES: dict[str, Source] = {
    "mendeleev.vdw_radius": Source(
        "mendeleev",
        "Element.vdw_radius",
        "Å (stored in pm, divided by 100)",
        "CRC Handbook of Chemistry and Physics, 95th ed. (2014); Z 1-103",
    ),
    "mendeleev.vdw_radius_bondi": Source(
        "mendeleev",
        "Element.vdw_radius_bondi",
        "Å (from pm)",
        "Bondi, J. Phys. Chem. 68, 441 (1964)",
    ),
    "mendeleev.vdw_radius_alvarez": Source(
        "mendeleev",
        "Element.vdw_radius_alvarez",
        "Å (from pm)",
        "Alvarez, Dalton Trans. 42, 8617 (2013)",
    ),
    "mendeleev.vdw_radius_batsanov": Source(
        "mendeleev",
        "Element.vdw_radius_batsanov",
        "Å (from pm)",
        "Batsanov, Inorg. Mater. 37 (2001)",
    ),
    "mendeleev.vdw_radius_uff": Source(
        "mendeleev", "Element.vdw_radius_uff", "Å (from pm)", "UFF force field"
    ),
    "pymatgen.van_der_waals_radius": Source(
        "pymatgen", "Element.van_der_waals_radius", "Å", "pymatgen periodic_table.json"
    ),
}
DEFAULT_VDW_TABLE = "mendeleev.vdw_radius"
DEFAULT_MASS_NUMBER_RULE: MassNumberRule = "most_abundant_isotope"
_ALL_SHELLS = Source("mendeleev", "econf expanded over the noble-gas core", "electrons")
_VALENCE_SHELLS = Source(
    "mendeleev", "econf, only the subshells written after the noble-gas core", "electrons"
)

SOURCES: dict[str, Source] = {
    "symbol": Source("mendeleev", "fetch_table('elements').symbol", "-"),
    "atomic_mass": Source(
        "mendeleev",
        "Element.atomic_weight",
        "u",
        "standard atomic weight; the longest-lived "
        "isotope's mass for elements without a standard weight",
    ),
    "first_ionisation_energy": Source(
        "mendeleev", "fetch_ionization_energies(degree=1) (Element.ionenergies[1])", "eV"
    ),
    "atomic_radius": Source(
        "mendeleev",
        "Element.atomic_radius",
        "Å (stored in pm, divided by 100)",
        "empirical atomic radius (Slater 1964 table; equals pymatgen Element.atomic_radius "
        "except that mendeleev also lists He and Ne)",
    ),
    "density": Source("mendeleev", "Element.density", "g/cm³", "at 295 K; gases as gases"),
    "electron_affinity": Source(
        "pymatgen",
        "Element.electron_affinity",
        "eV",
        "complete for Z 1-86; negative for unbound anions (e.g. Be, N, Mg, Zn, noble gases); "
        "chosen over mendeleev's electron_affinity, which lacks Mg, Mn, Zn, Cd, Hg and most 4f/5f",
    ),
    "fusion_heat": Source(
        "mendeleev",
        "Element.fusion_heat",
        "kJ/mol",
        "no other maintained source; gaps include C, N, O",
    ),
    "thermal_conductivity": Source(
        "pymatgen",
        "Element.thermal_conductivity",
        "W/(m K)",
        "complete for Z 1-86 except Fr; chosen over mendeleev's, which lacks Ca, Sr, Ba, Y, Mn, Mo",
    ),
    "valence": Source(
        "mendeleev",
        "Element.nvalence() (econf.ElectronicConfiguration.nvalence with block and period)",
        "electrons",
        "s/p block: outermost shell; d block: ns + (n-1)d; f block: ns + np + (n-1)d + (n-2)f",
    ),
    "vdw_radius": VDW_TABLES[DEFAULT_VDW_TABLE],
    "mass_number": Source(
        "mendeleev",
        "fetch_table('isotopes'): mass_number of the isotope with the largest abundance",
        "-",
        "elements without natural isotopes (Tc, Pm and Z >= 84 except Th, Pa, U): "
        "round(atomic_weight), i.e. the mass number of the longest-lived isotope",
    ),
    "electron_configuration": Source(
        "mendeleev", "Element.econf (fetch_table('elements').electronic_configuration)", "-"
    ),
    **{f"{o}_all": _ALL_SHELLS for o in ORBITALS},
    **{f"{o}_valence": _VALENCE_SHELLS for o in ORBITALS},
}

IMPUTATION_MAX_Z = 86
IMPUTATION_RULE = (
    "a missing value of a property is replaced by the mean of that property over the elements "
    f"Z 1-{IMPUTATION_MAX_Z} that have a value in the property's source (the heavier, radioactive "
    "elements, whose values are sparse and partly estimates, are left out of the mean); applied "
    "only when a caller asks for it, and counted per property"
)

_NOBLE_GAS_Z = {"He": 2, "Ne": 10, "Ar": 18, "Kr": 36, "Xe": 54, "Rn": 86}
_CORE_RE = re.compile(r"\[([A-Z][a-z]?)\]")
_SUBSHELL_RE = re.compile(r"(\d+)([spdf])(\d*)")


class ElementDataError(ValueError):
    """An element is unknown, or lacks a property that a descriptor needs."""

    def __init__(
        self, element: str, properties: Sequence[str] = (), message: str | None = None
    ) -> None:
        self.element = element
        self.properties = tuple(properties)
        if message is None and self.properties:
            message = f"{element} lacks {', '.join(self.properties)}"
        elif message is None:
            message = f"unknown element {element!r}"
        super().__init__(message)


def parse_configuration(
    configuration: str, cores: dict[str, str] | None = None
) -> dict[tuple[int, str], int]:
    """Occupations {(n, l): electrons} of a configuration such as ``[Xe] 5d 6s2``.

    A bracketed noble-gas core is expanded with ``cores`` (symbol -> configuration); a subshell
    without a count holds one electron.
    """
    occupation: dict[tuple[int, str], int] = {}
    core = _CORE_RE.search(configuration)
    if core is not None:
        if cores is None:
            raise ValueError(f"no core configurations given to expand {configuration!r}")
        occupation.update(parse_configuration(cores[core.group(1)], cores))
    rest = _CORE_RE.sub(" ", configuration)
    for n, orbital, count in _SUBSHELL_RE.findall(rest):
        occupation[(int(n), orbital)] = int(count) if count else 1
    return occupation


def _orbital_counts(occupation: dict[tuple[int, str], int]) -> dict[str, int]:
    """Electrons per orbital type s, p, d, f."""
    counts = dict.fromkeys(ORBITALS, 0)
    for (_, orbital), electrons in occupation.items():
        counts[orbital] += electrons
    return counts


def _electron_columns(configurations: pd.Series) -> pd.DataFrame:
    """s/p/d/f counts over all shells and over the subshells after the noble-gas core."""
    by_symbol = {sym: configurations[z] for sym, z in _NOBLE_GAS_Z.items()}
    rows = {}
    for z, conf in configurations.items():
        every = _orbital_counts(parse_configuration(conf, by_symbol))
        valence = _orbital_counts(parse_configuration(_CORE_RE.sub(" ", conf)))
        row = {f"{o}_all": every[o] for o in ORBITALS}
        row.update({f"{o}_valence": valence[o] for o in ORBITALS})
        rows[z] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _mendeleev_valence(elements: pd.DataFrame) -> pd.Series:
    """mendeleev's number of valence electrons, without loading 118 Element objects."""
    from mendeleev.econf import ElectronicConfiguration

    def nvalence(row: pd.Series) -> float:
        conf = ElectronicConfiguration(row["electronic_configuration"])
        return float(conf.nvalence(row["block"], row["period"]))

    return elements.apply(nvalence, axis=1)


def _most_abundant_mass_numbers(atomic_weight: pd.Series) -> pd.Series:
    """Mass number of the most abundant natural isotope, else round(atomic weight)."""
    from mendeleev.fetch import fetch_table

    isotopes = fetch_table("isotopes").dropna(subset=["abundance"])
    best = isotopes.loc[isotopes.groupby("atomic_number")["abundance"].idxmax()]
    natural = best.set_index("atomic_number")["mass_number"].astype(float)
    return natural.reindex(atomic_weight.index).fillna(atomic_weight.round())


@cache
def _pymatgen_property(attribute: str) -> pd.Series:
    """A float property of pymatgen's Element for Z 1..118 (NaN where pymatgen has none)."""
    from pymatgen.core.periodic_table import Element

    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z in range(1, MAX_Z + 1):
            try:
                value = getattr(Element.from_Z(z), attribute)
            except (KeyError, AttributeError, ValueError):
                value = None
            values[z] = np.nan if value is None else float(value)
    return pd.Series(values, dtype=float)


def pymatgen_property(attribute: str) -> pd.Series:
    """A float property of pymatgen's Element by Z 1..118 (NaN where pymatgen has none)."""
    return _pymatgen_property(attribute).copy()


@cache
def _mendeleev_elements() -> pd.DataFrame:
    """mendeleev's element table indexed by Z."""
    from mendeleev.fetch import fetch_table

    return fetch_table("elements").set_index("atomic_number").sort_index()


@cache
def _table() -> pd.DataFrame:
    """Build the element table once; the public accessor hands out copies."""
    from mendeleev.fetch import fetch_ionization_energies

    el = _mendeleev_elements()
    table = pd.DataFrame(index=pd.RangeIndex(1, MAX_Z + 1, name="Z"))
    table["symbol"] = el["symbol"]
    table["atomic_mass"] = el["atomic_weight"].astype(float)
    table["first_ionisation_energy"] = fetch_ionization_energies(degree=1)["IE1"].astype(float)
    table["atomic_radius"] = el["atomic_radius"].astype(float) / PM_PER_ANGSTROM
    table["density"] = el["density"].astype(float)
    table["electron_affinity"] = _pymatgen_property("electron_affinity")
    table["fusion_heat"] = el["fusion_heat"].astype(float)
    table["thermal_conductivity"] = _pymatgen_property("thermal_conductivity")
    table["valence"] = _mendeleev_valence(el)
    table["vdw_radius"] = _vdw_radius(DEFAULT_VDW_TABLE)
    table["mass_number"] = _most_abundant_mass_numbers(table["atomic_mass"])
    table["electron_configuration"] = el["electronic_configuration"]
    table = table.join(_electron_columns(el["electronic_configuration"]).astype(float))
    return table


def element_table() -> pd.DataFrame:
    """All element properties, indexed by Z = 1..118 with a ``symbol`` column; gaps are NaN."""
    return _table().copy()


@cache
def _symbol_index() -> dict[str, int]:
    return {sym: int(z) for z, sym in _table()["symbol"].items()}


def atomic_number(symbol: str) -> int:
    """Z of an element symbol; :class:`ElementDataError` for anything else."""
    try:
        return _symbol_index()[symbol]
    except (KeyError, TypeError):
        raise ElementDataError(str(symbol)) from None


def atomic_numbers(symbols: Iterable[str]) -> np.ndarray:
    """Z of each symbol, 0 where the symbol is not an element (vectorised lookup)."""
    index = _symbol_index()
    return np.fromiter((index.get(s, 0) for s in symbols), dtype=np.int64)


def symbols() -> tuple[str, ...]:
    """Element symbols in order of Z."""
    return tuple(_table()["symbol"])


@cache
def _vdw_radius(table: str) -> pd.Series:
    if table not in VDW_TABLES:
        raise ValueError(
            f"unknown van der Waals radius table {table!r}; choose from {list(VDW_TABLES)}"
        )
    source = VDW_TABLES[table]
    column = source.attribute.removeprefix("Element.")
    if source.library == "pymatgen":
        return _pymatgen_property(column)
    return _mendeleev_elements()[column].astype(float) / PM_PER_ANGSTROM


def vdw_radius(table: str = DEFAULT_VDW_TABLE) -> pd.Series:
    """van der Waals radii (Å) by Z from exactly one table of ``VDW_TABLES``."""
    return _vdw_radius(table).copy()


def mass_numbers(rule: MassNumberRule = DEFAULT_MASS_NUMBER_RULE) -> pd.Series:
    """Mass number by Z: most abundant natural isotope (default) or round(atomic mass)."""
    if rule == "most_abundant_isotope":
        return _table()["mass_number"].copy()
    if rule == "rounded_atomic_mass":
        return _table()["atomic_mass"].round()
    raise ValueError(f"unknown mass number rule {rule!r}")


def electron_counts(shells: ShellSet = "all") -> pd.DataFrame:
    """Columns s, p, d, f by Z: all occupied shells, or the subshells after the noble-gas core."""
    if shells not in ("all", "valence"):
        raise ValueError(f"shells must be 'all' or 'valence', not {shells!r}")
    columns = [f"{o}_{shells}" for o in ORBITALS]
    counts = _table()[columns].copy()
    counts.columns = list(ORBITALS)
    return counts


def gaps(properties: Sequence[str] = HAMIDIEH_PROPERTIES, max_z: int = MAX_Z) -> pd.DataFrame:
    """Every (element, property) without a value: columns Z, symbol, property."""
    table = _table().loc[:max_z, ["symbol", *properties]]
    long = table.melt(id_vars="symbol", var_name="property", ignore_index=False)
    missing = long[long["value"].isna()].reset_index()
    missing = missing.sort_values(["property", "Z"], kind="stable")
    return missing[["Z", "symbol", "property"]].reset_index(drop=True)


def gap_summary(
    properties: Sequence[str] = HAMIDIEH_PROPERTIES, max_z: int = MAX_Z
) -> dict[str, list[str]]:
    """Symbols lacking each property (every property listed, possibly with an empty list)."""
    found = gaps(properties, max_z)
    return {p: found.loc[found["property"] == p, "symbol"].tolist() for p in properties}


def imputation_values(properties: Sequence[str] = HAMIDIEH_PROPERTIES) -> pd.Series:
    """The value that ``IMPUTATION_RULE`` puts in a gap, per property."""
    return _table().loc[:IMPUTATION_MAX_Z, list(properties)].mean(skipna=True)


def source_manifest() -> dict[str, dict[str, str]]:
    """``SOURCES`` as plain dicts, for run manifests."""
    return {name: source.as_dict() for name, source in SOURCES.items()}
