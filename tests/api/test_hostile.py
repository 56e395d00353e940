"""Hostile requests to a live server: each is answered with an OPTIMADE error object or a
correct (often empty) page, never a 500 or a traceback, and nothing can write to the database,
which the server does not even keep open."""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlencode

import duckdb
import pytest
from optimade.models import EntryResponseMany, ErrorResponse

from tcdb.api.catalogue import load_catalogue
from tcdb.api.parameters import ApiParameters
from tests.api.conftest import fetch, start_server, structures_url

HOSTILE_FILTERS = [
    'chemical_formula_reduced = "H3S\' OR 1=1 --"',
    'chemical_formula_reduced = "x"; DROP TABLE structures; --',
    'id = "x\\" OR 1=1 OR id = \\""',
    "nelements = 1; COPY structures TO '/tmp/stolen.csv'",
    'id = "\')) UNION SELECT * FROM duckdb_settings() --"',
    "nelements = (SELECT 1)",
    "nelements = 1 OR 1=1",
    "ATTACH 'x.duckdb'",
    "SELECT * FROM structures",
    "nsites = 99999999999999999999999999999999999999999999999999",
    "nsites = -1e308 OR nsites > 1.7976931348623157e309",
    "nsites = 0x41",
    "(" * 100 + "nsites = 1" + ")" * 100,
    ")" * 50,
    '"' * 101,
    "\\",
    'id = "' + "A" * 9000 + '"',
    "nsites = 1 OR " * 800 + "nsites = 2",
    'chemical_formula_reduced = "超伝導 🧪 \u202e \u0000 \ud7ff"',
    'élements HAS "H"',
    "nelements\u00a0= 1",
    "_tcdb_tc_k > 77 AND _tcdb_tc_k < 78 AND NOT NOT NOT nelements = 2",
    "elements HAS ALL " + ",".join(f'"{n}"' for n in range(2000)),
    "lattice_vectors = 1",
    "%00",
]


# hostile in form, correct in meaning: 1=1 holds for every entry (a comparison of constants)
MATCH_SOME = {"nelements = 1 OR 1=1", HOSTILE_FILTERS[21]}


def _assert_optimade_document(answer, url: str) -> dict:
    assert answer.status != 500, url
    assert b"Traceback" not in answer.body
    assert answer.content_type.startswith("application/vnd.api+json"), url
    document = answer.json()
    assert "meta" in document and document["meta"]["api_version"]
    if answer.status == 200:
        assert "errors" not in document
        assert isinstance(document["data"], list | dict)
        if isinstance(document["data"], list):
            EntryResponseMany(**document)
    else:
        assert "data" not in document
        (error,) = document["errors"]
        assert error["status"] == str(answer.status) and error["detail"]
        ErrorResponse(**document)  # the optimade package's model of an error document
    return document


@pytest.mark.parametrize("filter_", HOSTILE_FILTERS, ids=range(len(HOSTILE_FILTERS)))
def test_a_hostile_filter_is_an_optimade_error_or_a_correct_page(live_server, filter_):
    url = structures_url(live_server, filter=filter_)
    answer = fetch(url)
    assert answer.status in (200, 400, 501), (filter_[:80], answer.status, answer.body[:300])
    document = _assert_optimade_document(answer, url)
    if answer.status == 200 and filter_ not in MATCH_SOME:
        assert document["data"] == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page_limit=100000", 403),
        ("page_limit=501", 403),
        ("page_limit=-1", 400),
        ("page_limit=abc", 400),
        ("page_limit=1e3", 400),
        ("page_offset=-5", 400),
        ("page_offset=99999999999999999999999", 400),
        ("page_number=0", 400),
        ("page_cursor=abc", 501),
        ("sort=lattice_vectors", 400),
        ("sort=no_such_field", 400),
        ("sort=-_tcdb_tc_k,nsites", 200),
        ("response_fields=nsites,no_such_field", 400),
        ("response_fields=nsites,_otherdb_x,chemical_formula_hill", 200),
        ("response_format=xml", 400),
        ("include=calculations", 400),
        ("filter=%FF%FE%00", 400),
        ("unknown_parameter=1", 200),
    ],
)
def test_paging_and_fields_out_of_bounds_are_optimade_errors(live_server, query, status):
    url = f"{live_server.v1}/structures?{query}"
    answer = fetch(url)
    assert answer.status == status, answer.body[:300]
    _assert_optimade_document(answer, url)


def test_an_offset_past_the_end_is_an_empty_page_with_the_count(live_server):
    document = fetch(f"{live_server.v1}/structures?page_offset=1000000").json()
    assert document["data"] == []
    assert document["meta"]["data_returned"] == live_server.catalogue.structures.count
    assert document["meta"]["more_data_available"] is False


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v2/info", 553),
        ("/v1.5/structures", 553),
        ("/v99999999999999999999/info", 553),
        ("/v1/versions", 404),
        ("/v1/nothing", 404),
        ("/v1/structures/no-such-id", 404),
        ("/v1/references/%00", 404),
        ("/v1/info/calculations", 404),
        ("/v1/structures/" + quote("x' OR '1'='1"), 404),
        ("/" + "a/" * 500, 404),
    ],
)
def test_wrong_paths_and_versions_are_optimade_errors(live_server, path, status):
    answer = fetch(live_server.url + path)
    assert answer.status == status
    _assert_optimade_document(answer, path)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_nothing_but_get_is_served(live_server, method):
    answer = fetch(f"{live_server.v1}/structures", method=method)
    assert answer.status == 405
    _assert_optimade_document(answer, method)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_server_holds_no_lock_and_writes_nothing(live_server, api_db):
    before = _sha256(api_db)
    for filter_ in HOSTILE_FILTERS[:8]:
        fetch(structures_url(live_server, filter=filter_))
    assert _sha256(api_db) == before
    # a writer gets the file while the server runs: the server read it once and let it go
    with duckdb.connect(str(api_db)) as writer:
        writer.execute("SELECT count(*) FROM crystal_structure").fetchone()
    answer = fetch(structures_url(live_server, filter="nsites > 0", page_limit=1))
    assert answer.status == 200


def test_the_in_memory_database_reaches_no_file(catalogue):
    cursor = catalogue.conn.cursor()
    with pytest.raises(duckdb.Error, match=r"disabled|locked"):
        cursor.execute("COPY structures TO '/tmp/tcdb-api-leak.csv'")
    with pytest.raises(duckdb.Error, match="locked"):
        cursor.execute("SET enable_external_access = true")


def test_a_request_past_the_time_limit_is_cancelled_with_an_optimade_error(catalogue):
    """A time limit too short for any request: the request is answered 503, as an error
    object, and the server goes on answering."""
    url, stop = start_server(catalogue, ApiParameters(query_timeout_s=1e-6))
    try:
        answer = fetch(f"{url}/v1/structures?{urlencode({'filter': 'nsites > 1'})}")
        assert answer.status == 503
        document = _assert_optimade_document(answer, url)
        assert "time limit" in document["errors"][0]["detail"]
        assert fetch(f"{url}/v1/info").status == 200
    finally:
        stop()


def test_a_runaway_statement_is_interrupted_by_duckdb(catalogue):
    """The watchdog cancels the statement itself, not only the answer: a query that would run
    for minutes ends at the deadline."""
    import time

    from tcdb.api.errors import ApiError
    from tcdb.api.queries import Deadline, Runner

    runner = Runner(catalogue)
    started = time.monotonic()
    with pytest.raises(ApiError) as cancelled:
        runner.rows("SELECT count(*) FROM range(10000000000) a", [], Deadline(0.3))
    assert cancelled.value.status == 503
    assert time.monotonic() - started < 5
    assert runner.rows("SELECT 1", [], Deadline(5)) == [(1,)]  # the cursor is usable again


def test_a_database_without_the_tables_is_one_sentence(migrated_template, tmp_path):
    from tcdb.api.catalogue import CatalogueError

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(CatalogueError, match="tcdb db upgrade"):
        load_catalogue(empty)
