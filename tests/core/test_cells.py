"""Every copy of one crystal reduces to the same standard cell: supercells, rotations,
translations and re-ordered sites (the structural model's inputs depend on it)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.core.operations import SymmOp

from tcdb.core.cells import standard_cell
from tests.conftest import SOURCES

LITERATURE = SOURCES / "literature" / "structures"
REFERENCE = SOURCES / "reference" / "structures"
CRYSTALS = [
    LITERATURE / "100GPa_Im-3m_CaH6.cif",  # cubic, one formula unit per primitive cell
    LITERATURE / "200GPa_P6_3mc_AcH12.cif",  # polar: the origin along c is free
    LITERATURE / "500GPa_C2_m_MgH8.cif",  # monoclinic
    LITERATURE / "100GPa_P-1_LaH5.cif",  # triclinic: eight inversion centres
    REFERENCE / "BaH32N4O_Fd-3m.cif",  # Ba without inversion symmetry on its site
]
# The CIFs give positions to 5-6 decimals; copies agree to that, not to machine precision.
LENGTH_TOLERANCE_A = 1e-4
FRACTION_TOLERANCE = 1e-4


def _read(path) -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(path)


def _translated(structure: Structure) -> Structure:
    copy = structure.copy()
    copy.translate_sites(list(range(len(copy))), [0.137, 0.41, 0.77])
    return copy


def _rotated(structure: Structure) -> Structure:
    copy = structure.copy()
    copy.apply_operation(SymmOp.from_axis_angle_and_translation([1, 2, 3], 37.0))
    return copy


def _permuted(structure: Structure) -> Structure:
    order = np.random.default_rng(0).permutation(len(structure))
    return Structure(
        structure.lattice, [structure[i].species for i in order], structure.frac_coords[order]
    )


COPIES = {
    "2x1x1 supercell": lambda s: s * (2, 1, 1),
    "3x1x1 supercell": lambda s: s * (3, 1, 1),
    "7x1x1 supercell": lambda s: s * (7, 1, 1),
    "2x2x2 supercell": lambda s: s * (2, 2, 2),
    "translated": _translated,
    "rotated": _rotated,
    "sites permuted": _permuted,
    "all at once": lambda s: _permuted(_rotated(_translated(s * (1, 2, 1)))),
}


def assert_same_cell(a: Structure, b: Structure) -> None:
    assert [str(site.species) for site in a] == [str(site.species) for site in b]
    assert np.allclose(a.lattice.matrix, b.lattice.matrix, atol=LENGTH_TOLERANCE_A)
    assert np.allclose(a.frac_coords, b.frac_coords, atol=FRACTION_TOLERANCE)


@pytest.mark.parametrize("path", CRYSTALS, ids=lambda p: p.stem)
@pytest.mark.parametrize("copy", COPIES.values(), ids=COPIES.keys())
def test_copies_of_one_crystal_reduce_to_the_same_cell(path, copy):
    crystal = _read(path)
    assert_same_cell(standard_cell(copy(crystal)).structure, standard_cell(crystal).structure)


def test_the_cah6_supercells_reduce_to_its_seven_atom_primitive_cell():
    crystal = _read(LITERATURE / "100GPa_Im-3m_CaH6.cif")
    for n in (1, 2, 3, 7):
        cell = standard_cell(crystal * (n, 1, 1))
        assert len(cell.structure) == 7
        assert cell.sites_in == n * len(crystal)
        assert cell.method == "spglib standard primitive"
        assert cell.structure.composition.reduced_formula == "CaH6"


def test_a_different_crystal_of_the_same_composition_stays_different():
    """Standardising must not merge polymorphs: MgH4 at 200 and 300 GPa differ in their cells."""
    low = standard_cell(_read(LITERATURE / "200GPa_I4_mmm_MgH4.cif")).structure
    high = standard_cell(_read(LITERATURE / "300GPa_I4_mmm_MgH4.cif")).structure
    assert not np.allclose(low.lattice.abc, high.lattice.abc, atol=LENGTH_TOLERANCE_A)


def test_the_tolerances_used_are_recorded():
    cell = standard_cell(_read(LITERATURE / "100GPa_Im-3m_CaH6.cif"))
    assert (cell.symprec, cell.angle_tolerance_deg) == (0.1, 5.0)
