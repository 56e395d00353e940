"""A batch of morphs built with what one substitution shares (its standard cell, space group,
formula; spglib's answer for its pattern of sites) is the batch built morph by morph."""

from __future__ import annotations

import dataclasses

import numpy as np

from tcdb.core import cells
from tcdb.core.parameters import INGEST
from tcdb.core.structures import space_group
from tcdb.ml.structural.morph_runs import MorphBuilder
from tcdb.ml.structural.morphs import FAMILIES, Builder, Morph, generate, load_reference_file
from tcdb.ml.structural.parameters import MORPH
from tcdb.ml.structure_features import CellConfig
from tests.conftest import SOURCES

REFERENCES = SOURCES / "reference" / "structures"


def _same(one, other) -> bool:
    return (
        [str(s) for s in one.species] == [str(s) for s in other.species]
        and np.array_equal(one.lattice.matrix, other.lattice.matrix)
        and np.array_equal(one.frac_coords, other.frac_coords)
    )


def test_morphs_whose_sites_sort_alike_share_one_spglib_search_and_keep_their_own_cell():
    reference = load_reference_file(REFERENCES / "MgH13_Fm-3m_200GPa.cif")
    builder = Builder(reference)
    # H < Li < Na and H < K < Mg: one pattern of site numbers for spglib
    unit = [Morph((("X1", x), ("Y0", y)), x, y) for x, y in (("Li", "Na"), ("K", "Mg"))]
    cells._standardized.cache_clear()
    remembered = [cells.standard_cell(builder.build(m)).structure for m in unit]
    assert cells._standardized.cache_info().hits == 1

    searched = []
    for morph in unit:
        cells._standardized.cache_clear()
        searched.append(cells.standard_cell(builder.build(morph)).structure)
    assert all(_same(a, b) for a, b in zip(remembered, searched, strict=True))
    assert {s.composition.reduced_formula for s in remembered} == {"NaLiH12", "KMgH12"}


def test_a_uniform_scan_batch_equals_its_morphs_built_one_by_one():
    reference = load_reference_file(REFERENCES / "MgH13_Fm-3m_200GPa.cif")
    params = dataclasses.replace(MORPH, scan_points=3)
    morphs = generate(FAMILIES["mgh13-xy"], reference, params, only=["Li", "Al", "H"])
    config = CellConfig(standardise=True)
    batch = MorphBuilder(reference, config, per_structure_space_group=False).build(morphs)

    builder = Builder(reference)
    assert batch.usable == list(range(len(morphs))) and not batch.errors
    for i, morph in enumerate(morphs):
        built = builder.build(morph)
        assert batch.lengths[i] == (float(built.lattice.a), float(built.lattice.c))
        assert batch.names[i] == built.composition.reduced_formula
        first = next(m for m in morphs if m.substitution == morph.substitution)
        assert batch.numbers[i] == space_group(builder.build(first), INGEST, [])[0]
        unit = builder.build(dataclasses.replace(morph, scale_ab=1.0, scale_c=1.0))
        cell = cells.standard_cell(unit, config.symprec, config.angle_tolerance_deg).structure
        expected = cells.scaled(cell, morph.scale_ab)
        assert _same(batch.structures[i], expected)
