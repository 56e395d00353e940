"""Superconductor families and chemical systems of a composition (element → amount).

Why here: the by-time evaluation asks whether a model trained on the past finds the families
reported later (Konno et al., J. Phys. Soc. Jpn. 90, 2021: the iron-based compounds of 2008),
so every layer must name a composition's family the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

CUPRATE = "cuprate"
IRON_BASED = "iron-based"
BORIDE = "MgB2-type boride"
HYDRIDE = "hydride"
OTHER = "other"
FAMILIES = (CUPRATE, IRON_BASED, BORIDE, HYDRIDE, OTHER)

IRON_PARTNERS = frozenset({"As", "P", "S", "Se", "Te"})  # pnictogens and chalcogens


def family(composition: Mapping[str, float]) -> str:
    """The family of a composition; the first rule that holds wins.

    - cuprate: Cu and O both present (Bednorz & Müller 1986);
    - iron-based: Fe with As, P, S, Se or Te (Kamihara et al. 2008; FeSe, Hsu et al. 2008);
    - MgB2-type boride: B present, neither O nor C, and B the most abundant element by amount
      (ties count: MgB2, AlB2, ZrB2, not Mo2B or the borocarbides; Nagamatsu et al. 2001);
    - hydride: H at least half the atoms (H3S, LaH10; Drozdov et al. 2015);
    - other: everything else (elements, A15 and other intermetallics, oxides without Cu, …).

    Amounts of zero or less are ignored.
    """
    amounts = {el: float(n) for el, n in composition.items() if float(n) > 0}
    present = set(amounts)
    if {"Cu", "O"} <= present:
        return CUPRATE
    if "Fe" in present and present & IRON_PARTNERS:
        return IRON_BASED
    if "B" in present and not present & {"O", "C"} and amounts["B"] >= max(amounts.values()):
        return BORIDE
    total = sum(amounts.values())
    if "H" in present and total > 0 and amounts["H"] >= total / 2:
        return HYDRIDE
    return OTHER


def chemical_system(composition: Mapping[str, float]) -> str:
    """The element set of a composition, sorted and joined by '-' ('Ba-Cu-La-O'): what 3DSC
    (Sommer et al. 2023) groups its cross-validation folds by, so that doped variants of one
    system are never on both sides of a split."""
    return "-".join(sorted(el for el, n in composition.items() if float(n) > 0))
