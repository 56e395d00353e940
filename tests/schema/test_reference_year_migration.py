"""Migration 0009 gives every stored NIMS record the year of its reference, without re-ingest."""

from __future__ import annotations

import duckdb

from tcdb.schema import migrate
from tests.conftest import query

JOURNALS = {
    "r1": ("Jpn.J.Appl.Phys., 26(1987)L223", 1987),
    "r2": ("Journal of Physics:Conf. Series 1590(2020)012007", 2020),
    "r3": ("cond-mat/0807.2223", 2008),
    "r4": ("Unpublished results", None),
    "r5": (None, None),
    "r6": ("Jpn.J.Appl.Phys., 26(1987)L223", 1987),  # a second record of the same reference
}


def test_upgrading_back_fills_the_year_of_every_stored_record(db_path):
    migrate.upgrade(db_path, "0008")
    with duckdb.connect(str(db_path)) as conn:
        for line, (record, (journal, _)) in enumerate(JOURNALS.items(), start=4):
            conn.execute(
                "INSERT INTO raw_nims_supercon (id, source_id, ingest_run_id, line_number, "
                "element, journal) VALUES (?, 'nims_supercon', 'run-1', ?, 'Nb3Sn', ?)",
                [record, line, journal],
            )
    migrate.upgrade(db_path)
    stored = dict(query(db_path, "SELECT id, reference_year FROM raw_nims_supercon"))
    assert stored == {record: year for record, (_, year) in JOURNALS.items()}
    assert migrate.drift(db_path) == []
