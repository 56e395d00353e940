"""The applicability domain of a hydride run: read off its own training points, it flags an n
beyond the trained range, an element far from every trained one and a high spread, and passes
a trained point."""

from __future__ import annotations

import numpy as np
import pytest

from tcdb.ml.hydride.descriptors import hydride_matrix, screenable_elements
from tcdb.ml.hydride.domain import check_counts, domain_of
from tcdb.ml.hydride.parameters import HydrideDomainParameters
from tcdb.ml.hydride.training import load
from tcdb.schema.database import connect
from tcdb.store.model_runs import verify_run


@pytest.fixture(scope="module")
def model(hydride_run):
    conn = connect(hydride_run.db, read_only=True)
    try:
        return load(verify_run(conn, hydride_run.run_id, "hydride-mlp"))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def domain(model):
    return domain_of(model.ensemble)


def trained_point(model):
    """The first training point: its element and n."""
    from tcdb.ml.element_data import symbols

    X = model.ensemble.X_train_
    return symbols()[int(X[0, 2]) - 1], float(X[0, 0])


def judge(model, domain, element, n, spread=(0.0, 0.0)):
    X, _ = hydride_matrix([element], [n], model.descriptors)
    return domain.assess([element], X, np.array([spread])).iloc[0]


def test_a_trained_point_with_a_small_spread_is_in_the_domain(model, domain):
    element, n = trained_point(model)
    verdict = judge(model, domain, element, n)
    assert verdict.in_domain and verdict.domain_reason is None
    assert verdict.element_distance == 0.0 and verdict.nearest_trained_element == element


def test_an_n_beyond_every_trained_n_is_flagged_with_the_range(model, domain):
    element, _ = trained_point(model)
    low, high = domain.n_range
    verdict = judge(model, domain, element, high + 7)
    assert not verdict.in_domain
    assert verdict.domain_reason == f"n {high + 7:g} outside the trained range {low:g}–{high:g}"


def test_an_element_far_from_every_trained_element_is_flagged_with_its_nearest(model, domain):
    elements = screenable_elements(model.descriptors)
    X, _ = hydride_matrix(elements, 2.0, model.descriptors)
    distance, nearest = domain.nearest(X)
    far = int(distance.argmax())
    assert distance[far] > domain.element_threshold
    verdict = judge(model, domain, elements[far], 2.0)
    assert not verdict.in_domain
    assert f"{elements[far]} is {distance[far]:.1f} from its nearest trained element " \
        f"{nearest[far]}" in verdict.domain_reason  # fmt: skip


def test_a_spread_above_the_training_quantile_is_flagged_for_each_target(model, domain):
    element, n = trained_point(model)
    wide = (2 * domain.tc_spread_threshold_K, 2 * domain.pressure_spread_threshold_GPa)
    verdict = judge(model, domain, element, n, spread=wide)
    assert not verdict.in_domain
    assert verdict.domain_reason.startswith("T_c spread") and "; P spread" in verdict.domain_reason
    counts = check_counts(domain.assess([element], hydride_matrix([element], [n])[0], [wide]))
    assert counts == {"n range": 0, "element distance": 0, "T_c spread": 1, "P spread": 1,
                      "noble gas": 0, "out of domain": 1}  # fmt: skip


def test_the_element_threshold_is_the_largest_leave_one_element_out_distance(model, domain):
    points = domain.trained_descriptors
    nearest_other = [
        min(np.linalg.norm(p - q) for j, q in enumerate(points) if j != i)
        for i, p in enumerate(points)
    ]
    assert domain.element_threshold == pytest.approx(max(nearest_other))
    median = domain_of(model.ensemble, HydrideDomainParameters(element_quantile=0.5))
    assert median.element_threshold == pytest.approx(np.median(nearest_other))


def test_the_spread_thresholds_are_the_quantile_of_the_training_spreads(model, domain):
    _, spread = model.ensemble.predict(model.ensemble.X_train_)
    above = (spread > [domain.tc_spread_threshold_K, domain.pressure_spread_threshold_GPa]).mean(0)
    assert np.all(above <= 0.05 + 1 / len(spread))
    assert domain.thresholds()["parameters"]["spread_quantile"] == 0.95


def test_the_domain_is_the_same_each_time_it_is_computed(model, domain):
    again = domain_of(model.ensemble)
    assert again.thresholds() == domain.thresholds()


def test_a_noble_gas_hydride_is_out_of_the_domain_when_none_was_trained(model, domain):
    """No training point is a noble-gas hydride (none of the literature's is), so every
    noble-gas EH_n is out, with the reason, even where n, the element distance and the spread
    would pass (ArH2 and XeH5 were in the network's top 20)."""
    noble = HydrideDomainParameters().noble_gases
    assert not set(noble) & set(domain.trained_elements)
    assert domain.untrained_noble_gases == noble
    for element, n in (("Ar", 2.0), ("Xe", 5.0)):
        verdict = judge(model, domain, element, n)
        assert not verdict.in_domain
        assert verdict.domain_reason.split("; ")[0] == (
            "noble gas: no noble-gas hydride among the training points"
        )
    assert domain.thresholds()["untrained_noble_gases"] == list(noble)
    assert "no noble gas" in domain.describe()
    switched_off = domain_of(model.ensemble, HydrideDomainParameters(noble_gases=()))
    assert switched_off.untrained_noble_gases == ()
    assert "noble gas" not in (judge(model, switched_off, "Ar", 2.0).domain_reason or "")
