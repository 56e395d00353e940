"""Fixtures the ingest tests share."""

from __future__ import annotations

import pytest

from tests.ingest.slices import NIMS, STANEV, head_lines

NIMS_HEADER = 3  # lines before the first record of the NIMS file
SUPERCON_ROWS = 200


@pytest.fixture
def supercon(real_sources, tmp_path):
    """The first 200 rows of both SuperCon files."""
    folder = tmp_path / "sources"
    head_lines(real_sources / NIMS, folder / NIMS, NIMS_HEADER + SUPERCON_ROWS)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + SUPERCON_ROWS)
    return folder
