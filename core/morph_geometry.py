"""A morph's structure from its reference: sites substituted, a and b scaled by one factor
and c by another, fractional coordinates kept.

Why here: the morph generator (``ml.structural.morphs``) builds these structures to predict
them, and the report (``reports.structure_files``) rebuilds the one at a scan's peak to link
its CIF; both must give the same crystal, and neither layer may import the other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymatgen.core import Lattice, Structure


def scaled_lattice(matrix: np.ndarray, scale_ab: float, scale_c: float) -> Lattice:
    """The lattice whose a and b vectors are ``scale_ab`` times and c ``scale_c`` times
    those of ``matrix`` (rows a, b, c): angles unchanged."""
    return Lattice(np.asarray(matrix) * np.array([[scale_ab], [scale_ab], [scale_c]]))


def morph_of(
    reference: Structure,
    species: Sequence[str],
    scale_ab: float,
    scale_c: float,
    labels: Sequence[str] | None = None,
) -> Structure:
    """``reference`` with ``species`` on its sites and its lattice scaled, site labels and
    fractional coordinates kept (``labels``: the reference's, when the caller has them)."""
    if labels is None:
        labels = [site.label for site in reference]
    return Structure(
        scaled_lattice(reference.lattice.matrix, scale_ab, scale_c), list(species),
        reference.frac_coords, labels=list(labels),
    )  # fmt: skip
