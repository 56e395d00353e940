"""Composition groups: population variance, censored observations and the three policies."""

from __future__ import annotations

import pandas as pd
import pytest

from tcdb.curate.groups import group_measurements, label_groups, unlabelled_groups


def measurements(*rows):
    return pd.DataFrame(rows, columns=["material_id", "tc_kind", "tc_K"])


def test_mean_and_population_variance_as_in_table_one():
    groups = group_measurements(measurements(("a", "value", 26.0), ("a", "value", 27.0)))
    row = groups.iloc[0]
    assert row.tc_mean_K == 26.5
    assert row.tc_variance_K2 == pytest.approx(0.25)  # ddof = 0, not the sample variance 0.5


def test_not_superconducting_is_counted_but_never_averaged():
    groups = group_measurements(
        measurements(
            ("a", "value", 10.0), ("a", "value", 12.0), ("a", "not_superconducting", None),
            ("b", "not_superconducting", None),
        )
    )  # fmt: skip
    a = groups.set_index("material_id").loc["a"]
    assert (a.n_measurements, a.n_values, a.n_not_superconducting) == (3, 2, 1)
    assert a.tc_mean_K == 11.0
    assert list(unlabelled_groups(groups)["material_id"]) == ["b"]
    assert "b" not in set(label_groups(groups, 2.0, "average")["material_id"])


@pytest.fixture
def two_groups():
    return group_measurements(
        measurements(
            ("calm", "value", 10.0), ("calm", "value", 11.0),  # σ² = 0.25
            ("wild", "value", 10.0), ("wild", "value", 20.0), ("wild", "value", 30.0),
        )
    )  # fmt: skip


def test_average_policy_labels_every_group_with_its_mean(two_groups):
    labels = label_groups(two_groups, 2.0, "average")
    assert dict(zip(labels.material_id, labels.label_tc_K, strict=True)) == {
        "calm": 10.5,
        "wild": 20.0,
    }
    assert labels.set_index("material_id").loc["wild"].high_variance


def test_exclude_policy_drops_high_variance_groups(two_groups):
    labels = label_groups(two_groups, 2.0, "exclude")
    assert list(labels.material_id) == ["calm"]


def test_keep_all_policy_gives_each_measurement_of_a_wild_group_its_own_label(two_groups):
    labels = label_groups(two_groups, 2.0, "keep-all")
    wild = labels[labels.material_id == "wild"]
    assert sorted(wild.label_tc_K) == [10.0, 20.0, 30.0]
    assert set(wild.label_kind) == {"measurement"}
    assert list(labels[labels.material_id == "calm"].label_tc_K) == [10.5]


def test_a_variance_equal_to_the_cutoff_is_high(two_groups):
    labels = label_groups(two_groups, 0.25, "exclude")
    assert labels.empty


def test_an_unknown_policy_is_refused(two_groups):
    with pytest.raises(ValueError, match="unknown high-variance policy"):
        label_groups(two_groups, 2.0, "median")
