"""Element fractions and Magpie-style statistics, checked by hand on known compositions."""

from __future__ import annotations

import numpy as np
import pytest

from tcdb.ml.composition_descriptors import (
    COMPOSITION_LABELS,
    HAMIDIEH81,
    PRESET_LABELS,
    RICH_PRESET,
    composition_matrix,
    preset_matrix,
)
from tcdb.ml.magpie_descriptors import FRACTION_LABELS, MAGPIE_LABELS


def column(batch, label: str) -> np.ndarray:
    return batch.X[:, batch.labels.index(label)]


def test_element_fractions_sum_to_one_and_sit_in_their_element_columns():
    batch = preset_matrix([{"Mg": 1, "B": 2}, {"La": 1.85, "Sr": 0.15, "Cu": 1, "O": 4}],
                          RICH_PRESET)  # fmt: skip
    fractions = batch.X[:, [batch.labels.index(label) for label in FRACTION_LABELS]]
    assert np.allclose(fractions.sum(axis=1), 1.0)
    assert column(batch, "frac_B")[0] == pytest.approx(2 / 3)
    assert column(batch, "frac_Mg")[0] == pytest.approx(1 / 3)
    assert column(batch, "frac_O")[1] == pytest.approx(4 / 7)
    assert column(batch, "frac_Fe")[0] == 0.0


def test_magpie_statistics_of_mgb2_by_hand():
    batch = preset_matrix([{"Mg": 1, "B": 2}], RICH_PRESET)
    mean_z = (12 + 2 * 5) / 3
    assert column(batch, "magpie_mean_Number")[0] == pytest.approx(mean_z)
    deviation = (abs(12 - mean_z) + 2 * abs(5 - mean_z)) / 3
    assert column(batch, "magpie_avg_dev_Number")[0] == pytest.approx(deviation)
    assert column(batch, "magpie_mean_Electronegativity")[0] == pytest.approx((1.31 + 2 * 2.04) / 3)
    assert column(batch, "magpie_mode_Number")[0] == 5  # boron is the most abundant
    assert column(batch, "magpie_range_Row")[0] == 1  # periods 2 and 3
    assert column(batch, "magpie_mean_NpValence")[0] == pytest.approx(2 / 3)  # B: 2s2 2p1
    assert column(batch, "magpie_maximum_NsUnfilled")[0] == 0  # both s shells are full
    assert column(batch, "magpie_mean_NpUnfilled")[0] == pytest.approx(2 * 5 / 3)


def test_the_rich_preset_keeps_the_81_first_and_names_every_column():
    compositions = [{"Mg": 1, "B": 2}, {"Xx": 1}, {"Nb": 3, "Sn": 1}]
    rich = preset_matrix(compositions, RICH_PRESET)
    plain = composition_matrix(compositions)
    assert rich.labels == COMPOSITION_LABELS + FRACTION_LABELS + MAGPIE_LABELS
    assert rich.X.shape == (3, len(PRESET_LABELS[RICH_PRESET]))
    assert np.array_equal(rich.X[:, :81], plain.X, equal_nan=True)
    assert list(rich.errors) == [1] and np.isnan(rich.X[1]).all()
    assert np.isfinite(rich.X[[0, 2]]).all()  # gaps are filled under the default imputation
    assert preset_matrix(compositions, HAMIDIEH81).X.shape == (3, 81)
    with pytest.raises(ValueError, match="unknown descriptor preset"):
        preset_matrix(compositions, "magpie-only")
