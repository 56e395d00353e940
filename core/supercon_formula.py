"""Read NIMS SuperCon formulas into element amounts, or say exactly why a formula cannot be read.

The SuperCon ``element`` column is not a plain chemical formula. Oxides carry an
oxygen-deficiency suffix (``Ba0.2La1.8Cu1O4-Y``), many compositions leave an amount open with a
letter (``YBa2Cu3Oz``, ``Y1Ba2Cu3OX``, ``Cu3-xZnx``), and a few rows hold typing errors
(``Ca-0.1``, ``Jr1``, ``Y2C2Br0.5!1.5``). A row only becomes a material when every amount is a
known number, so this module separates what can be cleaned (the suffix, whitespace, zero-amount
dopants) from what must be rejected, and gives every rejection a countable code and a sentence.

The parser is a pure function over text: no database, no pymatgen objects per row (only the
cached symbol list), and a regular-expression fast path for the plain formulas that make up most
of the table, because it runs on all 26,000 SuperCon rows inside a short ingest budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from tcdb.core.composition import HYDROGEN_ISOTOPES, element_symbols, normalise
from tcdb.core.records import ParsedFormula, Rejection

__all__ = ["REASON_CODES", "parse_supercon_formula"]

REASON_CODES: dict[str, str] = {
    "empty_formula": "the text holds no element at all (empty, only whitespace, or '()')",
    "malformed_formula": "a character or bracket that has no place in a formula",
    "unknown_element": "a capitalised symbol that is neither an element nor D or T",
    "bad_amount": "a negative amount, arithmetic on numbers only, or a number too large",
    "variable_amount": "an amount written with a letter (x, y, z, d, X, Z, or a final OY)",
    "zero_amount": "every element has amount 0",
}

# Lowercase letters SuperCon uses for an open amount (δ appears in other sources).
_VARIABLES = "xyzdδ"
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"

_WHITESPACE = re.compile(r"\s+")
# An oxygen-deficiency suffix: a sign (or '=', a typo for one) and a variable letter at the very
# end, right after an oxygen amount: O4-Y, O7-z, O8+-Z, O6+d, O10=z.
_SUFFIX_LETTERS = frozenset("xyzdδXYZD")
_OXYGEN_SUFFIX = re.compile(rf"O{_NUMBER}?((?:[-+]{{1,2}}|=)[xyzdδXYZD])$")
# A plain formula: symbols, each with an optional unsigned number, nothing else.
_PLAIN = re.compile(rf"(?:[A-Z][a-z]?{_NUMBER}?)+")
_PLAIN_UNIT = re.compile(rf"([A-Z][a-z]?)({_NUMBER}?)")
# The general scanner's pieces.
_WORD = re.compile(r"[A-Z][a-z]*")
# First term of an amount: a number, optionally times a variable (2x), or a bare capital
# variable (OX, OZ) that cannot be the start of the next symbol.
_FIRST_TERM = re.compile(rf"{_NUMBER}?[{_VARIABLES}](?![a-z])|{_NUMBER}|[XZ](?![a-z0-9.])")
# A term after '+' or '-': a number, a variable, or both.
_NEXT_TERM = re.compile(rf"{_NUMBER}?[{_VARIABLES}](?![a-z])|{_NUMBER}|[XYZD](?![a-z])")
_HAS_VARIABLE = re.compile(rf"[{_VARIABLES}XYZD]")
_OPEN = "(["
_CLOSE = {")": "(", "]": "["}


@cache
def _known_symbols() -> frozenset[str]:
    """Element symbols plus the hydrogen isotopes D and T, which SuperCon writes as symbols."""
    return element_symbols() | frozenset(HYDROGEN_ISOTOPES)


def parse_supercon_formula(text: str) -> ParsedFormula | Rejection:
    """Element amounts of a SuperCon formula, or a Rejection naming what is wrong.

    Cleaning (each recorded in ``notes``): whitespace anywhere is removed; a trailing
    oxygen-deficiency suffix after an oxygen amount (``O4-Y``, ``O7+z``, ``O8+-Z``, ``O10=z``) is
    stripped; an element whose summed amount is 0 (the undoped end of a doping series, such as
    ``La1.85Nd0Ca1.15Cu2O5.99``) is dropped. A formula whose elements all have amount 0 is
    rejected as ``zero_amount``.

    Reading: a missing amount means 1, ``Cu1``, ``0.2``, ``.5`` and ``11.`` are numbers,
    repeated elements are summed, order does not matter, ``(...)n`` and ``[...]n`` groups are
    multiplied out. ``D`` and ``T`` are kept as symbols. A bare ``Y`` straight after a bare
    ``O`` at the end (``Y1Ba2Cu3OY``) is read as SuperCon's variable oxygen amount, not yttrium.

    Rejections (codes in ``REASON_CODES``): when a formula has several problems, a malformed
    character wins (reported at once), then an unknown element, a bad amount, a variable amount,
    each the first of its kind from the left. Positions count from 1 in the cleaned formula.
    Never raises for any ``str``.
    """
    if not isinstance(text, str):
        return Rejection("malformed_formula", f"the formula is a {type(text).__name__}, not text")
    cleaned, notes = _clean(text)
    if not cleaned:
        return Rejection("empty_formula", "the formula is empty")
    amounts = _read_plain(cleaned)
    if amounts is None:
        scanned = _scan(cleaned)
        if isinstance(scanned, Rejection):
            return scanned
        amounts = scanned
    return _finish(amounts, cleaned, notes)


def _clean(text: str) -> tuple[str, list[str]]:
    """Remove whitespace and a trailing oxygen-deficiency suffix, noting each."""
    notes: list[str] = []
    cleaned = _WHITESPACE.sub("", text)
    if cleaned != text:
        notes.append("removed whitespace")
    match = _OXYGEN_SUFFIX.search(cleaned) if cleaned[-1:] in _SUFFIX_LETTERS else None
    if match:
        notes.append(f"stripped oxygen-deficiency suffix {match.group(1)!r}")
        cleaned = cleaned[: match.start(1)]
    return cleaned, notes


def _read_plain(cleaned: str) -> dict[str, float] | None:
    """Amounts of a formula of known symbols and plain numbers; None if it needs the scanner."""
    if cleaned.endswith("OY") or not _PLAIN.fullmatch(cleaned):
        return None
    known = _known_symbols()
    amounts: dict[str, float] = {}
    for symbol, number in _PLAIN_UNIT.findall(cleaned):
        if symbol not in known:
            return None
        value = float(number) if number else 1.0
        if not math.isfinite(value):
            return None
        amounts[symbol] = amounts.get(symbol, 0.0) + value
    return amounts


@dataclass
class _Problems:
    """The first problem of each kind met while scanning, for choosing the one to report."""

    unknown: Rejection | None = None
    bad: Rejection | None = None
    variable: Rejection | None = None

    def first(self) -> Rejection | None:
        return self.unknown or self.bad or self.variable


def _scan(cleaned: str) -> dict[str, float] | Rejection:
    """Read any formula symbol by symbol, with groups; used when the fast path does not apply."""
    stack: list[tuple[dict[str, float], int]] = [({}, 0)]
    problems = _Problems()
    pos = 0
    while pos < len(cleaned):
        char = cleaned[pos]
        if char in _OPEN:
            stack.append(({}, pos))
            pos += 1
        elif char in _CLOSE:
            closed = _close_group(cleaned, pos, stack, problems)
            if isinstance(closed, Rejection):
                return closed
            pos = closed
        else:
            read = _read_element(cleaned, pos, stack[-1][0], problems)
            if isinstance(read, Rejection):
                return read
            pos = read
    if len(stack) > 1:
        opened = cleaned[stack[-1][1]]
        return _malformed(f"bracket {opened!r} at position {stack[-1][1] + 1} is never closed")
    return problems.first() or stack[0][0]


def _read_element(
    cleaned: str, pos: int, amounts: dict[str, float], problems: _Problems
) -> int | Rejection:
    """Read one symbol and its amount at ``pos`` into ``amounts``; return the next position."""
    word = _WORD.match(cleaned, pos)
    if word is None:
        return _malformed(f"unexpected character {cleaned[pos]!r} at position {pos + 1}")
    symbol, glued = _split_word(cleaned, word)
    end = word.end()
    if symbol not in _known_symbols():
        problems.unknown = problems.unknown or Rejection(
            "unknown_element", f"unknown element symbol {symbol!r} at position {pos + 1}"
        )
    expression, end = _read_expression(cleaned, end, glued, bare_oxygen=symbol == "O")
    value = _amount_value(expression, f"in {symbol}", f"of {symbol}", problems)
    if value is not None and symbol in _known_symbols():
        amounts[symbol] = amounts.get(symbol, 0.0) + value
    return end


def _split_word(cleaned: str, word: re.Match[str]) -> tuple[str, str]:
    """Split ``Oz`` or ``Znx`` into symbol and glued variable; other words stay whole.

    A word followed by a number (``Py2``) is a symbol of its own, not a variable amount.
    """
    text = word.group()
    known = _known_symbols()
    if text in known or text[-1] not in _VARIABLES or text[:-1] not in known:
        return text, ""
    follows = cleaned[word.end() : word.end() + 1]
    if follows and follows in "0123456789.":
        return text, ""
    return text[:-1], text[-1]


def _read_expression(cleaned: str, pos: int, glued: str, bare_oxygen: bool) -> tuple[str, int]:
    """The amount text after a symbol or group (terms joined by '+' or '-') and its end."""
    start = pos
    if not glued:
        first = _FIRST_TERM.match(cleaned, pos)
        if first:
            pos = first.end()
        elif bare_oxygen and cleaned[pos:] == "Y":
            pos += 1
    while pos + 1 < len(cleaned) and cleaned[pos] in "+-":
        term = _NEXT_TERM.match(cleaned, pos + 1)
        if term is None:
            break
        pos = term.end()
    return glued + cleaned[start:pos], pos


def _amount_value(expression: str, where: str, whose: str, problems: _Problems) -> float | None:
    """The number an amount expression stands for; None (and a noted problem) if it has none."""
    if not expression:
        return 1.0
    variable = _HAS_VARIABLE.search(expression)
    if variable:
        letter = variable.group()
        written = "" if expression == letter else f" (written {expression!r})"
        problems.variable = problems.variable or Rejection(
            "variable_amount", f"variable amount {letter} {where}{written}"
        )
        return None
    if expression[0] in "+-" or "+" in expression or "-" in expression[1:]:
        problems.bad = problems.bad or _arithmetic(expression, whose)
        return None
    value = float(expression)
    if not math.isfinite(value):
        problems.bad = problems.bad or Rejection(
            "bad_amount", f"amount {whose} is too large to be a number"
        )
        return None
    return value


def _arithmetic(expression: str, whose: str) -> Rejection:
    """The rejection for a signed or summed amount written with numbers only."""
    if expression[0] == "-" and "+" not in expression and "-" not in expression[1:]:
        return Rejection("bad_amount", f"negative amount {expression} {whose}")
    return Rejection("bad_amount", f"amount {whose} is arithmetic {expression!r}, not a number")


def _close_group(
    cleaned: str, pos: int, stack: list[tuple[dict[str, float], int]], problems: _Problems
) -> int | Rejection:
    """Close the innermost group at ``pos``, multiply it out, and return the next position."""
    char = cleaned[pos]
    if len(stack) == 1 or cleaned[stack[-1][1]] != _CLOSE[char]:
        return _malformed(f"unmatched {char!r} at position {pos + 1}")
    group, start = stack.pop()
    expression, end = _read_expression(cleaned, pos + 1, "", bare_oxygen=False)
    label = f"group {cleaned[start : pos + 1]!r}"
    multiplier = _amount_value(expression, f"for {label}", f"of {label}", problems)
    if multiplier is not None:
        outer = stack[-1][0]
        for symbol, amount in group.items():
            outer[symbol] = outer.get(symbol, 0.0) + amount * multiplier
    return end


def _finish(amounts: dict[str, float], cleaned: str, notes: list[str]) -> ParsedFormula | Rejection:
    """Drop zero amounts (with a note) and build the result."""
    if not amounts:
        return Rejection("empty_formula", "the formula holds no element")
    if not math.isfinite(sum(amounts.values())):
        return _too_large(amounts)
    if 0.0 in amounts.values():
        kept = {symbol: amount for symbol, amount in amounts.items() if amount != 0.0}
        if not kept:
            return Rejection("zero_amount", "every element in the formula has amount 0")
        notes.extend(f"dropped {symbol} with amount 0" for symbol in amounts if symbol not in kept)
        amounts = kept
    return ParsedFormula(amounts=amounts, cleaned=cleaned, notes=tuple(notes))


def _too_large(amounts: dict[str, float]) -> Rejection:
    """The rejection for amounts whose total overflows (a huge multiplier or sum)."""
    largest = max(amounts, key=lambda symbol: amounts[symbol])
    return Rejection("bad_amount", f"amount of {largest} is too large to be a number")


def _malformed(reason: str) -> Rejection:
    """A malformed-formula rejection."""
    return Rejection("malformed_formula", reason)


def material_id_of_formula(text: str) -> str | None:
    """The material id a formula (or a ``mat-…`` id given as is) names, or None when it does not
    parse or normalise; how held-out lists and report filters name compositions."""
    if text.startswith("mat-"):
        return text
    parsed = parse_supercon_formula(text)
    if isinstance(parsed, Rejection):
        return None
    composition = normalise(parsed.amounts)
    return None if isinstance(composition, Rejection) else composition.material_id
