"""The report's counts over uniform lattice scans (a pure function: no database needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from tcdb.reports.scans import scan_shape_counts


def _scan(substitution: str, a: list[float], tc: list[float], inside: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family": "mgh13-xy",
            "parent_structure_id": "reference:MgH13",
            "substitution_json": substitution,
            "formula": substitution,
            "a_A": a,
            "tc_K": tc,
            "in_domain": pd.array(inside, dtype="boolean"),
        }
    )


def test_scans_are_counted_over_every_scale_and_over_the_scales_inside_the_domain():
    points = pd.concat(
        [
            # rising with compression everywhere; only the two larger lattices inside
            _scan("A", [3.0, 3.2, 3.4, 3.6], [200, 180, 160, 140], [False, False, True, True]),
            # a dome whose peak lies inside the domain (a NULL verdict counts as inside)
            _scan("B", [3.0, 3.2, 3.4, 3.6], [100, 190, 120, 90], [False, None, True, True]),
            # no scale inside: counted over every scale only
            _scan("C", [3.0, 3.2, 3.4, 3.6], [150, 140, 130, 120], [False] * 4),
        ],
        ignore_index=True,
    ).sample(frac=1.0, random_state=0)  # the rows of a scan need not be together

    (row,) = scan_shape_counts(points).to_dict("records")

    assert row["scans"] == 3 and row["with_interior_maximum"] == 1
    assert row["interior_maximum_in_domain"] == 1
    assert row["share_peak_at_smallest_a"] == pytest.approx(2 / 3)  # A and C
    assert row["scans_with_a_scale_in_domain"] == 2  # A and B
    # inside the domain A peaks at its smallest in-domain lattice (3.4 Å), B at 3.2 Å (its
    # smallest inside too, with the NULL verdict)
    assert row["share_peak_at_smallest_a_in_domain"] == 1.0
    assert row["clearest_dome"].startswith("B: 190 K at a = 3.20 Å")
