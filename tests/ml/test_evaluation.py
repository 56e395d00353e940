"""The metrics every model reports and the split protocols they are computed on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tcdb.ml import evaluation, metrics


def test_metrics_agree_with_scikit_learn_and_name_their_unit():
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    rng = np.random.default_rng(3)
    y = rng.normal(30, 20, size=500)
    predicted = y + rng.normal(0, 5, size=500)
    m = metrics.regression(y, predicted)
    assert set(m) == {"rmse_K", "mae_K", "r2", "n"} and m["n"] == 500
    assert m["rmse_K"] == pytest.approx(np.sqrt(mean_squared_error(y, predicted)), rel=1e-12)
    assert m["mae_K"] == pytest.approx(mean_absolute_error(y, predicted), rel=1e-12)
    assert m["r2"] == pytest.approx(r2_score(y, predicted), rel=1e-12)


def test_rows_with_a_missing_value_are_left_out_and_counted():
    m = metrics.regression([1.0, 2.0, 3.0, 4.0], [1.0, 4.0, np.nan, 4.0])
    assert m["n"] == 3
    assert m["rmse_K"] == pytest.approx(np.sqrt(4 / 3))
    assert m["r2"] == pytest.approx(1 - 4 / (14 / 3))
    empty = metrics.regression([1.0], [np.nan])
    assert empty["n"] == 0 and math.isnan(empty["rmse_K"])
    flat = metrics.regression([5.0, 5.0], [4.0, 6.0])
    assert math.isnan(flat["r2"]) and flat["mae_K"] == 1.0  # R² undefined without spread
    with pytest.raises(ValueError, match="3 true values but 2"):
        metrics.regression([1, 2, 3], [1, 2])


def test_several_targets_are_scored_over_the_same_rows():
    y = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    predicted = np.array([[1.0, np.nan], [2.5, 20.0], [3.0, 33.0]])
    m = metrics.regression_targets(y, predicted, ("tc", "pressure"))
    assert m["n"] == 2  # the first row lacks a pressure, so it counts for neither target
    assert m["tc_rmse"] == pytest.approx(np.sqrt(0.25 / 2))
    assert m["pressure_mae"] == pytest.approx(1.5)


def test_a_random_split_is_seeded_disjoint_and_complete():
    protocol = evaluation.RandomSplit(validation_fraction=0.2, seed=4)
    ((train, test),) = protocol.splits(50)
    assert len(test) == 10 and not set(train) & set(test)
    assert sorted([*train, *test]) == list(range(50))
    np.testing.assert_array_equal(test, protocol.splits(50)[0][1])
    assert not np.array_equal(test, evaluation.RandomSplit(0.2, seed=5).splits(50)[0][1])


def test_repeated_random_splits_each_hold_out_the_same_share():
    protocol = evaluation.RepeatedRandomSplits(repeats=8, validation_fraction=0.25, seed=1)
    masks = protocol.masks(40)
    assert masks.shape == (8, 40) and (masks.sum(axis=1) == 10).all()
    for (train, test), held in zip(protocol.splits(40), masks, strict=True):
        np.testing.assert_array_equal(test, np.flatnonzero(held))
        assert len(train) + len(test) == 40


def test_grouped_folds_never_share_a_composition_and_test_every_row():
    groups = np.repeat([f"mat-{i}" for i in range(30)], 3)
    splits = evaluation.GroupedByComposition(folds=5, seed=0).splits(len(groups), groups=groups)
    assert len(splits) == 5
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    assert sorted(np.concatenate([test for _, test in splits])) == list(range(len(groups)))
    with pytest.raises(evaluation.EvaluationError, match="2 compositions cannot fill 5 folds"):
        evaluation.GroupedByComposition(folds=5).splits(4, groups=np.array(["a", "a", "b", "b"]))


def test_a_split_by_time_trains_on_the_past_and_tests_on_the_later_years():
    years = np.array([1990, 2001, 1995, 2010, 2000, 2020])
    ((train, test),) = evaluation.ByTime(last_training_year=2000).splits(6, years=years)
    assert list(train) == [0, 2, 4] and list(test) == [1, 3, 5]
    assert years[train].max() <= 2000 < years[test].min()  # no later row in training
    with pytest.raises(evaluation.EvaluationError, match="leaves 6 rows to train on and 0"):
        evaluation.ByTime(last_training_year=2030).splits(6, years=years)
    assert evaluation.ByTime().last_training_year == 2007


def test_rows_without_a_year_are_on_neither_side_and_counted():
    years = np.array([1990, np.nan, 2005, 2012, np.nan])
    protocol = evaluation.ByTime(2007)
    ((train, test),) = protocol.splits(5, years=years)
    assert list(train) == [0, 2] and list(test) == [3]
    assert protocol.describe(years) == {"protocol": "by-time", "last_training_year": 2007,
                                        "n_train": 2, "n_test": 1, "n_without_year": 2}  # fmt: skip
    with pytest.raises(evaluation.EvaluationError, match="2 rows without a year"):
        evaluation.ByTime(2020).splits(5, years=years)


def test_folds_grouped_by_chemical_system_never_share_an_element_set():
    systems = np.array(["Cu-La-O", "Cu-La-O-Sr", "Fe-Se", "B-Mg", "Nb-Sn"] * 6)
    protocol = evaluation.GroupedByChemicalSystem(folds=5, seed=0)
    splits = protocol.splits(len(systems), groups=systems)
    for train, test in splits:
        assert not set(systems[train]) & set(systems[test])
    assert sorted(np.concatenate([test for _, test in splits])) == list(range(len(systems)))
    assert protocol.describe(systems)["n_systems"] == 5
    with pytest.raises(evaluation.EvaluationError, match="2 chemical systems cannot fill 5"):
        protocol.splits(4, groups=np.array(["Fe-Se", "Fe-Se", "B-Mg", "B-Mg"]))


def test_family_scores_count_later_members_found_above_20_K():
    families = np.array(["iron-based", "iron-based", "iron-based", "cuprate", "other"])
    y = np.array([26.0, 55.0, 8.0, 90.0, 4.0])
    predicted = np.array([30.0, 12.0, 25.0, 80.0, 5.0])
    table = {row["family"]: row for row in evaluation.family_scores(
        families, y, predicted, rows=np.array([0, 1, 2, 4]))}  # fmt: skip
    iron = table["iron-based"]
    assert (iron["n"], iron["n_true_above"], iron["n_predicted_above"], iron["n_found"]) == (
        3, 2, 2, 1)  # fmt: skip
    assert iron["mae_K"] == pytest.approx((4 + 43 + 17) / 3)
    assert table["cuprate"]["n"] == 0  # row 3 is not among the later rows
    assert set(table) == {"cuprate", "iron-based", "MgB2-type boride", "hydride", "other"}


def test_rows_without_a_year_column_say_so():
    with pytest.raises(evaluation.EvaluationError, match="snapshot abc has no 'year' column"):
        evaluation.years_of(pd.DataFrame({"label_tc_K": [1.0]}), "snapshot abc")
    years = evaluation.years_of(pd.DataFrame({"year": [1999, 2004]}), "snapshot abc")
    assert list(years) == [1999.0, 2004.0]


def test_out_of_fold_predictions_come_from_models_that_never_saw_the_row():
    X = np.arange(12, dtype=float).reshape(-1, 1)
    y = np.arange(12, dtype=float)
    groups = np.repeat(["a", "b", "c", "d"], 3)
    splits = evaluation.GroupedByComposition(folds=4).splits(12, groups=groups)
    oof = evaluation.out_of_fold(lambda X_fit, y_fit, X_test: np.full(len(X_test), y_fit.mean()),
                                 X, y, splits)  # fmt: skip
    for _, test in splits:
        others = np.setdiff1d(np.arange(12), test)
        assert (oof[test] == y[others].mean()).all()


def test_every_score_carries_its_protocol_and_n():
    protocol = evaluation.GroupedByComposition(folds=10, seed=0)
    scored = evaluation.score(protocol, np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.5, 3.0]))
    assert scored["protocol"] == "grouped-by-composition" and scored["folds"] == 10
    assert scored["n"] == 3 and "rmse_K" in scored
    both = evaluation.score_targets(
        evaluation.RepeatedRandomSplits(4), np.ones((3, 2)), np.ones((3, 2)), ("tc", "pressure")
    )
    assert both["protocol"] == "random-repeated" and both["splits"] == 4 and both["n"] == 3
    assert set(evaluation.PROTOCOLS) == {"random", "random-repeated", "random-folds",
                                         "in-sample", "grouped-by-composition",
                                         "grouped-by-chemical-system", "by-time",
                                         "paper", "grouped", "grouped-by-system"}  # fmt: skip


def test_random_folds_test_every_row_once_and_in_sample_scores_the_rows_it_fitted():
    splits = evaluation.RandomFolds(folds=4, seed=2).splits(22)
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested) == list(range(22))
    assert all(not set(train) & set(test) for train, test in splits)
    assert (
        evaluation.RandomFolds(folds=4, seed=2).splits(22)[0][1].tolist() == splits[0][1].tolist()
    )
    [(train, test)] = evaluation.InSample().splits(5)
    assert train.tolist() == test.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(evaluation.EvaluationError, match="cannot fill"):
        evaluation.RandomFolds(folds=5).splits(3)


def formulas(n_formulas: int = 40, seed: int = 3) -> np.ndarray:
    """Rows of 40 formulas, each with one to five polymorphs."""
    counts = np.random.default_rng(seed).integers(1, 6, size=n_formulas)
    return np.repeat([f"A{i}B" for i in range(n_formulas)], counts)


def test_grouped_parts_keep_each_formula_in_one_part_and_cover_every_row():
    groups = formulas()
    parts = evaluation.GroupedSplit(test_fraction=0.2, validation_fraction=0.2, seed=1).parts(
        len(groups), groups
    )
    named = {"train": parts.train, "validation": parts.validation, "test": parts.test}
    held = {name: set(groups[rows]) for name, rows in named.items()}
    assert not held["train"] & held["validation"] and not held["train"] & held["test"]
    assert not held["validation"] & held["test"]
    assert sorted(np.concatenate(list(named.values()))) == list(range(len(groups)))
    # fractions count formulas: 20 % of 40 tested, 20 % of the other 32 validate
    assert (len(held["test"]), len(held["validation"]), len(held["train"])) == (8, 6, 26)


def test_grouped_parts_are_seeded():
    groups = formulas()
    first = evaluation.GroupedSplit(seed=7).parts(len(groups), groups)
    again = evaluation.GroupedSplit(seed=7).parts(len(groups), groups)
    other = evaluation.GroupedSplit(seed=8).parts(len(groups), groups)
    np.testing.assert_array_equal(first.test, again.test)
    np.testing.assert_array_equal(first.validation, again.validation)
    assert not np.array_equal(first.test, other.test)


def test_grouped_parts_need_three_formulas_and_a_formula_per_row():
    with pytest.raises(evaluation.EvaluationError, match="at least 3"):
        evaluation.GroupedSplit().parts(4, np.array(["A", "A", "B", "B"]))
    with pytest.raises(evaluation.EvaluationError, match="reduced formula"):
        evaluation.GroupedSplit().parts(4)
    with pytest.raises(evaluation.EvaluationError, match="between 0 and 1"):
        evaluation.GroupedSplit(test_fraction=1.0)


def test_the_paper_protocol_is_the_seeded_random_split_the_structural_model_always_used():
    for n, seed in ((2320, 0), (50, 3)):
        parts = evaluation.PaperSplit(0.2, seed).parts(n, formulas()[:n])
        train, validation = evaluation.RandomSplit(0.2, seed).splits(n)[0]
        np.testing.assert_array_equal(parts.validation, validation)
        np.testing.assert_array_equal(parts.train, train)
        assert parts.test is None and parts.scored == "validation"


def test_part_protocols_describe_every_setting_and_the_size_of_each_part():
    groups = formulas()
    grouped = evaluation.GroupedSplit(0.25, 0.1, seed=2)
    parts = grouped.parts(len(groups), groups)
    described = grouped.describe(parts)
    assert {k: described[k] for k in ("protocol", "test_fraction", "validation_fraction",
                                      "seed", "grouped_by", "optimistic")} == {
        "protocol": "grouped", "test_fraction": 0.25, "validation_fraction": 0.1, "seed": 2,
        "grouped_by": "reduced formula", "optimistic": False}  # fmt: skip
    assert (described["n_train"], described["n_validation"], described["n_test"]) == (
        len(parts.train), len(parts.validation), len(parts.test))  # fmt: skip
    paper = evaluation.PaperSplit(0.2, 0)
    described = paper.describe(paper.parts(30))
    assert described["optimistic"] and "optimistic" in described["description"]
    assert (described["n_train"], described["n_validation"]) == (24, 6)
    assert "n_test" not in described
    assert {"paper", "grouped"} <= set(evaluation.PROTOCOLS)


def test_a_part_is_scored_on_its_own_rows_with_its_protocol():
    groups = formulas()
    protocol = evaluation.GroupedSplit(seed=0)
    parts = protocol.parts(len(groups), groups)
    y = np.arange(len(groups), dtype=float)
    scored = evaluation.score_part(protocol, parts, "test", y, y[parts.test] + 1.0)
    assert scored["part"] == "test" and scored["n"] == len(parts.test) == scored["n_test"]
    assert scored["rmse_K"] == pytest.approx(1.0) and scored["protocol"] == "grouped"
    with pytest.raises(evaluation.EvaluationError, match="Unknown protocol"):
        evaluation.part_protocol("random", 0.2, 0.2, 0)


def test_by_time_parts_test_the_later_years_and_validate_on_the_latest_earlier_ones():
    groups = formulas()
    years = np.random.default_rng(4).integers(1990, 2015, size=len(groups)).astype(float)
    years[:3] = np.nan
    parts = evaluation.ByTimeSplit(2007, 0.2, seed=1).parts(len(groups), groups, years=years)
    assert (years[parts.test] > 2007).all() and len(parts.test) == (years > 2007).sum()
    earlier = np.concatenate([parts.train, parts.validation])
    assert (years[earlier] <= 2007).all()
    assert not set(groups[parts.train]) & set(groups[parts.validation])
    # a step forward in time: every validation formula first appeared after every training
    # one, and the validation part is the fewest latest years that hold 20 % of the rows
    first = {g: np.nanmin(years[earlier][groups[earlier] == g]) for g in set(groups[earlier])}
    trained = max(first[g] for g in groups[parts.train])
    validated = min(first[g] for g in groups[parts.validation])
    assert trained < validated
    assert len(parts.validation) >= 0.2 * len(earlier)
    assert sum(first[g] > validated for g in groups[earlier]) < 0.2 * len(earlier)
    assert not {0, 1, 2} & set(np.concatenate([earlier, parts.test]))  # no year: in no part
    described = evaluation.ByTimeSplit(2007).describe(parts, years)
    assert (described["protocol"], described["scored_part"]) == ("by-time", "test")
    assert described["n_without_year"] == 3 and described["n_test"] == len(parts.test)
    with pytest.raises(evaluation.EvaluationError, match="rows to train on"):
        evaluation.ByTimeSplit(1900).parts(len(groups), groups, years=years)


def test_parts_grouped_by_system_keep_every_element_set_in_one_part():
    systems = np.repeat([f"A{i}-B" for i in range(30)], 3)
    parts = evaluation.part_protocol("grouped-by-system", 0.2, 0.2, 0).parts(len(systems), systems)
    held = {name: set(systems[parts.rows(name)]) for name in ("train", "validation", "test")}
    assert not held["train"] & held["test"] and not held["validation"] & held["test"]
    assert not held["train"] & held["validation"] and len(held["test"]) == 6
    assert evaluation.part_protocol("grouped-by-system", 0.2, 0.2, 0).describe()["grouped_by"] == (
        "chemical system"
    )
    with pytest.raises(evaluation.EvaluationError, match="by-time"):
        evaluation.part_protocol("random-folds", 0.2, 0.2, 0)
