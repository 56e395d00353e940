"""SQL views for users, kept as versioned SQL files in ``schema/views/``.

A view's definition lives in ``<name>.v<N>.sql``; the migration that introduces version N
creates it from that file, so old migrations keep replaying the definition they were written
for. The highest N of a name is its current definition.
"""

from __future__ import annotations

import re
from pathlib import Path

VIEWS_DIR = Path(__file__).resolve().parent / "views"
_FILE_PATTERN = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)\.sql$")


def view_versions() -> dict[str, list[int]]:
    """Every view name with its versions, oldest first."""
    found: dict[str, list[int]] = {}
    for path in VIEWS_DIR.glob("*.sql"):
        match = _FILE_PATTERN.match(path.name)
        if match:
            found.setdefault(match["name"], []).append(int(match["version"]))
    return {name: sorted(versions) for name, versions in sorted(found.items())}


VIEW_NAMES: frozenset[str] = frozenset(view_versions())


def view_sql(name: str, version: int) -> str:
    """The SELECT of one version of a view."""
    path = VIEWS_DIR / f"{name}.v{version}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"No definition {path.name} for view {name!r} in {VIEWS_DIR}")
    return path.read_text()


def create_view_statement(name: str, version: int) -> str:
    return f'CREATE OR REPLACE VIEW "{name}" AS\n{view_sql(name, version).strip().rstrip(";")}'


def drop_view_statement(name: str) -> str:
    return f'DROP VIEW IF EXISTS "{name}"'
