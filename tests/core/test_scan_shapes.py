"""A dome is a maximum strictly inside the scan that stands above both ends by more than the
tolerance; anything else is rising, falling, flat or neither, and a grid's dome must stand
above its whole edge."""

from __future__ import annotations

import numpy as np
import pytest

from tcdb.core.parameters import DomeParameters
from tcdb.core.scan_shapes import (
    DOME_SHAPE,
    FALLING,
    FLAT,
    MIXED,
    RISING,
    TOO_SHORT,
    ScanShapeError,
    grid_shape,
    scan_shape,
)

A = np.linspace(3.0, 7.0, 21)


def test_a_parabola_peaking_inside_is_a_dome_found_where_it_peaks():
    tc = 250.0 - 40.0 * (A - 4.6) ** 2
    shape = scan_shape(A, tc)
    assert shape.shape == DOME_SHAPE and shape.has_interior_maximum
    assert shape.peak_x == pytest.approx(4.6)
    assert shape.peak_tc_K == pytest.approx(250.0)
    assert shape.margin_K == pytest.approx(250.0 - max(tc[0], tc[-1]))
    assert not shape.monotonic


def test_the_order_of_the_points_does_not_matter():
    tc = 250.0 - 40.0 * (A - 4.6) ** 2
    shuffled = np.random.default_rng(0).permutation(len(A))
    assert scan_shape(A[shuffled], tc[shuffled]) == scan_shape(A, tc)


def test_falling_and_rising_curves_have_no_dome():
    falling = scan_shape(A, 300.0 * np.exp(-(A - 3.0)))
    assert falling.shape == FALLING and falling.monotonic and not falling.has_interior_maximum
    assert falling.peak_x == A[0] and falling.margin_K == 0.0
    rising = scan_shape(A, 10.0 + 5.0 * A)
    assert rising.shape == RISING and rising.peak_x == A[-1]


def test_a_bump_within_the_tolerance_is_not_a_dome():
    tc = np.full_like(A, 100.0)
    tc[10] = 100.8  # less than 1 K above both ends
    assert scan_shape(A, tc).shape == FLAT
    tc[10] = 101.5
    assert scan_shape(A, tc).shape == DOME_SHAPE
    assert scan_shape(A, tc, DomeParameters(tolerance_K=2.0)).shape == FLAT


def test_a_small_wiggle_on_a_falling_curve_keeps_it_falling():
    tc = 300.0 - 20.0 * (A - 3.0)
    tc[5] += 0.5  # a step back up, inside the tolerance
    shape = scan_shape(A, tc)
    assert shape.shape == FALLING and shape.monotonic


def test_an_interior_maximum_below_one_end_is_not_a_dome():
    tc = 300.0 - 20.0 * (A - 3.0)
    tc[10] = tc[0] - 0.5  # high inside, but the start is higher
    shape = scan_shape(A, tc)
    assert not shape.has_interior_maximum and shape.peak_x == A[0]


def test_a_valley_is_neither_a_dome_nor_monotonic():
    shape = scan_shape(A, 100.0 + 10.0 * (A - 5.0) ** 2)
    assert shape.shape == MIXED and not shape.monotonic


def test_refused_points_are_left_out_and_two_points_are_too_few():
    tc = 250.0 - 40.0 * (A - 4.6) ** 2
    tc[[0, 3]] = np.nan
    shape = scan_shape(A, tc)
    assert shape.points == len(A) - 2 and shape.x_low == A[1]
    assert scan_shape([4.0, 5.0], [10.0, 20.0]).shape == TOO_SHORT
    assert scan_shape([], []).shape == TOO_SHORT


def test_mismatched_arrays_are_refused():
    with pytest.raises(ScanShapeError, match="one T_c per lattice point"):
        scan_shape(A, A[:-1])


AXIS = np.linspace(3.0, 7.0, 9)


def _grid(function):
    aa, cc = np.meshgrid(AXIS, AXIS, indexing="ij")
    return aa.ravel(), cc.ravel(), function(aa, cc).ravel()


def test_a_grid_peaking_inside_has_its_peak_located():
    a, c, tc = _grid(lambda a, c: 300.0 - 20.0 * (a - 4.5) ** 2 - 10.0 * (c - 5.5) ** 2)
    shape = grid_shape(a, c, tc)
    assert shape.has_interior_maximum and shape.where == "interior maximum"
    assert (shape.peak_a, shape.peak_c) == (pytest.approx(4.5), pytest.approx(5.5))
    assert shape.peak_tc_K == pytest.approx(300.0) and shape.margin_K > 1.0
    assert shape.along_a.has_interior_maximum and shape.along_c.has_interior_maximum
    assert shape.points == 81


def test_a_grid_preferring_small_cells_peaks_on_its_edge():
    a, c, tc = _grid(lambda a, c: 400.0 - 30.0 * a - 5.0 * c)
    shape = grid_shape(a, c, tc)
    assert not shape.has_interior_maximum and shape.margin_K == 0.0
    assert shape.where == "highest on the edge (smallest a and smallest c)"
    assert shape.along_a.shape == FALLING and shape.along_c.shape == FALLING


def test_a_grid_ridge_reaching_the_edge_is_not_an_interior_maximum():
    # highest along a = c, but the ridge runs out to the corners: the edge is as high
    a, c, tc = _grid(lambda a, c: 300.0 - 40.0 * np.abs(a - c))
    assert not grid_shape(a, c, tc).has_interior_maximum


def test_a_grid_peak_inside_but_within_the_tolerance_of_the_edge_is_not_a_dome():
    a, c, tc = _grid(lambda a, c: 300.0 - 0.01 * (a - 5.0) ** 2 - 0.01 * (c - 5.0) ** 2)
    shape = grid_shape(a, c, tc)
    assert not shape.has_interior_maximum and shape.peak_on_edge == ""
    assert shape.where == "highest inside, but within 1 K of the edge's best"


def test_missing_grid_points_are_left_out():
    a, c, tc = _grid(lambda a, c: 300.0 - 20.0 * (a - 4.5) ** 2 - 10.0 * (c - 5.5) ** 2)
    tc[0] = np.nan
    shape = grid_shape(a, c, tc)
    assert shape.points == 80 and shape.has_interior_maximum
    with pytest.raises(ScanShapeError, match="no finite T_c"):
        grid_shape(a, c, np.full_like(tc, np.nan))
