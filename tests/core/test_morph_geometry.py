"""A morph's lattice: a and b scaled by one factor, c by another, angles and sites kept."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from tcdb.core.morph_geometry import morph_of


def test_a_morph_scales_a_b_and_c_and_keeps_angles_labels_and_fractional_positions():
    reference = Structure(Lattice.from_parameters(3.0, 3.0, 5.0, 90, 90, 120), ["Mg", "H"],
                          [[0, 0, 0], [1 / 3, 2 / 3, 0.25]], labels=["Mg1", "H1"])  # fmt: skip
    morph = morph_of(reference, ["Ca", "H"], 1.1, 0.9)
    assert np.allclose(morph.lattice.abc, (3.3, 3.3, 4.5))
    assert np.allclose(morph.lattice.angles, (90, 90, 120))
    assert [site.species_string for site in morph] == ["Ca", "H"]
    assert [site.label for site in morph] == ["Mg1", "H1"]
    assert np.allclose(morph.frac_coords, reference.frac_coords)
