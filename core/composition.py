"""Compositions keyed by (element, atomic fraction), not by a formula string.

``La1.8Ba0.2CuO4``, ``Ba0.2La1.8Cu1O4`` and ``BaLa9(CuO4)5`` have the same fractions, so the same
key and the same material id. pymatgen supplies the element list and the reduced formula.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property

from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection

HYDROGEN_ISOTOPES = {"D": "H", "T": "H"}


@cache
def element_symbols() -> frozenset[str]:
    """Symbols of the real elements (pymatgen's periodic table, Z = 1 … 118)."""
    from pymatgen.core.periodic_table import Element

    return frozenset(el.symbol for el in Element if el.Z <= 118)


@dataclass(frozen=True)
class NormalisedComposition:
    """Element amounts (summed over repeats), their atomic fractions and the key they give."""

    amounts: tuple[tuple[str, float], ...]  # sorted by symbol
    fractions: tuple[tuple[str, float], ...]  # rounded, sorted by symbol
    isotopes: tuple[str, ...] = ()  # hydrogen isotopes counted as H

    @cached_property
    def key(self) -> str:
        return "|".join(f"{el}:{frac!r}" for el, frac in self.fractions)

    @cached_property
    def material_id(self) -> str:
        return "mat-" + hashlib.sha256(self.key.encode()).hexdigest()[:20]

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(el for el, _ in self.amounts)

    def amount(self, element: str) -> float:
        return dict(self.amounts).get(element, 0.0)

    def fraction(self, element: str) -> float:
        return dict(self.fractions).get(element, 0.0)


def normalise(
    amounts: Mapping[str, float], params: IngestParameters = INGEST
) -> NormalisedComposition | Rejection:
    """Validate element symbols and amounts and key the composition by atomic fractions."""
    known = element_symbols()
    merged: dict[str, float] = {}
    isotopes: list[str] = []
    for symbol, amount in amounts.items():
        if symbol in HYDROGEN_ISOTOPES and params.isotopes_as_hydrogen:
            isotopes.append(symbol)
            symbol = HYDROGEN_ISOTOPES[symbol]
        if symbol not in known:
            return Rejection("unknown_element", f"unknown element symbol {symbol!r}")
        if amount != amount or amount in (float("inf"), float("-inf")):
            return Rejection("bad_amount", f"amount of {symbol} is not a finite number")
        if amount < 0:
            return Rejection("bad_amount", f"negative amount {amount:g} of {symbol}")
        merged[symbol] = merged.get(symbol, 0.0) + float(amount)
    merged = {el: a for el, a in merged.items() if a > 0}
    if not merged:
        return Rejection("empty_formula", "the formula has no element with a positive amount")
    tiny = [el for el, a in merged.items() if a < params.amount_min]
    if tiny:
        return Rejection(
            "tiny_amount",
            f"amount of {tiny[0]} ({merged[tiny[0]]:g}) is below {params.amount_min:g}",
        )
    total = sum(merged.values())
    ordered = sorted(merged.items())
    fractions = tuple((el, round(a / total, params.fraction_decimals)) for el, a in ordered)
    return NormalisedComposition(tuple(ordered), fractions, tuple(sorted(set(isotopes))))


def reduced_formula(composition: NormalisedComposition) -> str:
    """pymatgen's reduced formula (elements ordered by electronegativity; pymatgen warns that
    noble gases have none, which changes nothing here)."""
    import warnings

    from pymatgen.core import Composition

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No Pauling electronegativity")
        return Composition(dict(composition.amounts)).reduced_formula


def material_row(composition: NormalisedComposition) -> dict:
    """The ``material`` table row of a composition (without ``created_at``)."""
    elements = composition.elements
    h_fraction = composition.fraction("H")
    host = None
    h_per_host = None
    if len(elements) == 2 and "H" in elements:
        host = next(el for el in elements if el != "H")
        h_per_host = composition.amount("H") / composition.amount(host)
    return {
        "id": composition.material_id,
        "reduced_formula": reduced_formula(composition),
        "composition_json": json.dumps(dict(composition.amounts)),
        "fractions_json": json.dumps(dict(composition.fractions)),
        "chemical_system": "-".join(sorted(elements)),
        "n_elements": len(elements),
        "hydrogen_fraction": h_fraction,
        "hydride_host": host,
        "h_per_host": h_per_host,
    }
