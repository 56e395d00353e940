"""Results of a long computation land in one transaction and outwait a writer that holds the
file longer than an ordinary command would wait."""

from __future__ import annotations

import pytest

from tcdb.core.errors import DatabaseLockedError
from tcdb.core.settings import environment_settings
from tcdb.schema.database import Database, connect, storing
from tests.conftest import hold_lock, query


@pytest.fixture
def waits(monkeypatch):
    """Set TCDB_LOCK_WAIT and TCDB_RESULTS_LOCK_WAIT for one test."""

    def set_waits(command: float, results: float) -> None:
        monkeypatch.setenv("TCDB_LOCK_WAIT", str(command))
        monkeypatch.setenv("TCDB_RESULTS_LOCK_WAIT", str(results))
        environment_settings.cache_clear()

    yield set_waits
    environment_settings.cache_clear()


def test_results_outwait_a_lock_a_command_would_not(migrated_db, waits):
    waits(command=0, results=60)
    holder = hold_lock(migrated_db, 2)
    try:
        with pytest.raises(DatabaseLockedError):
            connect(migrated_db)  # an ordinary command gives up at once
        with storing(Database(migrated_db), "a test run") as conn:
            conn.execute("CREATE TABLE stored (x INTEGER)")
            conn.execute("INSERT INTO stored VALUES (1)")
    finally:
        holder.wait(timeout=60)
    assert query(migrated_db, "SELECT x FROM stored") == [(1,)]


def test_results_that_cannot_be_stored_say_what_was_lost(migrated_db, waits):
    waits(command=0, results=0.3)
    holder = hold_lock(migrated_db, 2)
    try:
        with (
            pytest.raises(DatabaseLockedError, match=r"The results of run r-1 .* were not stored"),
            storing(Database(migrated_db), "run r-1 (its folder /x is not registered)"),
        ):
            pass
    finally:
        holder.wait(timeout=60)


def test_results_land_whole_or_not_at_all(migrated_db):
    conn = connect(migrated_db)
    try:
        conn.execute("CREATE TABLE stored (x INTEGER)")
        with pytest.raises(RuntimeError), storing(conn, "a test run") as inside:
            inside.execute("INSERT INTO stored VALUES (1)")
            raise RuntimeError("the second half of the results failed")
        assert conn.execute("SELECT count(*) FROM stored").fetchone() == (0,)
    finally:
        conn.close()
