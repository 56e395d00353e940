"""The year a SuperCon record was published, read from its reference text.

NIMS SuperCon keeps each record's reference in ``journal`` as free text
(``Jpn.J.Appl.Phys., 26(1987)L223``, ``Physica C, 470(2010)S631``, ``PRENUM PRESS 1973``,
``cond-mat/0807.2223``, ``Unpublished results``). A year per record lets a model be judged on
what was reported after its training data (Konno et al., J. Phys. Soc. Jpn. 90, 2021).
"""

from __future__ import annotations

import re

FIRST_YEAR = 1900
LAST_YEAR = 2030

_IN_PARENTHESES = re.compile(r"\(\s*(\d{4})\s*[),]")
_ARXIV = re.compile(r"cond-mat/(\d{2})(\d{2})[.\d]", re.IGNORECASE)
_STANDALONE = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _plausible(text: str) -> int | None:
    year = int(text)
    return year if FIRST_YEAR <= year <= LAST_YEAR else None


def reference_year(text: str | None) -> int | None:
    """The publication year of a reference, or None when the text states none.

    The rule, first that gives a year in 1900–2030 wins:

    1. a 4-digit year opening parentheses, closed by ``)`` or ``,`` (``26(1987)L223``,
       ``13( 2000)1302``, ``LT-12(1970, Kyoto)``);
    2. an arXiv cond-mat identifier ``cond-mat/YYMM…``: 19YY for YY ≥ 91 (arXiv began in
       1991), else 20YY (``cond-mat/0807.2223`` → 2008);
    3. any other 4 digits standing alone, not inside a longer number (``PRENUM PRESS 1973``,
       ``Springer-Verlag, 1982,``).

    A misprint such as ``39(19879)`` or ``64(2995)`` gives None rather than a guess, as do
    ``Unpublished results`` and ``Private communication``.
    """
    if not text:
        return None
    for match in _IN_PARENTHESES.finditer(text):
        year = _plausible(match.group(1))
        if year is not None:
            return year
    arxiv = _ARXIV.search(text)
    if arxiv is not None:
        two_digits, month = int(arxiv.group(1)), int(arxiv.group(2))
        if 1 <= month <= 12:
            return (1900 if two_digits >= 91 else 2000) + two_digits
    for match in _STANDALONE.finditer(text):
        year = _plausible(match.group(1))
        if year is not None:
            return year
    return None
