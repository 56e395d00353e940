"""The documentation names every table and view the code defines."""

from __future__ import annotations

from tcdb.schema.models import TABLES
from tcdb.schema.views import view_versions
from tests.conftest import REPO

SCHEMA_DOC = (REPO / "docs" / "schema.md").read_text()


def test_schema_doc_describes_every_table_and_view():
    for name in [t.__tablename__ for t in TABLES] + list(view_versions()):
        assert f"| `{name}` |" in SCHEMA_DOC, name
