"""The year of a SuperCon record is read from its reference text as the docstring says."""

from __future__ import annotations

import pytest

from tcdb.core.references import reference_year


@pytest.mark.parametrize(
    ("journal", "year"),
    [
        ("Jpn.J.Appl.Phys., 26(1987)L223", 1987),
        ("Journal of Physics:Conf. Series 1590(2020)012007", 2020),  # volume 1590 is no year
        ("Supercond. Sci. Technol., 14 ( 2001 )504-510", 2001),
        ("LT-12(1970, Kyoto) P 345", 1970),
        ("Chem.Lett., No.3 (1987)547-550", 1987),
        ("Physica Status Solidi(a), 147(1995)221-227", 1995),  # '(a)' is not a year
        ("cond-mat/0807.2223", 2008),
        ("cond-mat/0106521", 2001),
        ("ccond-mat/0109050", 2001),
        ("PRENUM PRESS 1973", 1973),
        ("Springer-Verlag, 1982,", 1982),
        ("Z.PHYS.,213)1968)79", 1968),
    ],
)
def test_a_year_is_read_from_the_reference_formats_supercon_uses(journal, year):
    assert reference_year(journal) == year


@pytest.mark.parametrize(
    "journal",
    [
        "Unpublished results",
        "Private communication",
        "Phys.Rev.B,39(19879)11559",  # a five-digit misprint is not guessed at
        "J.Phys.Soc.Jpn, 64(2995)1471",  # outside 1900-2030
        "Phys.Lett.A,38()323",
        "",
        None,
    ],
)
def test_a_reference_without_a_plausible_year_gives_none(journal):
    assert reference_year(journal) is None
