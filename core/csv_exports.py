"""CSV files written for people to open in a spreadsheet, safe to open.

Why: a spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some,
a tab or carriage return) as a formula, so a stored name such as
``=HYPERLINK("http://x","y")`` becomes a live link or worse when a report CSV is opened.
Following OWASP's advice on CSV injection, such a text cell is written with a single quote
before it, which spreadsheets show as text. Only text is touched: numbers (a T_c of −3.2 in a
numeric column) stay numbers, and so does text that is a plain number ("-3.2").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tcdb.core.atomic_files import atomic_open

if TYPE_CHECKING:
    import pandas as pd

# The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
# Injection"), and what is put before such a cell.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISING_PREFIX = "'"

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralised_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, quoted; anything else unchanged."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_TRIGGERS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return NEUTRALISING_PREFIX + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns (object, string, categorical) have every
    formula-like cell quoted; numeric, boolean and date columns are left as they are."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(neutralised_cell, na_action="ignore")
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, durable: bool = True) -> None:
    """Write ``frame`` as a CSV file a spreadsheet can open safely, replacing ``path`` whole
    (written beside it and renamed) or leaving it as it was (``durable``: see
    ``core.atomic_files.replacing``)."""
    with atomic_open(Path(path), "w", durable=durable, encoding="utf-8", newline="") as handle:
        neutralised(frame).to_csv(handle, index=False)
