"""Space-group texts as people write them, read to their numbers."""

from __future__ import annotations

import pytest

from tcdb.core.space_groups import space_group_number


@pytest.mark.parametrize(
    ("symbol", "number"),
    [("P6_3/mmc", 194), ("Fm-3m", 225), ("P-1 (alpha)", 2), ("Cmc2_1", 36), ("R-3m", 166),
     ("P63/mmc", 194), ("p21/c", 14), ("194", 194), ("not stated", None), ("zz", None),
     (None, None)],
)  # fmt: skip
def test_space_group_numbers_of_the_papers_symbols_and_other_spellings(symbol, number):
    assert space_group_number(symbol) == number
