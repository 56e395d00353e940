"""Queries on curation runs that several layers need (snapshots freeze the latest pass, reports
describe it), kept beside the tables so neither has to import the other."""

from __future__ import annotations

import duckdb

from tcdb.core.errors import TcdbError


def latest_curation_run(conn: duckdb.DuckDBPyConnection) -> str:
    """The id of the newest succeeded curation pass, or one sentence saying to curate first."""
    row = conn.execute(
        "SELECT id FROM curation_run WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise TcdbError("Nothing has been curated yet; run 'tcdb curate run' first.")
    return row[0]
