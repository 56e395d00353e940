"""Screening every EH_n with a hydride run: each prediction stored with its domain verdict and
the spread of D, and views that rank in-domain rows apart from every row."""

from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import pytest

from tcdb.ml.hydride.descriptors import hydride_matrix, screenable_elements
from tcdb.ml.hydride.screening import parse_hydride, predict_formulas, screen
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
    extra = json.loads(
        rows(
            db, "SELECT extra_json FROM prediction WHERE subject_kind = 'hydride' LIMIT 1"
        ).extra_json[0]
    )
    assert extra["domain"] == json.loads(json.dumps(result.domain.thresholds()))


def verified(db, hydride_run):
    conn = connect(db)
    try:
        return verify_run(conn, hydride_run.run_id, "hydride-mlp")
    finally:
        conn.close()


def test_the_spread_of_d_is_the_spread_of_each_members_own_d(screened, hydride_run):
    run = verified(screened[0], hydride_run)
    predicted = predict_formulas(None, run, ["LaH10"]).frame.iloc[0]
    members = load(run).ensemble.predict_members(hydride_matrix(["La"], [10.0])[0])[:, 0]
    own_d = np.abs(members[:, 1]) + np.abs(members[:, 0] - 293)
    assert predicted.distance_to_ambient == pytest.approx(
        abs(members[:, 1].mean()) + abs(members[:, 0].mean() - 293)
    )
    assert predicted.distance_std == pytest.approx(own_d.std())
    assert predicted.distance_upper == pytest.approx(predicted.distance_to_ambient + own_d.std())


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
    assert len(decile) == pytest.approx(0.1 * len(inside), abs=2)
    assert decile.distance_to_ambient.max() <= inside.distance_to_ambient.quantile(0.11)
    decile_all = rows(db, "SELECT * FROM hydride_closest_decile_all")
    assert len(decile_all) == pytest.approx(0.1 * len(grid), abs=2)


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
                     "distance_std = NULL WHERE subject_kind = 'hydride'")  # fmt: skip
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
