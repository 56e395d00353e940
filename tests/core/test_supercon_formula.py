"""SuperCon formulas become element amounts, or a rejection that names the problem."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcdb.core.composition import element_symbols
from tcdb.core.records import ParsedFormula, Rejection
from tcdb.core.supercon_formula import REASON_CODES, parse_supercon_formula
from tcdb.ingest.sources.nims_supercon import info as NIMS_SUPERCON

REPO = Path(__file__).resolve().parents[2]
NIMS_ROWS = 26_321


def parsed(text: str) -> ParsedFormula:
    """Parse ``text`` and fail the test if it was rejected."""
    result = parse_supercon_formula(text)
    assert isinstance(result, ParsedFormula), result
    return result


def rejected(text: str) -> Rejection:
    """Parse ``text`` and fail the test if it was accepted."""
    result = parse_supercon_formula(text)
    assert isinstance(result, Rejection), result
    return result


@pytest.mark.parametrize(
    ("text", "amounts", "cleaned", "notes"),
    [
        (
            "Ba0.2La1.8Cu1O4-Y",
            {"Ba": 0.2, "La": 1.8, "Cu": 1.0, "O": 4.0},
            "Ba0.2La1.8Cu1O4",
            ("stripped oxygen-deficiency suffix '-Y'",),
        ),
        (
            "Y1Ba2Cu3O7-Z",
            {"Y": 1.0, "Ba": 2.0, "Cu": 3.0, "O": 7.0},
            "Y1Ba2Cu3O7",
            ("stripped oxygen-deficiency suffix '-Z'",),
        ),
        (
            "Bi2Sr2Ca1Cu2O8+d",
            {"Bi": 2.0, "Sr": 2.0, "Ca": 1.0, "Cu": 2.0, "O": 8.0},
            "Bi2Sr2Ca1Cu2O8",
            ("stripped oxygen-deficiency suffix '+d'",),
        ),
        (
            "Y1Ba2Cu4O8+-Z",
            {"Y": 1.0, "Ba": 2.0, "Cu": 4.0, "O": 8.0},
            "Y1Ba2Cu4O8",
            ("stripped oxygen-deficiency suffix '+-Z'",),
        ),
        (
            "Hg1Sr2Ho0.333Ce0.667Cu2O6=z",
            {"Hg": 1.0, "Sr": 2.0, "Ho": 0.333, "Ce": 0.667, "Cu": 2.0, "O": 6.0},
            "Hg1Sr2Ho0.333Ce0.667Cu2O6",
            ("stripped oxygen-deficiency suffix '=z'",),
        ),
        ("B2Mg1", {"B": 2.0, "Mg": 1.0}, "B2Mg1", ()),
        ("Er1Ni2B2C", {"Er": 1.0, "Ni": 2.0, "B": 2.0, "C": 1.0}, "Er1Ni2B2C", ()),
        ("Si", {"Si": 1.0}, "Si", ()),
        (
            "Ga1Sr2Ca3Cu4O11.",
            {"Ga": 1.0, "Sr": 2.0, "Ca": 3.0, "Cu": 4.0, "O": 11.0},
            "Ga1Sr2Ca3Cu4O11.",
            (),
        ),
        ("Nb.5Ti.5", {"Nb": 0.5, "Ti": 0.5}, "Nb.5Ti.5", ()),
        ("D0.967Pd1", {"D": 0.967, "Pd": 1.0}, "D0.967Pd1", ()),
        ("Pd1T0.81", {"Pd": 1.0, "T": 0.81}, "Pd1T0.81", ()),
        (
            "Fe1Se1S0",
            {"Fe": 1.0, "Se": 1.0},
            "Fe1Se1S0",
            ("dropped S with amount 0",),
        ),
        (" Nb3 Sn1\t", {"Nb": 3.0, "Sn": 1.0}, "Nb3Sn1", ("removed whitespace",)),
        ("BaLa9(CuO4)5", {"Ba": 1.0, "La": 9.0, "Cu": 5.0, "O": 20.0}, "BaLa9(CuO4)5", ()),
    ],
)
def test_real_notation_is_read(text, amounts, cleaned, notes):
    result = parsed(text)
    assert result.amounts == pytest.approx(amounts)
    assert set(result.amounts) == set(amounts)
    assert result.cleaned == cleaned
    assert result.notes == notes


@pytest.mark.parametrize(
    ("text", "code", "reason"),
    [
        ("YBa2Cu3Oz", "variable_amount", "variable amount z in O"),
        ("H0.16Y1Ba2Cu3Oz", "variable_amount", "variable amount z in O"),
        ("Bi2Sr1.9Cu2.1Ox", "variable_amount", "variable amount x in O"),
        ("Y0.4Ba0.6Cu1OX", "variable_amount", "variable amount X in O"),
        ("La1.785Ba0.215Cu1OZ", "variable_amount", "variable amount Z in O"),
        ("Y1Ba2Cu3OY", "variable_amount", "variable amount Y in O"),
        ("Cu3-xZnx", "variable_amount", "variable amount x in Cu (written '3-x')"),
        ("Bi1.6Pb0.4Sr2Ca2Cu3F0.8Oz-0.8", "variable_amount", "variable amount z in O"),
        ("Xx2O", "unknown_element", "unknown element symbol 'Xx' at position 1"),
        ("Ta1S2M0.167", "unknown_element", "unknown element symbol 'M' at position 6"),
        ("Py2C1H24Hg1I4Bi2Sr1.5Ca1.5Cu2OZ", "unknown_element", "unknown element symbol 'Py'"),
        ("Sm1Ba-1Cu3O6.94", "bad_amount", "negative amount -1 of Ba"),
        ("Hg0.3Pb0.7Sr1.75La0.25Cu1O4+2", "bad_amount", "amount of O is arithmetic '4+2'"),
        ("Y2C2Br0.5!1.5", "malformed_formula", "unexpected character '!' at position 10"),
        ("Cu#O2", "malformed_formula", "unexpected character '#' at position 3"),
        ("(CuO2", "malformed_formula", "bracket '(' at position 1 is never closed"),
        ("CuO2)", "malformed_formula", "unmatched ')' at position 5"),
        ("", "empty_formula", "the formula is empty"),
        (" \t ", "empty_formula", "the formula is empty"),
        ("Nb0Sn0", "zero_amount", "every element in the formula has amount 0"),
    ],
)
def test_unusable_formulas_are_rejected_with_a_reason(text, code, reason):
    result = rejected(text)
    assert result.reason_code == code
    assert reason in result.reason
    assert code in REASON_CODES


def test_element_order_does_not_matter():
    first = parsed("La1.8Ba0.2Cu1O4")
    second = parsed("Ba0.2La1.8CuO4")
    assert first.amounts == second.amounts


def test_repeated_elements_are_summed():
    assert parsed("Tl1Sr2Sr0.5Y0.5Cu2O7-Z").amounts["Sr"] == pytest.approx(2.5)
    assert parsed("Rb3C60C60").amounts == pytest.approx({"Rb": 3.0, "C": 120.0})


def test_explicit_one_equals_missing_amount():
    assert parsed("Y1Ba2Cu3O7").amounts == parsed("YBa2Cu3O7").amounts


def test_suffix_is_only_stripped_after_oxygen():
    result = rejected("Ba2Cu3-x")
    assert result.reason_code == "variable_amount"
    assert "in Cu" in result.reason


def test_an_unknown_element_is_reported_before_a_variable():
    assert rejected("Zn0.005Pc0.005Bi2Sr2Ca1Cu2Oz").reason_code == "unknown_element"


def assert_well_formed(result: object) -> None:
    """A result is one of the two types; a ParsedFormula holds real symbols and positive amounts."""
    assert isinstance(result, (ParsedFormula, Rejection))
    if isinstance(result, Rejection):
        assert result.reason_code in REASON_CODES
        assert result.reason
        return
    assert result.amounts
    for symbol, amount in result.amounts.items():
        assert symbol in element_symbols() or symbol in {"D", "T"}
        assert math.isfinite(amount)
        assert amount > 0


@given(st.text())
def test_any_text_gives_a_result_and_never_raises(text):
    assert_well_formed(parse_supercon_formula(text))


SYMBOL_PIECES = ["O", "Cu", "Ba", "La", "Y", "D", "T", "X", "Z", "Xx", "Py", "M"]
AMOUNT_PIECES = ["x", "y", "z", "d", "δ", "0", "1", "2", "0.5", ".", "9" * 320]
OTHER_PIECES = ["+", "-", "=", "(", ")", "[", "]", " ", "#", "!"]
FORMULA_PIECES = st.sampled_from([*SYMBOL_PIECES, *AMOUNT_PIECES, *OTHER_PIECES])


@given(st.lists(FORMULA_PIECES, max_size=20).map("".join))
def test_formula_like_text_gives_a_result_and_never_raises(text):
    assert_well_formed(parse_supercon_formula(text))


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(sorted(element_symbols())),
        st.decimals(min_value="0.001", max_value="100", places=3),
        min_size=1,
        max_size=6,
    )
)
def test_written_formulas_read_back_to_their_amounts(amounts):
    text = "".join(f"{symbol}{amount}" for symbol, amount in amounts.items())
    expected = {symbol: float(amount) for symbol, amount in amounts.items()}
    assert parsed(text).amounts == pytest.approx(expected)


def nims_path() -> Path:
    """The NIMS export under TCDB_SOURCES, or under the shared data folder beside the repo."""
    sources = os.environ.get("TCDB_SOURCES")
    base = Path(sources) if sources else REPO.parent / "shared" / "data"
    assert NIMS_SUPERCON.path is not None
    return base / NIMS_SUPERCON.path


def read_nims_formulas(path: Path) -> list[str]:
    """The ``element`` column of the NIMS export (three header lines, tab-separated)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        headers = [next(reader) for _ in range(3)]
        column = headers[2].index("element")
        return [row[column] for row in reader]


def test_every_real_nims_formula_is_parsed_or_rejected():
    path = nims_path()
    if not path.exists():
        pytest.skip(f"NIMS SuperCon export not found at {path} (set TCDB_SOURCES)")
    formulas = read_nims_formulas(path)
    assert len(formulas) == NIMS_ROWS
    results = [parse_supercon_formula(text) for text in formulas]
    for result in results:
        assert_well_formed(result)
    n_parsed = sum(isinstance(result, ParsedFormula) for result in results)
    n_rejected = sum(isinstance(result, Rejection) for result in results)
    assert n_parsed + n_rejected == len(formulas)
    # Most rows are plain compositions; the open oxygen amounts are the largest rejected group.
    assert n_parsed > 0.85 * len(formulas)
    codes = {result.reason_code for result in results if isinstance(result, Rejection)}
    assert "variable_amount" in codes
