"""Families and chemical systems follow the rules core.families documents."""

from __future__ import annotations

import pytest

from tcdb.core.families import BORIDE, CUPRATE, HYDRIDE, IRON_BASED, OTHER, chemical_system, family


@pytest.mark.parametrize(
    ("composition", "expected"),
    [
        ({"La": 1.85, "Sr": 0.15, "Cu": 1, "O": 4}, CUPRATE),
        ({"Y": 1, "Ba": 2, "Cu": 3, "O": 7}, CUPRATE),
        ({"La": 1, "Fe": 1, "As": 1, "O": 0.9, "F": 0.1}, IRON_BASED),
        ({"Fe": 1, "Se": 1}, IRON_BASED),
        ({"Ba": 0.6, "K": 0.4, "Fe": 2, "As": 2}, IRON_BASED),
        ({"Cu": 1, "Fe": 1, "O": 2, "As": 1}, CUPRATE),  # Cu and O first: not iron-based
        ({"Mg": 1, "B": 2}, BORIDE),
        ({"Zr": 1, "B": 2}, BORIDE),
        ({"Mo": 2, "B": 1}, OTHER),  # B is not the most abundant element
        ({"Y": 1, "Ni": 2, "B": 2, "C": 1}, OTHER),  # a borocarbide
        ({"H": 3, "S": 1}, HYDRIDE),
        ({"Pd": 1, "H": 1}, HYDRIDE),  # exactly half the atoms
        ({"Pd": 2, "H": 1}, OTHER),
        ({"Nb": 3, "Sn": 1}, OTHER),
        ({"Fe": 1, "Ni": 1}, OTHER),  # Fe without a pnictogen or chalcogen
    ],
)
def test_each_family_rule(composition, expected):
    assert family(composition) == expected


def test_a_chemical_system_is_the_sorted_element_set():
    assert chemical_system({"La": 1.85, "Sr": 0.15, "Cu": 1, "O": 4}) == "Cu-La-O-Sr"
    assert chemical_system({"O": 4, "La": 2, "Cu": 1}) == chemical_system(
        {"La": 1.9, "Cu": 1, "O": 4}
    )
    assert chemical_system({"Nb": 3, "Sn": 1, "Ge": 0}) == "Nb-Sn"
