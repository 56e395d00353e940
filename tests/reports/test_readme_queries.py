"""Every `tcdb sql` query the README shows runs on a database holding every kind of prediction
and answers with rows."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.commands import REPO, invoke_tcdb


def readme_queries() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[2] for line in lines if line.startswith('tcdb sql "')]


def test_the_readme_shows_five_queries_over_predictions():
    queries = readme_queries()
    assert len(queries) >= 5
    views = ("hydride_screening", "structure_prediction", "morph_top_candidates",
             "morph_summary", "latest_prediction")  # fmt: skip
    for view in views:
        assert any(view in q for q in queries), view


@pytest.mark.parametrize("query", readme_queries())
def test_each_readme_query_answers(report_db, query):
    result = invoke_tcdb("--db", str(report_db), "sql", query, "--format", "csv")
    assert result.returncode == 0, result.stderr
    _header, *rows = result.stdout.strip().splitlines()
    assert rows, f"no rows for: {query}"
