"""Matching compositions to structures: exact by normalised composition, near within a distance."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tcdb.core.composition import normalise
from tcdb.curate.matching import composition_distance, match_structures


def material(amounts):
    c = normalise(amounts)
    return c.material_id, json.dumps(dict(c.fractions))


def frames(materials, structures):
    m = pd.DataFrame([material(a) for a in materials], columns=["id", "fractions_json"])
    rows = []
    for structure_id, amounts in structures:
        mid, fractions = material(amounts)
        rows.append((structure_id, mid, fractions))
    s = pd.DataFrame(rows, columns=["id", "material_id", "fractions_json"])
    return m, s


def test_exact_matches_ignore_formula_writing_and_scale():
    m, s = frames(
        [{"La": 1.8, "Ba": 0.2, "Cu": 1, "O": 4}],
        [("mp-1", {"Ba": 1, "La": 9, "Cu": 5, "O": 20}), ("mp-2", {"La": 2, "Cu": 1, "O": 4})],
    )
    matches = match_structures(m, s, near_distance=None)
    assert list(matches.structure_id) == ["mp-1"]
    assert list(matches.method) == ["exact_reduced"]


def test_a_doped_formula_matches_its_parent_within_the_distance():
    m, s = frames(
        [{"La": 1.85, "Sr": 0.15, "Cu": 1, "O": 4}],
        [("mp-2", {"La": 2, "Cu": 1, "O": 4}), ("mp-3", {"Sr": 1, "O": 1})],
    )
    matches = match_structures(m, s, near_distance=0.05)
    assert list(matches.structure_id) == ["mp-2"]
    assert matches.iloc[0].method == "near_composition"
    assert matches.iloc[0].composition_distance == pytest.approx(
        2 * 0.15 / 7, abs=1e-5
    )  # fractions kept to 6 decimals
    assert match_structures(m, s, near_distance=0.01).empty


def test_composition_distance_is_symmetric_and_zero_for_equal():
    a, b = {"La": 0.25, "O": 0.75}, {"La": 0.5, "O": 0.5}
    assert composition_distance(a, b) == composition_distance(b, a) == pytest.approx(0.5)
    assert composition_distance(a, a) == 0
