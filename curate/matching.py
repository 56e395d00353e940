"""Matching compositions to crystal structures.

Exact: the structure's composition has the same normalised atomic fractions as the material
(so the same material id; this is pymatgen's reduced-composition equality within the rounding
of ``IngestParameters.fraction_decimals``). Near (optional, for doped formulas such as
La1.85Sr0.15CuO4 ↔ La2CuO4): the closest structure composition whose elements are the
material's, or the material's less one (the dopant), within an L1 distance of atomic fractions.
Every match carries its method and distance so a snapshot can choose.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping

import pandas as pd

MATCH_COLUMNS = ("material_id", "structure_id", "method", "composition_distance", "tolerance")


def composition_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """L1 distance between two compositions' atomic fractions (0 = same, 2 = disjoint)."""
    return float(sum(abs(a.get(el, 0.0) - b.get(el, 0.0)) for el in set(a) | set(b)))


def match_structures(
    materials: pd.DataFrame, structures: pd.DataFrame, near_distance: float | None
) -> pd.DataFrame:
    """Matches of ``materials`` (id, fractions_json) to ``structures`` (id, material_id,
    fractions_json): every structure of an exactly matching composition, else, when
    ``near_distance`` is set, every structure of the nearest composition within it."""
    by_material: dict[str, list[str]] = defaultdict(list)
    for structure_id, material_id in zip(structures["id"], structures["material_id"], strict=True):
        by_material[material_id].append(structure_id)
    rows = []
    unmatched = []
    for material_id, fractions_json in zip(
        materials["id"], materials["fractions_json"], strict=True
    ):
        if material_id in by_material:
            rows += [(material_id, s, "exact_reduced", 0.0, None) for s in by_material[material_id]]
        else:
            unmatched.append((material_id, json.loads(fractions_json)))
    if near_distance is not None and unmatched:
        rows += _near_matches(unmatched, structures, by_material, near_distance)
    return pd.DataFrame(rows, columns=list(MATCH_COLUMNS))


def _near_matches(
    unmatched: list[tuple[str, dict[str, float]]],
    structures: pd.DataFrame,
    by_material: Mapping[str, list[str]],
    near_distance: float,
) -> list[tuple]:
    candidates: dict[frozenset[str], list[tuple[str, dict[str, float]]]] = defaultdict(list)
    seen = set()
    for material_id, fractions_json in zip(
        structures["material_id"], structures["fractions_json"], strict=True
    ):
        if material_id in seen:
            continue
        seen.add(material_id)
        fractions = json.loads(fractions_json)
        candidates[frozenset(fractions)].append((material_id, fractions))
    rows = []
    for material_id, fractions in unmatched:
        elements = frozenset(fractions)
        keys = [elements] + [elements - {el} for el in elements if len(elements) > 1]
        scored = [
            (composition_distance(fractions, other), other_id)
            for key in keys
            for other_id, other in candidates.get(key, ())
        ]
        if not scored:
            continue
        best = min(d for d, _ in scored)
        if best > near_distance:
            continue
        for distance, other_id in scored:
            if distance == best:
                rows += [
                    (material_id, s, "near_composition", distance, near_distance)
                    for s in by_material[other_id]
                ]
    return rows
