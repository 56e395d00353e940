"""OPTIMADE structure properties made from a stored structure: formulas, lattice, sites and
species, read from the pymatgen ``Structure.as_dict()`` JSON that ``crystal_structure`` keeps.

Why not pymatgen itself: the JSON already holds the Cartesian positions and the lattice matrix,
and reading it as plain JSON keeps the server's start free of pymatgen's import (seconds) for
what is arithmetic on a few numbers per site. Pure functions: no database, no I/O.
"""

from __future__ import annotations

import json
import math
import string
from collections import Counter
from dataclasses import dataclass
from functools import reduce

# Amounts closer than this to an integer are that integer (site occupancies are stored as floats).
_INTEGER_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Formulas:
    """The chemical formulas and element lists of one composition."""

    elements: list[str]
    elements_ratios: list[float]
    reduced: str | None
    anonymous: str | None


def _as_integer(amount: float) -> int | None:
    nearest = round(amount)
    return nearest if abs(amount - nearest) < _INTEGER_TOLERANCE and nearest > 0 else None


def _written(symbol: str, amount: int) -> str:
    return symbol if amount == 1 else f"{symbol}{amount}"


def anonymous_symbols():
    """A, B, …, Z, then Aa, Ba, …, Za, Ab, …: the specification's anonymous element names."""
    upper, lower = string.ascii_uppercase, string.ascii_lowercase
    yield from upper
    for second in lower:
        for first in upper:
            yield first + second


def formulas(amounts: dict[str, float]) -> Formulas:
    """Elements in alphabetical order with their atomic fractions, and the reduced and
    anonymous formulas; the two formulas are None when an amount is not a whole number (a
    partly occupied site), which the specification's integer formulas cannot state."""
    elements = sorted(amounts)
    total = sum(amounts.values())
    ratios = [amounts[e] / total for e in elements]
    integers = {e: _as_integer(amounts[e]) for e in elements}
    if None in integers.values() or not elements:
        return Formulas(elements, ratios, None, None)
    divisor = reduce(math.gcd, integers.values())
    reduced = {e: n // divisor for e, n in integers.items()}
    by_amount = sorted(elements, key=lambda e: (-reduced[e], e))
    anonymous = "".join(
        _written(name, reduced[e]) for name, e in zip(anonymous_symbols(), by_amount, strict=False)
    )
    return Formulas(elements, ratios, "".join(_written(e, reduced[e]) for e in elements), anonymous)


def _species_name(occupancy: list[tuple[str, float]]) -> str:
    if len(occupancy) == 1 and abs(occupancy[0][1] - 1) < _INTEGER_TOLERANCE:
        return occupancy[0][0]
    return "".join(f"{symbol}{amount:g}" for symbol, amount in occupancy)


@dataclass(frozen=True)
class Geometry:
    """What the OPTIMADE structure properties need from a stored structure."""

    lattice_vectors: list[list[float]]
    cartesian_site_positions: list[list[float]]
    species: list[dict]
    species_at_sites: list[str]
    structure_features: list[str]
    amounts: dict[str, float]  # element → atoms in the cell (occupancies summed)


def geometry(structure_json: str) -> Geometry:
    """Lattice, sites and species of a pymatgen ``Structure.as_dict()`` JSON text."""
    data = json.loads(structure_json)
    lattice = [[float(x) for x in row] for row in data["lattice"]["matrix"]]
    positions, at_sites = [], []
    species: dict[str, dict] = {}
    amounts: Counter[str] = Counter()
    disorder = False
    for site in data["sites"]:
        occupancy = sorted((str(s["element"]), float(s.get("occu", 1.0))) for s in site["species"])
        name = _species_name(occupancy)
        if name not in species:
            symbols = [symbol for symbol, _ in occupancy]
            concentration = [amount for _, amount in occupancy]
            vacancy = 1.0 - sum(concentration)
            if vacancy > _INTEGER_TOLERANCE:
                symbols.append("vacancy")
                concentration.append(vacancy)
            disorder = disorder or len(symbols) > 1
            species[name] = {"name": name, "chemical_symbols": symbols,
                             "concentration": concentration}  # fmt: skip
        for symbol, amount in occupancy:
            amounts[symbol] += amount
        at_sites.append(name)
        positions.append([float(x) for x in site["xyz"]])
    return Geometry(
        lattice_vectors=lattice,
        cartesian_site_positions=positions,
        species=list(species.values()),
        species_at_sites=at_sites,
        structure_features=["disorder"] if disorder else [],
        amounts=dict(amounts),
    )
