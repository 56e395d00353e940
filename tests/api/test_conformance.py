"""The API as OPTIMADE's own tools see it: the official validator finds no failure, optional
tests included, and the ``optimade-get`` client retrieves by filter the rows ``tcdb sql``
finds in the database."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands import invoke_tcdb

ACTIVE = "s.status = 'active' AND s.retired_run_id IS NULL"

# A filter, and the query a user of tcdb sql would write for the same structures.
SAME_ROWS = [
    (
        'elements HAS ALL "La","H"',
        "SELECT s.id FROM crystal_structure s JOIN material m ON m.id = s.material_id "
        f"WHERE {ACTIVE} AND json_extract(m.composition_json, '$.La') IS NOT NULL "
        "AND json_extract(m.composition_json, '$.H') IS NOT NULL",
    ),
    (
        "nsites <= 4 AND _tcdb_pressure_gpa >= 200",
        f"SELECT s.id FROM crystal_structure s WHERE {ACTIVE} AND s.n_sites <= 4 "
        "AND s.pressure_GPa >= 200",
    ),
    (
        '_tcdb_tc_k > 30 AND _tcdb_tc_label_table = "nims_supercon"',
        "SELECT s.id FROM crystal_structure s JOIN composition_group g "
        "ON g.material_id = s.material_id AND g.label_table = 'nims_supercon' "
        "AND g.curation_run_id = (SELECT id FROM curation_run WHERE status = 'succeeded' "
        f"ORDER BY started_at DESC LIMIT 1) WHERE {ACTIVE} AND g.label_tc_K > 30",
    ),
]


def test_the_official_validator_finds_no_failure(live_server):
    from optimade.validator import ImplementationValidator

    random.seed(30)  # the validator picks the entries it builds filters from at random
    validator = ImplementationValidator(
        base_url=live_server.v1, run_optional_tests=True, respond_json=True
    )
    validator.validate_implementation()
    results = validator.results
    assert results.failure_count == 0, results.failure_messages
    assert results.internal_failure_count == 0, results.internal_failure_messages
    assert results.optional_failure_count == 0, results.optional_failure_messages
    assert results.success_count >= 60, results.success_count
    assert results.optional_success_count >= 10, results.optional_success_count
    assert validator.valid


def _sql_ids(db: Path, query: str) -> set[str]:
    result = invoke_tcdb("--db", str(db), "sql", query, "--format", "json")
    assert result.returncode == 0, result.stderr
    return {row["id"] for row in json.loads(result.stdout)}


def test_optimade_get_retrieves_the_rows_tcdb_sql_finds(live_server, api_db, tmp_path):
    client = Path(sys.executable).with_name("optimade-get")
    for number, (filter_, query) in enumerate(SAME_ROWS):
        output = tmp_path / f"found-{number}.json"
        options = ["--filter", filter_, "--silent", "--no-async", "--output-file", str(output)]
        done = subprocess.run(
            [str(client), *options, live_server.url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        answer = json.loads(output.read_text())["structures"][filter_][live_server.url]
        assert answer["errors"] == []
        found = {entry["id"] for entry in answer["data"]}
        expected = _sql_ids(api_db, query)
        assert expected, f"the session's database holds no structure for {filter_!r}"
        assert found == expected, filter_


@pytest.mark.parametrize("filter_", [pair[0] for pair in SAME_ROWS])
def test_paging_through_links_next_gives_every_row_once(live_server, filter_):
    from tests.api.conftest import fetch, structures_url

    url, seen, pages = structures_url(live_server, filter=filter_, page_limit=2), [], 0
    while url:
        answer = fetch(url).json()
        seen.extend(entry["id"] for entry in answer["data"])
        assert len(answer["data"]) <= 2
        url = answer["links"]["next"]
        pages += 1
        returned = answer["meta"]["data_returned"]
    assert len(seen) == len(set(seen)) == returned
    assert seen == sorted(seen)  # the default order: by id
    assert pages == max(1, -(-returned // 2))
