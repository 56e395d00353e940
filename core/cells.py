"""One cell per crystal: the primitive standard cell (spglib through pymatgen) that every
structure is reduced to before it is featurised, so that a supercell, a rotated, translated or
re-ordered copy of a crystal is the same input to a model.

Why: the Fourier densities and the descriptors are computed over the cell given, so the same
crystal given as a 7×1×1 supercell was a different input; see docs/models.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.core import Structure

from tcdb.core.parameters import INGEST

KEY_DECIMALS = 3
"""Fractional coordinates are compared at this many decimals (about 0.005 Å in a 5 Å cell) when
the order of sites and the placement of the cell are chosen, so float noise cannot decide."""

SPGLIB_CACHE_SIZE = 512
"""How many of spglib's standard cells are remembered by their exact input (a few kB each)."""


@dataclass(frozen=True)
class StandardCell:
    """A structure reduced to its standard cell, and how it was reduced."""

    structure: Structure
    method: str  # "spglib standard primitive" | "primitive + Niggli (no symmetry found)"
    symprec: float
    angle_tolerance_deg: float
    sites_in: int


def _site_keys(species_codes: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """One integer per site that sorts like (species, x, y, z) at ``KEY_DECIMALS``; ``frac``
    may carry leading batch axes."""
    scale = 10**KEY_DECIMALS
    grid = np.rint(frac * scale).astype(np.int64) % scale
    return ((species_codes * scale + grid[..., 0]) * scale + grid[..., 1]) * scale + grid[..., 2]


def _lattice_rotations(structure: Structure, symprec: float, angle: float) -> np.ndarray:
    """The point operations that map the lattice onto itself, as integer matrices acting on
    fractional coordinates (up to 48: the lattice's holohedry)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    bare = Structure(structure.lattice, ["H"], [[0.0, 0.0, 0.0]])
    analyzer = SpacegroupAnalyzer(bare, symprec=symprec, angle_tolerance=angle)
    rotations = analyzer.get_symmetry_dataset().rotations
    return np.asarray(rotations, dtype=float)


def _canonical(structure: Structure, symprec: float, angle: float) -> Structure:
    """The cell's sites in one order, from one origin and in one of the lattice's equivalent
    orientations.

    spglib's standard setting leaves a choice among equivalent descriptions: the origin (any of
    the inversion centres of P-1, any height along a polar axis) and the image under a point
    operation of the lattice that is not one of the crystal's (an inversion through a site
    without inversion symmetry). The input decides which it takes. So every lattice operation
    and every site of the rarest species as the origin are tried, and the description whose
    ordered, rounded coordinates sort first is kept: the same for any supercell, rotation,
    translation or site order of the input."""
    species = [str(site.species) for site in structure]
    names = sorted(set(species))
    codes = np.array([names.index(name) for name in species], dtype=np.int64)
    counts = np.bincount(codes)
    anchors = np.flatnonzero(codes == int(np.argmin(counts)))  # the rarest, first by name
    rotations = _lattice_rotations(structure, symprec, angle)
    rotated = np.einsum("rij,nj->rni", rotations, structure.frac_coords)  # (R, n, 3)
    # every (rotation, anchor) placement at once: (R, A, n, 3)
    shifted = np.mod(rotated[:, None, :, :] - rotated[:, anchors, None, :], 1.0)
    shifted = shifted.reshape(-1, len(structure), 3)
    keys = _site_keys(codes, shifted)
    orders = np.argsort(keys, axis=1, kind="stable")
    ordered = np.take_along_axis(keys, orders, axis=1)
    best = np.lexsort(ordered.T[::-1])[0]  # the placement whose ordered keys sort first
    order, chosen = orders[best], shifted[best]
    folded = np.where(np.round(chosen, KEY_DECIMALS) >= 1.0, chosen - 1.0, chosen)
    return Structure(structure.lattice, [structure[i].species for i in order], folded[order])


def _spglib_primitive(structure: Structure, symprec: float, angle: float) -> Structure | None:
    """spglib's standard primitive cell, keeping the input's own atomic positions.

    ``no_idealize``: spglib would otherwise symmetrise the positions, and how it averages them
    depends on the cell and the site order it is given (up to 0.005 in fractional coordinates
    for a monoclinic hydride), which is exactly the dependence this module removes."""
    kinds = sorted({str(site.species) for site in structure})
    numbers = tuple(kinds.index(str(site.species)) for site in structure)
    lattice = np.ascontiguousarray(structure.lattice.matrix, dtype=float)
    frac = np.ascontiguousarray(structure.frac_coords, dtype=float)
    found = _standardized(lattice.tobytes(), frac.tobytes(), numbers, symprec, angle)
    if found is None:
        return None
    lattice, positions, found_numbers = found
    species = {kinds.index(str(site.species)): site.species for site in structure}
    return Structure(lattice, [species[n] for n in found_numbers], positions)


@lru_cache(maxsize=SPGLIB_CACHE_SIZE)
def _standardized(
    lattice: bytes, frac: bytes, numbers: tuple[int, ...], symprec: float, angle: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """spglib's standard primitive cell of one exact input (lattice and coordinates as float64
    bytes, site kinds as numbers), remembered.

    Why: spglib sees only numbers, so the morphs of one reference that differ only in which
    elements stand on its sites (every X, Y of a map whose names sort alike) are one input to
    it; the search took 19 ms each, two minutes over an X/Y map. An identical input gives an
    identical answer, so nothing but the time changes."""
    import spglib

    cell = (
        np.frombuffer(lattice).reshape(3, 3),
        np.frombuffer(frac).reshape(-1, 3),
        list(numbers),
    )
    found = spglib.standardize_cell(
        cell, to_primitive=True, no_idealize=True, symprec=symprec, angle_tolerance=angle
    )
    if found is None:
        return None
    for array in found:
        array.setflags(write=False)  # shared between callers
    return found


def standard_cell(
    structure: Structure,
    symprec: float = INGEST.symprec,
    angle_tolerance_deg: float = INGEST.angle_tolerance_deg,
) -> StandardCell:
    """The primitive standard cell of ``structure`` with the recorded tolerances.

    spglib finds the symmetry and the standard primitive basis; the lattice is then set in one
    orientation from its lengths and angles, and the sites in one order and placement. Where
    spglib finds no cell, pymatgen's primitive reduction followed by a Niggli reduction stands
    in: still the same cell for any supercell or site order. The tolerances default to those
    of ingest (``IngestParameters.symprec``, ``angle_tolerance_deg``)."""
    from pymatgen.core import Lattice

    angle = angle_tolerance_deg
    reduced = _spglib_primitive(structure, symprec, angle)
    method = "spglib standard primitive"
    if reduced is None:
        reduced = structure.get_primitive_structure(tolerance=symprec).get_reduced_structure()
        method = "primitive + Niggli (no symmetry found)"
    oriented = Structure(
        Lattice.from_parameters(*reduced.lattice.abc, *reduced.lattice.angles),
        reduced.species_and_occu,
        reduced.frac_coords,
    )
    return StandardCell(
        _canonical(oriented, symprec, angle), method, symprec, angle, len(structure)
    )


def scaled(cell: Structure, factor: float) -> Structure:
    """``cell`` with every length multiplied by ``factor`` (fractional coordinates kept): the
    standard cell of a uniformly scaled crystal, without searching its symmetry again."""
    return Structure(cell.lattice.matrix * factor, cell.species_and_occu, cell.frac_coords)
