"""CSV formula injection: a stored name such as ``=HYPERLINK("http://x","y")`` comes out of
the report's CSV files as text a spreadsheet shows and never runs, while numbers, negative
ones included, stay numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tcdb.core.csv_exports import FORMULA_TRIGGERS, neutralised, write_csv
from tcdb.ml.structural.morphs import load_reference_file
from tcdb.reports import tables
from tcdb.reports.build import write_table
from tcdb.reports.inputs import ReportInputs
from tcdb.schema.database import Database
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES

HYPERLINK = '=HYPERLINK("http://x","y")'
REFERENCE = SOURCES / "reference"


def write_hyperlink_input(folder: Path) -> Path:
    """A JSON input of one real structure (MgH13) whose name is a spreadsheet formula."""
    mgh13 = load_reference_file(REFERENCE / "structures" / "MgH13_Fm-3m_200GPa.cif").structure
    path = folder / "named.json"
    path.write_text(json.dumps([{"name": HYPERLINK, "structure": mgh13.as_dict()}]))
    return path


def test_a_stored_formula_name_is_neutralised_in_the_report_csv(models_db, tmp_path):
    stored = invoke_tcdb("--db", str(models_db), "predict", str(write_hyperlink_input(tmp_path)))
    assert stored.returncode == 0, stored.stderr
    inputs = ReportInputs(Database(models_db), REFERENCE)
    table = tables.structure_predictions(inputs)
    assert table.frame.name.tolist() == [HYPERLINK]  # stored and shown as given
    out = tmp_path / "site"
    out.mkdir()
    write_table(table, out)
    frame = pd.read_csv(out / "structure_predictions.csv")
    assert frame.name.tolist() == ["'" + HYPERLINK]
    assert pd.api.types.is_float_dtype(frame.tc_K) and frame.tc_K.notna().all()
    assert HYPERLINK in (out / "structure_predictions.md").read_text()  # Markdown is no sheet


def test_only_text_cells_that_start_a_formula_are_quoted():
    frame = pd.DataFrame(
        {
            "name": [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "LaH10", "-3.2", None],
            "tc_K": [-3.2, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, np.nan],
            "n": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
            "kind": pd.Series(["=1"] + ["x"] * 8, dtype="category"),
            "flag": [True] * 9,
        }
    )
    safe = neutralised(frame)
    assert safe.name.tolist()[:6] == ["'" + v for v in frame.name[:6]]
    assert safe.name.tolist()[6:8] == ["LaH10", "-3.2"]  # plain text and a plain number stay
    assert safe.name.isna().tolist()[-1]
    assert safe.kind.tolist()[0] == "'=1"
    pd.testing.assert_frame_equal(safe[["tc_K", "n", "flag"]], frame[["tc_K", "n", "flag"]])
    assert all(t in "=+-@\t\r" for t in FORMULA_TRIGGERS)


def test_write_csv_reads_back_numbers_as_numbers(tmp_path):
    path = tmp_path / "x.csv"
    write_csv(pd.DataFrame({"formula": [HYPERLINK], "tc_K": [-3.2]}), path)
    back = pd.read_csv(path)
    assert back.formula.tolist() == ["'" + HYPERLINK] and back.tc_K.tolist() == [-3.2]


def test_sql_csv_on_stdout_is_the_data_as_stored(migrated_db):
    """``tcdb sql --format csv`` is a data stream for other programs: left as stored."""
    result = invoke_tcdb("--db", str(migrated_db), "sql", f"SELECT '{HYPERLINK}' AS name",
                         "--format", "csv")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == '"=HYPERLINK(""http://x"",""y"")"'
