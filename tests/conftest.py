"""Shared fixtures: every test works on a real DuckDB file in its own temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from schema import migrate

REPO = Path(__file__).resolve().parents[1]
SOURCES = Path(os.environ.get("TCDB_SOURCES") or REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def real_sources() -> Path:
    """The real source files (TCDB_SOURCES, else ../shared/data next to the repository)."""
    if not (SOURCES / "supercon").is_dir():
        pytest.skip(f"the source files are not at {SOURCES}; set TCDB_SOURCES")
    return SOURCES


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database path that does not exist yet."""
    return tmp_path / "tcdb.duckdb"


@pytest.fixture
def migrated_db(db_path: Path) -> Path:
    """A database file upgraded to the head revision."""
    migrate.upgrade(db_path)
    return db_path


def run_tcdb(*args: str, env: dict[str, str] | None = None, check: bool = False):
    """Run the installed command line in a fresh process, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    full_env.pop("MP_API_KEY", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tcdb.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        check=check,
        timeout=120,
    )
