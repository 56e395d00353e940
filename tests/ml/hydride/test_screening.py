"""Screening every EH_n with a hydride run: each model's prediction stored with its domain
verdict, the spread of D and the model that made it; views that rank with the model the run
chose, in-domain rows apart from every row, and keep the network's rows beside."""

from __future__ import annotations

import json
import math
import shutil

import duckdb
import numpy as np
import pytest

from tcdb.ml.hydride.descriptors import hydride_matrix, screenable_elements
from tcdb.ml.hydride.domain import NOBLE_GAS_REASON
from tcdb.ml.hydride.screening import SCREEN_KINDS, parse_hydride, predict_formulas, screen
from tcdb.ml.hydride.training import load
from tcdb.schema.database import connect
from tcdb.store.model_runs import verify_run


@pytest.fixture(scope="module")
def screened(hydride_run, tmp_path_factory):
    """The smoke run's screen, stored in a copy of its database."""
    db = hydride_run.copy_to(tmp_path_factory.mktemp("screen"))
    conn = connect(db)
    try:
        result = screen(conn, verify_run(conn, hydride_run.run_id, "hydride-mlp"))
    finally:
        conn.close()
    return db, result


def rows(db, sql):
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).df()


def test_every_eh_n_is_stored_with_its_verdict_d_and_the_spread_of_d(screened):
    db, result = screened
    grid = rows(db, "SELECT * FROM hydride_screening")
    assert len(grid) == len(result.frame) == 31 * len(screenable_elements())
    assert grid.in_domain.notna().all()
    assert (grid.domain_reason.isna() == grid.in_domain).all()
    assert np.allclose(grid.distance_to_ambient, grid.pressure_GPa.abs() + (grid.tc_K - 293).abs())
    assert np.allclose(grid.distance_upper, grid.distance_to_ambient + grid.distance_std)
    assert (grid.distance_std > 0).all()
    beyond = grid[grid.n_h > result.domain.n_range[1]]
    assert len(beyond) and not beyond.in_domain.any()
    assert beyond.domain_reason.str.contains("outside the trained range").all()
    kind = SCREEN_KINDS[result.model]
    extra = json.loads(
        rows(
            db, f"SELECT extra_json FROM prediction WHERE subject_kind = '{kind}' LIMIT 1"
        ).extra_json[0]
    )
    assert extra["domain"] == json.loads(json.dumps(result.domain.thresholds()))


def test_every_row_names_its_model_and_the_views_rank_with_the_runs_choice(screened):
    """Both models' rows are stored, each naming its model and the run's choice; the view
    hydride_screening holds the chosen model's, hydride_screening_network the network's."""
    db, result = screened
    assert result.stored == ("network", "forest") and result.model == result.chosen
    stored = rows(db, "SELECT subject_kind, extra_json FROM prediction "
                      "WHERE subject_kind IN ('hydride', 'hydride_forest')")  # fmt: skip
    extra = stored.extra_json.map(json.loads)
    assert (extra.map(lambda e: e["model"]) == stored.subject_kind.map(
        {"hydride": "network", "hydride_forest": "forest"})).all()  # fmt: skip
    assert set(extra.map(lambda e: e["chosen_model"])) == {result.chosen}
    assert (stored.subject_kind.value_counts() == len(result.frame)).all()
    grid = rows(db, "SELECT * FROM hydride_screening")
    assert set(grid.model) == {result.chosen}
    network = rows(db, "SELECT * FROM hydride_screening_network")
    assert len(network) == len(grid) and set(network.model) == {"network"}
    assert set(network.formula) == set(grid.formula)
    if result.chosen == "forest":
        assert not np.allclose(network.sort_values("formula").tc_K,
                               grid.sort_values("formula").tc_K)  # fmt: skip


def test_noble_gas_hydrides_are_flagged_and_never_ranked_by_default(screened):
    db, result = screened
    grid = rows(db, "SELECT * FROM hydride_screening")
    noble = grid[grid.element.isin(["He", "Ne", "Ar", "Kr", "Xe", "Rn"])]
    assert len(noble) == 6 * 31 and not noble.in_domain.any()
    assert noble.domain_reason.str.startswith(NOBLE_GAS_REASON).all()
    assert result.counts()["noble gas"] == len(noble)
    for view in ("hydride_best_per_element", "hydride_closest_decile"):
        ranked = rows(db, f"SELECT * FROM {view}")
        assert len(ranked) and ranked.in_domain.all(), view
        assert not ranked.element.isin(noble.element).any(), view
    every = rows(db, "SELECT * FROM hydride_best_per_element_all")
    assert set(noble.element) <= set(every.element)  # still shown, with the flag
    best = result.best_per_element()
    view = rows(db, "SELECT * FROM hydride_best_per_element")
    assert best.formula.tolist() == view.formula.tolist()  # equal D (a forest's steps) by element
    assert best.in_domain.all()


def verified(db, hydride_run):
    conn = connect(db)
    try:
        return verify_run(conn, hydride_run.run_id, "hydride-mlp")
    finally:
        conn.close()


def test_the_spread_of_d_is_the_spread_of_each_members_own_d(screened, hydride_run):
    run = verified(screened[0], hydride_run)
    model = load(run)
    X = hydride_matrix(["La"], [10.0])[0]
    for which, members in (("network", model.ensemble.predict_members(X)[:, 0]),
                           ("forest", model.forest.predict_trees(X)[:, 0])):  # fmt: skip
        predicted = predict_formulas(None, run, ["LaH10"], model=which).frame.iloc[0]
        assert predicted.model == which
        own_d = np.abs(members[:, 1]) + np.abs(members[:, 0] - 293)
        assert predicted.distance_to_ambient == pytest.approx(
            abs(members[:, 1].mean()) + abs(members[:, 0].mean() - 293)
        )
        assert predicted.distance_std == pytest.approx(own_d.std())
        assert predicted.distance_upper == pytest.approx(
            predicted.distance_to_ambient + own_d.std()
        )


def test_the_ranking_views_take_in_domain_rows_and_their_all_views_every_row(screened):
    db, _ = screened
    grid = rows(db, "SELECT * FROM hydride_screening")
    inside = grid[grid.in_domain]
    assert 0 < len(inside) < len(grid)
    best = rows(db, "SELECT * FROM hydride_best_per_element")
    assert best.in_domain.all()
    assert set(best.element) == set(inside.element)
    assert dict(zip(best.element, best.distance_to_ambient, strict=True)) == pytest.approx(
        inside.groupby("element").distance_to_ambient.min().to_dict()
    )
    best_all = rows(db, "SELECT * FROM hydride_best_per_element_all")
    assert set(best_all.element) == set(grid.element)
    decile = rows(db, "SELECT * FROM hydride_closest_decile")
    assert decile.in_domain.all()
    # the tenth lowest D and every row up to it: more than a tenth where D ties at the bound
    # (a forest's predictions are piecewise constant)
    assert len(decile) == (inside.distance_to_ambient <= tenth(inside)).sum()
    assert len(decile) >= 0.1 * len(inside) - 1
    decile_all = rows(db, "SELECT * FROM hydride_closest_decile_all")
    assert len(decile_all) == (grid.distance_to_ambient <= tenth(grid)).sum()


def tenth(frame) -> float:
    """The lowest tenth's bound of D (the value at rank ceil(n / 10), counting from 1)."""
    return frame.distance_to_ambient.sort_values().iloc[math.ceil(0.1 * len(frame)) - 1]


def test_screening_the_same_run_again_keeps_one_row_per_eh_n_and_fills_older_rows(
    screened, hydride_run, tmp_path
):
    """A run screened before the domain existed (its rows without a verdict) gains the verdict
    when screened again; nothing is added twice."""
    db, result = screened
    older = tmp_path / "older.duckdb"
    shutil.copy(db, older)
    conn = connect(older)
    try:
        conn.execute("UPDATE prediction SET in_domain = NULL, domain_reason = NULL, "
                     "distance_std = NULL "
                     "WHERE subject_kind IN ('hydride', 'hydride_forest')")  # fmt: skip
        screen(conn, verify_run(conn, hydride_run.run_id, "hydride-mlp"))
    finally:
        conn.close()
    again = rows(older, "SELECT * FROM hydride_screening")
    assert len(again) == len(result.frame)
    assert again.in_domain.notna().all() and again.distance_std.notna().all()
    assert again.in_domain.sum() == result.frame.in_domain.sum()


@pytest.mark.parametrize(
    ("formula", "element", "n"),
    [("LaH10", "La", 10.0), ("La4H23", "La", 5.75), ("H6Ca", "Ca", 6.0)],
)
def test_a_binary_hydride_formula_gives_its_element_and_n(formula, element, n):
    assert parse_hydride(formula) == (element, pytest.approx(n))


@pytest.mark.parametrize(
    ("formula", "says"),
    [("NaCl", "exactly one other element"), ("Xx2H", "no element Xx"), ("H2", "it has H."),
     ("LaYH6", "it has H, La, Y"), ("", "not a formula")],
)  # fmt: skip
def test_anything_else_is_refused_with_the_formula_named(formula, says):
    from tcdb.core.errors import TcdbError

    with pytest.raises(TcdbError) as refused:
        parse_hydride(formula)
    assert repr(formula) in str(refused.value) and says in str(refused.value)
