"""Morph generation (Novakovic et al. 2023, Sec. V.B): the varied sites take the chosen
elements, scans scale the lattice with angles and fractional coordinates kept, and the random
search is seeded."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tcdb.ml.structural.morphs import (
    FAMILIES,
    Builder,
    MorphError,
    elements,
    generate,
    load_reference_file,
)
from tcdb.ml.structural.parameters import MORPH
from tests.conftest import SOURCES

REFERENCES = SOURCES / "reference" / "structures"
pytestmark = pytest.mark.skipif(not REFERENCES.is_dir(), reason="no reference structures")


def _reference(name):
    return load_reference_file(REFERENCES / name)


def test_the_element_pool_is_z_1_to_86_without_noble_gases():
    pool = elements()
    assert len(pool) == 80 and pool[0] == "H" and pool[-1] == "At"
    assert not {"He", "Ne", "Ar", "Kr", "Xe", "Rn"} & set(pool)


def test_mgh13_map_puts_x_on_the_mg_site_and_y_on_the_centre_h_at_every_scale():
    reference = _reference("MgH13_Fm-3m_200GPa.cif")
    params = dataclasses.replace(MORPH, scan_points=4)
    morphs = generate(FAMILIES["mgh13-xy"], reference, params, only=["Li", "Al", "H"])
    assert len(morphs) == 3 * 3 * 4

    builder = Builder(reference)
    li_al = [m for m in morphs if (m.x, m.y) == ("Li", "Al")]
    first, last = builder.build(li_al[0]), builder.build(li_al[-1])
    assert first.composition.reduced_formula == "LiAlH12"
    assert first.lattice.a == pytest.approx(0.8 * reference.a_A)
    assert last.lattice.a == pytest.approx(6.0)
    assert np.allclose(last.lattice.angles, reference.structure.lattice.angles)
    assert np.allclose(last.frac_coords, reference.structure.frac_coords)
    mg_site = reference.sites(["X1"])[0]
    centre = reference.sites(["Y0"])[0]
    assert first[mg_site].specie.symbol == "Li" and first[centre].specie.symbol == "Al"
    # X = Mg, Y = H is the reference itself
    same = next(m for m in morphs if (m.x, m.y) == ("Li", "H"))
    assert builder.build(same).composition.reduced_formula == "LiH13"


def test_xh3_keeps_the_h3s_lattice_and_swaps_only_sulphur():
    reference = _reference("H3S_Im-3m_200GPa.cif")
    morphs = generate(FAMILIES["xh3"], reference, only=["P", "B", "Se"])
    built = [Builder(reference).build(m) for m in morphs]
    assert [s.composition.reduced_formula for s in built] == ["PH3", "BH3", "H3Se"]
    assert all(s.lattice.a == pytest.approx(2.584994) for s in built)


def test_xyh36_turns_the_four_li_into_h():
    reference = _reference("Li2MgH16_Fd-3m_250GPa.cif")
    morphs = generate(FAMILIES["xyh36"], reference, dataclasses.replace(MORPH, scan_points=2),
                      only=["La", "Li"])  # fmt: skip
    formulas = {Builder(reference).build(m).composition.formula.replace(" ", "") for m in morphs}
    assert "Li1La1H36" in formulas and "La2H36" in formulas


def test_the_random_search_is_seeded_distinct_and_replaces_li_in_pairs():
    reference = _reference("Li2MgH16_Fd-3m_250GPa.cif")
    params = dataclasses.replace(MORPH, random_samples=30, scan_points=1)
    family = FAMILIES["li2mgh16-random"]
    first, again = generate(family, reference, params), generate(family, reference, params)
    assert first == again
    assert len({m.substitution for m in first}) == 30
    other = generate(family, reference, dataclasses.replace(params, random_seed=1))
    assert {m.substitution for m in other} != {m.substitution for m in first}
    for morph in first:
        chosen = dict(morph.substitution)
        assert chosen["X32"] == chosen["X33"] and chosen["X34"] == chosen["X35"]
        assert (chosen["Y36"], chosen["Y37"]) == (morph.x, morph.y)


def test_the_ac_grid_scales_a_and_c_independently():
    reference = _reference("Li2MgH16_P-3m1_300GPa.cif")
    params = dataclasses.replace(MORPH, grid_factors=(0.9, 1.1, 3))
    morphs = generate(FAMILIES["ac-grid"], reference, params)
    assert len(morphs) == 9
    corner = Builder(reference).build(morphs[2])  # a x 0.9, c x 1.1
    a0, _, c0 = reference.structure.lattice.abc
    assert corner.lattice.a == pytest.approx(0.9 * a0)
    assert corner.lattice.c == pytest.approx(1.1 * c0)


def test_a_dome_or_grid_run_says_whether_tc_peaks_inside_its_scan():
    from tcdb.ml.structural.morph_runs import scan_summary

    reference = _reference("Li2MgH16_Fd-3m_250GPa.cif")
    builder = Builder(reference)
    dome = generate(FAMILIES["dome"], reference, MORPH)
    lengths = [(s.lattice.a, s.lattice.c) for s in map(builder.build, dome)]
    a = np.array([length[0] for length in lengths])
    peaked = 280.0 - 30.0 * (a - 5.0) ** 2  # a hand-made dome at a = 5 Å
    summary = scan_summary(FAMILIES["dome"], peaked, lengths)
    assert summary.startswith("interior maximum") and f"a = {a[np.argmax(peaked)]:.2f}" in summary
    assert scan_summary(FAMILIES["dome"], 400.0 - 40.0 * a, lengths).startswith("falling")
    grid = generate(FAMILIES["ac-grid"], reference, MORPH)
    lengths = [(s.lattice.a, s.lattice.c) for s in map(builder.build, grid)]
    a, c = (np.array([length[i] for length in lengths]) for i in (0, 1))
    summary = scan_summary(FAMILIES["ac-grid"], 500.0 - 20.0 * a - 10.0 * c, lengths)
    assert summary.startswith("highest on the edge (smallest a and smallest c)")
    assert scan_summary(FAMILIES["ac-grid"], np.full(len(a), np.nan), lengths) == (
        "no T_c predicted"
    )
    assert scan_summary(FAMILIES["xh3"], np.array([1.0]), [(2.6, 2.6)]) == ""


def test_unknown_sites_and_elements_are_refused_with_the_reason():
    reference = _reference("MgH13_Fm-3m_200GPa.cif")
    with pytest.raises(MorphError, match="no site labelled Y36"):
        generate(FAMILIES["xyh36"], reference)
    with pytest.raises(MorphError, match="Unknown element symbol"):
        generate(FAMILIES["mgh13-xy"], reference, only=["Qq"])
