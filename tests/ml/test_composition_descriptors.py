"""Hamidieh's 81 composition descriptors, the batch path, and the 175 numerical descriptors."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from tcdb.ml import composition_descriptors as cd
from tcdb.ml import element_data as ed

STATS = {name: i for i, name in enumerate(cd.STATISTICS)}


def label_index(stat: str, prop: str) -> int:
    return cd.COMPOSITION_LABELS.index(f"{stat}_{cd.HAMIDIEH_NAMES[prop]}")


# --- the statistics on hand-worked numbers -----------------------------------------------------

# t = (2, 8), p = (1/4, 3/4):
#   mean 5; wtd_mean 2/4 + 24/4 = 6.5; gmean sqrt(16) = 4; wtd_gmean 2^(1/4) 8^(3/4) = 2^(5/2);
#   entropy: w = (0.2, 0.8) -> -(0.2 ln 0.2 + 0.8 ln 0.8);
#   wtd_entropy: p t = (0.5, 6), w = (1/13, 12/13) -> (1/13) ln 13 + (12/13) ln(13/12);
#   range 6; wtd_range 6 - 0.5 = 5.5; std (population) 3;
#   wtd_std sqrt(0.25 (2 - 6.5)² + 0.75 (8 - 6.5)²) = sqrt(5.0625 + 1.6875) = sqrt(6.75).
HAND = [
    5.0,
    6.5,
    4.0,
    2**2.5,
    -(0.2 * math.log(0.2) + 0.8 * math.log(0.8)),
    math.log(13) / 13 + 12 / 13 * math.log(13 / 12),
    6.0,
    5.5,
    3.0,
    math.sqrt(6.75),
]


def test_statistics_match_hand_computation():
    out = cd.statistics(np.array([2.0, 8.0]), np.array([0.25, 0.75]))
    assert out == pytest.approx(HAND, rel=1e-12)


def test_batch_statistics_match_hand_computation():
    values = np.array([[[2.0], [8.0], [np.nan]]])  # padded to three slots
    fractions = np.array([[0.25, 0.75, 0.0]])
    mask = np.array([[True, True, False]])
    out = cd.batch_statistics(values, fractions, mask)
    assert out.shape == (1, 1, 10)
    assert out[0, 0] == pytest.approx(HAND, rel=1e-12)


def test_nonpositive_values_in_log_statistics_are_clipped_to_zero():
    # t = (-0.5, 2), p = (0.5, 0.5): clipped (0, 2) -> geometric means 0, w = (0, 1) -> entropy 0;
    # mean, range and std keep the sign: mean 0.75, range 2.5, std 1.25.
    out = cd.statistics(np.array([-0.5, 2.0]), np.array([0.5, 0.5]))
    assert out[STATS["gmean"]] == 0 and out[STATS["wtd_gmean"]] == 0
    assert out[STATS["entropy"]] == 0 and out[STATS["wtd_entropy"]] == 0
    assert out[STATS["mean"]] == pytest.approx(0.75)
    assert out[STATS["range"]] == pytest.approx(2.5)
    assert out[STATS["std"]] == pytest.approx(1.25)
    # every value <= 0: sum of clipped values is 0, entropies defined as 0
    allneg = cd.statistics(np.array([-1.0, -2.0]), np.array([0.5, 0.5]))
    assert allneg[STATS["entropy"]] == 0 and allneg[STATS["gmean"]] == 0
    with pytest.raises(ValueError, match="<= 0"):
        cd.statistics(np.array([-1.0, 2.0]), np.array([0.5, 0.5]), nonpositive="error")


def test_electron_affinity_rule_on_a_real_composition():
    mg = ed.element_table().loc[12, "electron_affinity"]
    assert mg < 0
    x = cd.composition_features({"Mg": 1, "B": 2})
    assert x[label_index("gmean", "electron_affinity")] == 0.0
    assert x[label_index("wtd_gmean", "electron_affinity")] == 0.0
    assert x[label_index("entropy", "electron_affinity")] == 0.0  # only B is > 0
    b = ed.element_table().loc[5, "electron_affinity"]
    assert x[label_index("wtd_mean", "electron_affinity")] == pytest.approx((mg + 2 * b) / 3)
    strict = cd.CompositionDescriptorConfig(nonpositive="error")
    with pytest.raises(ValueError, match="electron_affinity"):
        cd.composition_features({"Mg": 1, "B": 2}, strict)
    batch = cd.composition_matrix([{"Nb": 3, "Sn": 1}, {"Mg": 1, "B": 2}], strict)
    assert list(batch.errors) == [1] and "electron_affinity" in batch.errors[1]
    assert np.isfinite(batch.X[0]).all()


def test_one_element_gives_zero_spread():
    x = cd.composition_features({"Nb": 2.5})
    table = ed.element_table()
    assert x[0] == 1
    for j, prop in enumerate(cd.PROPERTIES):
        block = x[1 + 10 * j : 11 + 10 * j]
        for stat in ("entropy", "wtd_entropy", "range", "wtd_range", "std", "wtd_std"):
            assert block[STATS[stat]] == 0.0, (prop, stat)
        for stat in ("mean", "wtd_mean", "gmean", "wtd_gmean"):
            assert block[STATS[stat]] == pytest.approx(table.loc[41, prop]), (prop, stat)


# --- compositions as input --------------------------------------------------------------------


def test_amounts_are_normalised_to_fractions():
    from pymatgen.core import Composition

    fractions = cd.normalise_amounts({"Ba": 0.2, "La": 1.8, "Cu": 1, "O": 4})
    assert sum(fractions.values()) == pytest.approx(1.0, abs=1e-15)
    assert fractions["O"] == pytest.approx(4 / 7)
    merged = cd.normalise_amounts(Composition({"Fe2+": 1, "Fe3+": 2, "O": 4}))
    assert merged == pytest.approx({"Fe": 3 / 7, "O": 4 / 7})
    with pytest.raises(ValueError, match="positive"):
        cd.normalise_amounts({"La": -1})
    with pytest.raises(ed.ElementDataError):
        cd.normalise_amounts({"Xx": 1})


def test_order_of_elements_does_not_matter():
    amounts = {"Y": 1, "Ba": 2, "Cu": 3, "O": 6.9}
    reference = cd.composition_features(amounts)
    for order in itertools.permutations(amounts):
        x = cd.composition_features({k: amounts[k] for k in order})
        np.testing.assert_allclose(x, reference, rtol=1e-12, atol=1e-12)


def test_scaled_formulas_give_identical_descriptors():
    from pymatgen.core import Composition

    a = cd.composition_features({"Ba": 0.2, "La": 1.8, "Cu": 1, "O": 4})
    b = cd.composition_features({"Ba": 1, "La": 9, "Cu": 5, "O": 20})
    c = cd.composition_features(Composition("BaLa9(CuO4)5"))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    batch = cd.composition_matrix(
        [{"Ba": 0.2, "La": 1.8, "Cu": 1, "O": 4}, Composition("BaLa9(CuO4)5")]
    )
    np.testing.assert_allclose(batch.X[0], batch.X[1], rtol=1e-12, atol=1e-12)


def test_a_real_composition_by_hand():
    table = ed.element_table()
    x = cd.composition_features({"Mg": 1, "B": 2})
    m_mg, m_b = table.loc[12, "atomic_mass"], table.loc[5, "atomic_mass"]
    assert x[0] == 2
    assert x[label_index("mean", "atomic_mass")] == pytest.approx((m_mg + m_b) / 2)
    assert x[label_index("wtd_mean", "atomic_mass")] == pytest.approx((m_mg + 2 * m_b) / 3)
    assert x[label_index("wtd_gmean", "atomic_mass")] == pytest.approx(
        m_mg ** (1 / 3) * m_b ** (2 / 3)
    )
    assert x[label_index("range", "atomic_mass")] == pytest.approx(m_mg - m_b)
    assert x[label_index("wtd_range", "atomic_mass")] == pytest.approx(m_mg / 3 - 2 * m_b / 3)


# --- missing element data -----------------------------------------------------------------------


def test_imputation_is_explicit_and_counted():
    table = ed.element_table()
    assert np.isnan(table.loc[8, "fusion_heat"])  # O has no fusion heat in mendeleev
    comps = [{"Y": 1, "Ba": 2, "Cu": 3, "O": 7}, {"Mg": 1, "B": 2}, {"C": 1, "O": 2}]
    batch = cd.composition_matrix(comps)
    assert batch.imputed["fusion_heat"] == 3  # O, then C and O
    assert batch.imputed["atomic_mass"] == 0
    assert batch.imputed_rows == 2
    assert batch.report()["imputed_values"]["fusion_heat"] == 3
    assert cd.imputed_values(comps[2]) == [("C", "fusion_heat"), ("O", "fusion_heat")]
    fill = ed.imputation_values()["fusion_heat"]
    x = cd.composition_features(comps[2])
    assert x[label_index("mean", "fusion_heat")] == pytest.approx(fill)

    strict = cd.CompositionDescriptorConfig(impute="none")
    with pytest.raises(ed.ElementDataError, match="O lacks fusion_heat"):
        cd.composition_features(comps[0], strict)
    strict_batch = cd.composition_matrix(comps, strict)
    assert sorted(strict_batch.errors) == [0, 2]
    assert "fusion_heat" in strict_batch.errors[0]
    assert np.isfinite(strict_batch.X[1]).all() and np.isnan(strict_batch.X[0]).all()
    assert sum(strict_batch.imputed.values()) == 0
    assert strict.as_dict()["imputation_rule"] is None
    assert cd.DEFAULT_CONFIG.as_dict()["imputation_rule"] == ed.IMPUTATION_RULE


# --- the batch path on real compositions -------------------------------------------------------


@pytest.fixture(scope="module")
def stanev_compositions(real_sources: Path) -> list[dict[str, float]]:
    """About 50 SuperCon compositions spread over Stanev et al.'s cleaned table."""
    from pymatgen.core import Composition

    path = real_sources / "supercon" / "stanev2018_supercon.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent (set TCDB_SOURCES to the shared data folder)")
    with path.open(newline="") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    comps = []
    for name in names[::300]:
        try:
            comp = Composition(name)
        except Exception:
            continue  # unparseable SuperCon notation is skipped
        if comp.num_atoms > 0 and all(el.Z <= 86 for el in comp):
            comps.append({el.symbol: amt for el, amt in comp.items()})
    assert len(comps) >= 45
    return comps


def test_batch_equals_single_on_real_compositions(stanev_compositions):
    batch = cd.composition_matrix(stanev_compositions)
    assert batch.X.shape == (len(stanev_compositions), 81)
    assert batch.errors == {}
    for row, comp in zip(batch.X, stanev_compositions, strict=True):
        np.testing.assert_allclose(row, cd.composition_features(comp), rtol=1e-9, atol=1e-12)


def test_batch_collects_errors_instead_of_raising(stanev_compositions):
    comps = list(stanev_compositions[:10])
    comps[3] = {"La": 1, "Xx": 2}
    comps[5] = {"La": -1, "O": 1}
    comps[7] = {}
    comps.append("LaH10")  # type: ignore[arg-type]
    batch = cd.composition_matrix(comps)
    assert sorted(batch.errors) == [3, 5, 7, 10]
    assert "Xx" in batch.errors[3] and "La" in batch.errors[5]
    assert np.isnan(batch.X[[3, 5, 7, 10]]).all()
    assert not batch.valid[3] and batch.valid[4]
    for i in (0, 1, 2, 4, 6, 8, 9):
        np.testing.assert_allclose(batch.X[i], cd.composition_features(comps[i]), rtol=1e-9)


# --- labels and the structure descriptors ------------------------------------------------------


def test_labels_175_unique_stable():
    labels = cd.NUMERICAL_LABELS
    assert len(cd.ELEMENT_COUNT_LABELS) == 86
    assert len(cd.COMPOSITION_LABELS) == 81
    assert len(cd.LATTICE_LABELS) == 8
    assert len(labels) == 175 and len(set(labels)) == 175
    assert labels[0] == "count_H" and labels[85] == "count_Rn"
    assert labels[86:90] == (
        "number_of_elements",
        "mean_atomic_mass",
        "wtd_mean_atomic_mass",
        "gmean_atomic_mass",
    )
    assert labels[166] == "wtd_std_Valence"
    assert labels[167:] == ("a", "b", "c", "alpha", "beta", "gamma", "space_group_number", "volume")
    featurizer = cd.NumericalDescriptors()
    assert featurizer.feature_labels() == list(labels)
    assert featurizer.citations() and cd.CompositionStatistics().citations()
    assert featurizer.as_dict()["symprec"] == cd.DEFAULT_SYMPREC == 0.1


@pytest.fixture(scope="module")
def mgh13(real_sources: Path):
    from pymatgen.core import Structure

    path = real_sources / "literature" / "structures" / "200GPa_Fm-3m_MgH13.cif"
    if not path.is_file():
        pytest.skip(f"{path} is absent (set TCDB_SOURCES to the shared data folder)")
    return Structure.from_file(path)


def test_structure_descriptors_of_mgh13(mgh13):
    counts = cd.ElementCounts().featurize(mgh13)
    assert counts[0] == 13 and counts[11] == 1  # H, Mg in the primitive cell
    assert counts.sum() == 14
    lattice = cd.LatticeDescriptors().featurize(mgh13)
    assert lattice[:3] == pytest.approx([3.469564] * 3, abs=1e-6)
    assert lattice[3:6] == pytest.approx([60.0] * 3, abs=1e-6)
    assert lattice[6] == 225
    assert lattice[7] == pytest.approx(29.533139, abs=1e-4)
    assert cd.lattice_descriptors(mgh13, space_group=1)[6] == 1  # a known space group is used
    full = cd.NumericalDescriptors().featurize(mgh13)
    assert full.shape == (175,)
    np.testing.assert_allclose(full[86:167], cd.composition_features({"Mg": 1, "H": 13}))


def test_numerical_matrix_collects_structure_errors(mgh13):
    from pymatgen.core import Lattice, Structure

    uranium = Structure(Lattice.cubic(3.0), ["U"], [[0, 0, 0]])  # Z 92 has no count column
    batch = cd.numerical_matrix([mgh13, uranium, mgh13], space_groups=[225, None, None])
    assert list(batch.errors) == [1] and "U" in batch.errors[1]
    assert np.isnan(batch.X[1]).all()
    np.testing.assert_allclose(batch.X[0], batch.X[2])
    np.testing.assert_allclose(batch.X[0], cd.numerical_descriptors(mgh13))
