"""Space groups as people write them: a Hermann–Mauguin symbol or an International Tables
number, perhaps followed by a note in parentheses.

Why: a space-group text decides whether two points of one paper are one phase or two, so a
text that names no space group ("zz") must not pass for a phase of its own, and two ways of
writing one group (``P6_3/mmc``, ``P63/mmc``, ``p63/mmc (hexagonal)``, ``194``) must compare
equal. pymatgen (``pymatgen.symmetry.groups.SpaceGroup``) decides what a symbol is; it is
imported only when a symbol is read.

A text is read as: empty, or a first word ``not``/``unknown``/``?`` — no group stated; else the
part before any ``(`` is the symbol or number and the rest a note.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

SPACE_GROUP_NUMBERS = range(1, 231)
"""The International Tables numbers of the 230 space groups."""

_NONE_STATED = ("not", "unknown", "?")
_SCREW = re.compile(r"([2346])([1-5])")


def states_none(text: str | None) -> bool:
    """Whether a space-group text states no group (empty, "not stated", "unknown", "?")."""
    words = (text or "").strip().lower().split()
    return not words or words[0] in _NONE_STATED


def symbol_part(text: str) -> str:
    """The part of a space-group text that names the group: what comes before a note in
    parentheses, ``Fm-3m`` of ``Fm-3m (not stated in Bai)``."""
    return text.split("(", 1)[0].strip()


def _candidates(symbol: str) -> list[str]:
    """Ways a typed symbol may be meant: as given, with the lattice letter capitalised and the
    rest in lower case, and with screw axes written with an underscore (``P21/c``)."""
    variants = [symbol, symbol[:1].upper() + symbol[1:].lower()]
    variants += [_SCREW.sub(r"\1_\2", v) for v in variants]
    return list(dict.fromkeys(variants))


@lru_cache(maxsize=512)
def space_group_number(text: str | None) -> int | None:
    """The number (1–230) of the group a space-group text names, or None when it names none
    (no group stated, or a text that is neither a symbol nor a number)."""
    if states_none(text):
        return None
    symbol = symbol_part(text or "")
    if symbol.isdigit():
        number = int(symbol)
        return number if number in SPACE_GROUP_NUMBERS else None
    if not symbol:
        return None
    from pymatgen.symmetry.groups import SpaceGroup

    for candidate in _candidates(symbol):
        if candidate in _spglib_symbols():
            return _spglib_symbols()[candidate]
        try:
            with warnings.catch_warnings():  # "full symbol not available" for a few groups
                warnings.simplefilter("ignore")
                return int(SpaceGroup(candidate).int_number)
        except (ValueError, KeyError, IndexError):
            continue
    return None


@lru_cache(maxsize=1)
def _spglib_symbols() -> dict[str, int]:
    """Every short, full and setting symbol of spglib's 530 settings, with its number.

    Why: pymatgen builds every operation of a group to read its number (0.2 s a symbol, 6 of
    the report's 15 s, 2026-12-07); spglib's table names the usual spellings at once, and
    pymatgen still reads the rest."""
    import spglib

    numbers: dict[str, int] = {}
    for hall in range(1, 531):
        kind = spglib.get_spacegroup_type(hall)
        for name in (kind.international_short, kind.international_full, kind.international):
            numbers.setdefault(name, int(kind.number))
    return numbers


def space_group_problem(text: str | None) -> str | None:
    """None for a text that states no group or names one; else why it is refused."""
    if states_none(text) or space_group_number(text) is not None:
        return None
    symbol = symbol_part(text or "")
    if symbol.isdigit():
        return f"space group {symbol} is not a space-group number (1-230)"
    return (
        f"space group {text!r} is not a Hermann-Mauguin symbol (such as Fm-3m or P6_3/mmc) or a "
        "number 1-230; a note may follow in parentheses, and an unknown group is left empty"
    )
