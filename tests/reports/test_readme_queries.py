"""Every `tcdb sql` query the README shows runs on a database holding every kind of prediction
and answers with the numbers the tables hold: each answer is compared, row by row and value
by value, with the same question answered again with pandas from the stored predictions
(``tests/reports/from_tables.py``), never through the views the queries read."""

from __future__ import annotations

import io
import math
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.commands import REPO, invoke_tcdb
from tests.reports import from_tables
from tests.reports.from_tables import rounded


def readme_queries() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[2] for line in lines if line.startswith('tcdb sql "')]


def _round_all(frame: pd.DataFrame, columns: dict[str, int]) -> pd.DataFrame:
    """``frame`` with each named column rounded as DuckDB's round(column, digits) does."""
    return frame.assign(**{c: frame[c].map(lambda v, d=d: rounded(v, d))
                           for c, d in columns.items()})  # fmt: skip


def best_per_element(db: Path) -> pd.DataFrame:
    best = from_tables.best_per_element(db)
    columns = ["model_run_id", "snapshot_id", "element", "Z", "n_h", "formula", "tc_K",
               "tc_std_K", "pressure_GPa", "pressure_std_GPa", "distance_to_ambient",
               "distance_std", "distance_upper", "in_domain", "domain_reason",
               "element_distance", "nearest_trained_element", "model"]  # fmt: skip
    return best[columns]


def structure_predictions(db: Path) -> pd.DataFrame:
    rows = from_tables.structure_predictions(db)[["name", "formula", "tc_K", "composition_tc_K"]]
    return rows.sort_values(["name", "formula", "tc_K"]).reset_index(drop=True)


def closest_in_domain(db: Path) -> pd.DataFrame:
    rows = from_tables.screened_hydrides(db)
    rows = rows[rows.in_domain.astype(bool)].sort_values(["distance_to_ambient", "formula"])
    rows = rows.rename(columns={"tc_std_K": "tc_sd_K", "pressure_GPa": "p_GPa",
                                "pressure_std_GPa": "p_sd_GPa", "distance_to_ambient": "D",
                                "distance_std": "D_sd"})  # fmt: skip
    columns = ["formula", "tc_K", "tc_sd_K", "p_GPa", "p_sd_GPa", "D", "D_sd"]
    return _round_all(rows[columns], dict.fromkeys(columns[1:], 0))


def most_disagreeing_structures(db: Path) -> pd.DataFrame:
    rows = from_tables.structure_predictions(db)
    rows = rows.assign(gap=rows.difference_K.abs()).sort_values("gap", ascending=False,
                                                                  na_position="last")  # fmt: skip
    rows = rows.rename(columns={"tc_K": "structure_K", "composition_tc_K":
                                         "composition_K"})  # fmt: skip
    columns = ["name", "formula", "structure_K", "composition_K", "difference_K"]
    return _round_all(rows[columns], dict.fromkeys(columns[2:], 0))


def three_best_morphs_per_family(db: Path) -> pd.DataFrame:
    groups = from_tables.morph_groups(db).sort_values(["family", "peak", "formula"],
                                                      ascending=[True, False, True])  # fmt: skip
    groups = groups.assign(rank=groups.groupby("family").cumcount() + 1)
    top = groups[groups["rank"] <= 3].rename(columns={"peak": "peak_K", "lowest": "lowest_K",
                                                      "a_peak": "a_at_peak_A"})  # fmt: skip
    columns = ["family", "rank", "formula", "peak_K", "lowest_K", "a_at_peak_A"]
    return _round_all(top[columns], {"peak_K": 0, "lowest_K": 0, "a_at_peak_A": 2})


def mgh13_highest_lowest(db: Path) -> pd.DataFrame:
    groups = from_tables.morph_groups(db)
    groups = groups[groups.family == "mgh13-xy"].sort_values("lowest", ascending=False)
    groups = groups.rename(columns={"lowest": "lowest_K", "peak": "peak_K"})
    columns = ["formula", "x_element", "y_element", "lowest_K", "peak_K"]
    return _round_all(groups[columns], {"lowest_K": 0, "peak_K": 0})


def worst_validation_structures(db: Path) -> pd.DataFrame:
    rows = from_tables.validation_structures(db)
    miss = (rows.tc_K - rows.label_tc_K).abs()
    rows = rows.assign(miss=miss).sort_values("miss", ascending=False)
    rows = rows.rename(columns={"tc_K": "predicted_K", "label_tc_K": "label_K"})
    return _round_all(rows[["formula", "predicted_K", "label_K"]],
                      {"predicted_K": 0, "label_K": 0})  # fmt: skip


# What makes each README query itself, and its whole answer (before any LIMIT) computed again;
# a query without one fails the test: every query the README shows is checked.
RECOMPUTED: dict[str, Callable[[Path], pd.DataFrame]] = {
    "FROM hydride_best_per_element LIMIT 10": best_per_element,
    "composition_tc_K FROM structure_prediction": structure_predictions,
    "FROM hydride_screening WHERE in_domain ORDER BY distance_to_ambient": closest_in_domain,
    "ORDER BY abs(structure_minus_composition_K)": most_disagreeing_structures,
    "FROM morph_top_candidates WHERE rank <= 3": three_best_morphs_per_family,
    "FROM morph_summary WHERE family = 'mgh13-xy' ORDER BY tc_lowest_K": mgh13_highest_lowest,
    "FROM latest_prediction WHERE model = 'cvcnn'": worst_validation_structures,
}
UNORDERED = {"composition_tc_K FROM structure_prediction": ["name", "formula", "tc_K"],
             "FROM morph_top_candidates WHERE rank <= 3": ["family", "rank"]}  # fmt: skip


def test_the_readme_shows_five_queries_over_predictions():
    queries = readme_queries()
    assert len(queries) >= 5
    views = ("hydride_screening", "structure_prediction", "morph_top_candidates",
             "morph_summary", "latest_prediction")  # fmt: skip
    for view in views:
        assert any(view in q for q in queries), view


def _assert_same_values(answered: pd.DataFrame, expected: pd.DataFrame, query: str) -> None:
    assert list(answered.columns) == list(expected.columns), query
    assert len(answered) == len(expected) > 0, query
    for got, want in zip(answered.itertuples(index=False), expected.itertuples(index=False),
                         strict=True):  # fmt: skip
        for column, a, b in zip(expected.columns, got, want, strict=True):
            if isinstance(b, float) or isinstance(a, float):
                both_missing = pd.isna(a) and pd.isna(b)
                assert both_missing or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (
                    query, column, got, want,
                )  # fmt: skip
            else:
                assert a == b, (query, column, got, want)


def _answer(db: Path, query: str) -> pd.DataFrame:
    result = invoke_tcdb("--db", str(db), "sql", query, "--format", "csv")
    assert result.returncode == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout), keep_default_na=False, na_values=[""])


def _in_order(frame: pd.DataFrame, marker: str) -> pd.DataFrame:
    """The rows in the query's order, or in a stated one where the query gives none."""
    if marker in UNORDERED:
        frame = frame.sort_values(UNORDERED[marker])
    return frame.reset_index(drop=True)


@pytest.mark.parametrize("query", readme_queries())
def test_each_readme_query_answers_what_the_tables_hold(report_db, query):
    """The query as the README shows it, and without its LIMIT: every row it ranks, so that
    a filter or an order that differs only below the first rows is caught too."""
    (marker,) = [m for m in RECOMPUTED if m in query]
    expected = _in_order(RECOMPUTED[marker](report_db), marker)
    limit = re.search(r" LIMIT (\d+)$", query)
    if limit:
        _assert_same_values(_answer(report_db, query), expected.head(int(limit[1])), query)
        query = query[: limit.start()]
    _assert_same_values(_in_order(_answer(report_db, query), marker), expected, query)
