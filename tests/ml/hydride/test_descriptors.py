"""Hutcheon et al. (2020) hydride descriptors, pinned against hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest

from tcdb.ml import element_data as ed
from tcdb.ml.hydride import descriptors as hd

# Expected descriptors of E H_n, derived by hand from the ground-state configurations
# (all occupied shells) and the CRC van der Waals radii (mendeleev vdw_radius, pm / 100):
#
# La, Z 57, [Xe] 5d1 6s2 with [Xe] = 1s2 2s2 2p6 3s2 3p6 3d10 4s2 4p6 4d10 5s2 5p6:
#   s = 1s 2s 3s 4s 5s 6s = 6 x 2 = 12; p = 2p 3p 4p 5p = 4 x 6 = 24;
#   d = 3d10 + 4d10 + 5d1 = 21; f = 0; 12 + 24 + 21 = 57. vdW 243 pm; 139La is 99.9 %.
# Rb, Z 37, [Kr] 5s1 with [Kr] = 1s2 2s2 2p6 3s2 3p6 3d10 4s2 4p6:
#   s = 4 x 2 + 1 = 9; p = 3 x 6 = 18; d = 10; f = 0; 9 + 18 + 10 = 37. vdW 303 pm; 85Rb 72 %.
# S, Z 16, [Ne] 3s2 3p4 with [Ne] = 1s2 2s2 2p6:
#   s = 2 + 2 + 2 = 6; p = 6 + 4 = 10; d = f = 0; 6 + 10 = 16. vdW 180 pm; 32S 95 %.
PINNED = {
    "La": (2.43, 57, 139, 12, 24, 21, 0),
    "Rb": (3.03, 37, 85, 9, 18, 10, 0),
    "S": (1.80, 16, 32, 6, 10, 0, 0),
}
# Valence-only: subshells written after the core: La 5d1 6s2, Rb 5s1, S 3s2 3p4.
PINNED_VALENCE = {"La": (2, 0, 1, 0), "Rb": (1, 0, 0, 0), "S": (2, 4, 0, 0)}


def test_feature_labels_are_stable():
    assert hd.FEATURE_LABELS == (
        "n_H",
        "vdw_radius",
        "Z",
        "mass_number",
        "n_s",
        "n_p",
        "n_d",
        "n_f",
    )


@pytest.mark.parametrize("element", sorted(PINNED))
def test_pinned_descriptors(element):
    features = hd.hydride_features(element, 6.0)
    assert features.shape == (8,)
    assert features[0] == 6.0
    assert features[1:] == pytest.approx(PINNED[element], abs=1e-12)


@pytest.mark.parametrize("element", sorted(PINNED_VALENCE))
def test_pinned_valence_only_counts(element):
    config = hd.HydrideDescriptorConfig(shells="valence")
    features = hd.hydride_features(element, 2.0, config)
    assert tuple(features[4:]) == PINNED_VALENCE[element]
    assert tuple(features[1:4]) == pytest.approx(PINNED[element][:3])


def test_matrix_matches_single_rows_and_broadcasts_n():
    elements = ["La", "Rb", "S", "Y", "Ca"]
    ns = [10.0, 12.0, 3.0, 9.0, 6.0]
    X, labels = hd.hydride_matrix(elements, ns)
    assert labels == hd.FEATURE_LABELS
    assert X.shape == (5, 8)
    for row, (e, n) in zip(X, zip(elements, ns, strict=True), strict=True):
        np.testing.assert_array_equal(row, hd.hydride_features(e, n))
    X3, _ = hd.hydride_matrix(elements, 3)
    assert (X3[:, 0] == 3).all()


def test_config_choices_change_and_are_recorded():
    alvarez = hd.HydrideDescriptorConfig(vdw_table="mendeleev.vdw_radius_alvarez")
    assert hd.hydride_features("La", 3, alvarez)[1] == pytest.approx(2.98)
    rounded = hd.HydrideDescriptorConfig(mass_number="rounded_atomic_mass")
    assert hd.hydride_features("Cu", 3, rounded)[3] == 64
    assert hd.hydride_features("Cu", 3)[3] == 63
    record = alvarez.as_dict()
    assert record["vdw_table"] == "mendeleev.vdw_radius_alvarez"
    assert record["shells"] == "all"
    assert record["vdw_source"]["library"] == "mendeleev"
    with pytest.raises(ValueError, match="van der Waals"):
        hd.HydrideDescriptorConfig(vdw_table="made-up")
    with pytest.raises(ValueError, match="shells"):
        hd.HydrideDescriptorConfig(shells="core")  # type: ignore[arg-type]


def test_missing_descriptor_names_element_and_property():
    with pytest.raises(ed.ElementDataError, match=r"Rf lacks vdw_radius") as info:
        hd.hydride_features("Rf", 4)
    assert info.value.properties == ("vdw_radius",)
    alvarez = hd.HydrideDescriptorConfig(vdw_table="mendeleev.vdw_radius_alvarez")
    with pytest.raises(ed.ElementDataError, match=r"Pm lacks vdw_radius.*Po lacks vdw_radius"):
        hd.hydride_matrix(["La", "Pm", "Po"], 3, alvarez)  # no fallback to another table
    assert hd.missing_descriptors("Pm", alvarez) == ["vdw_radius"]
    assert hd.missing_descriptors("Pm") == []


def test_bad_inputs_raise():
    with pytest.raises(ed.ElementDataError, match="Xx"):
        hd.hydride_features("Xx", 3)
    with pytest.raises(ValueError, match="positive"):
        hd.hydride_features("La", 0)
    with pytest.raises(ValueError, match="positive"):
        hd.hydride_matrix(["La", "Y"], [3, float("nan")])


def test_screenable_elements_have_complete_descriptors():
    elements = hd.screenable_elements()
    assert "H" not in elements and "H" in hd.screenable_elements(include_hydrogen=True)
    assert {"Li", "Rb", "Cs", "Sr", "La", "S", "Lr"} <= set(elements)
    assert not {"Rf", "Og"} & set(elements)  # no CRC van der Waals radius
    assert elements == [ed.symbols()[z - 1] for z in range(2, 104)]
    X, _ = hd.hydride_matrix(elements, 1)
    assert np.isfinite(X).all()
    alvarez = hd.HydrideDescriptorConfig(vdw_table="mendeleev.vdw_radius_alvarez")
    assert "Pm" not in hd.screenable_elements(alvarez)


def test_screening_grid_covers_n_1_to_31():
    X, rows, ns = hd.screening_grid()
    elements = hd.screenable_elements()
    assert X.shape == (31 * len(elements), 8)
    assert ns[:31].tolist() == list(range(1, 32))
    assert rows[:31] == [elements[0]] * 31
    np.testing.assert_array_equal(X[31 + 4], hd.hydride_features(elements[1], 5))
