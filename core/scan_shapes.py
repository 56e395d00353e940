"""The shape of predicted T_c along a lattice scan: a dome (an interior maximum) or not.

Why: Novakovic et al. (2023, Sec. V.C, Figs. 5-6) read a "superconducting dome" out of T_c
against a uniformly scaled lattice, and a preferred (a, c) out of a grid of independently
scaled a and c. Whether a scan has such a maximum is a plain question about numbers, asked of
every scan the morph families store: the maximum must lie strictly inside the scanned range
and stand above both ends (for a grid: above every point on the grid's edge) by more than a
stated tolerance, so a flat or noisy curve is not called a dome. Otherwise the scan is
rising, falling, flat, or neither (e.g. a valley), judged with the same tolerance.

Pure functions over arrays, shared by whoever reads the scans (the report, the morph runs):
no model, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tcdb.core.errors import TcdbError
from tcdb.core.parameters import DOME, DomeParameters

DOME_SHAPE = "interior maximum"
RISING = "rising"
FALLING = "falling"
FLAT = "flat"
MIXED = "no interior maximum, not monotonic"
TOO_SHORT = "too few points"


class ScanShapeError(TcdbError):
    """Scan arrays that cannot be analysed (mismatched lengths, wrong dimensions)."""


@dataclass(frozen=True)
class ScanShape:
    """What T_c does along one scan. ``peak_*`` is the highest finite point wherever it is;
    ``margin_K`` is how far it stands above the higher end (negative when an end is higher)."""

    shape: str
    points: int  # finite points analysed
    x_low: float
    x_high: float
    peak_x: float
    peak_tc_K: float
    tc_at_low_K: float
    tc_at_high_K: float
    margin_K: float
    monotonic: bool
    tolerance_K: float

    @property
    def has_interior_maximum(self) -> bool:
        return self.shape == DOME_SHAPE


@dataclass(frozen=True)
class GridShape:
    """What T_c does over an (a, c) grid. ``margin_K`` is how far the highest point stands
    above the highest point on the grid's edge (0 when the highest point is on the edge);
    ``along_a`` and ``along_c`` are the shapes of the best T_c at each a (over every c) and
    at each c (over every a)."""

    has_interior_maximum: bool
    points: int
    a_range: tuple[float, float]
    c_range: tuple[float, float]
    peak_a: float
    peak_c: float
    peak_tc_K: float
    edge_peak_tc_K: float
    margin_K: float
    along_a: ScanShape
    along_c: ScanShape
    tolerance_K: float

    @property
    def peak_on_edge(self) -> str:
        """Which edge(s) hold the highest point ('' when it is inside)."""
        sides = []
        if self.peak_a == self.a_range[0]:
            sides.append("smallest a")
        elif self.peak_a == self.a_range[1]:
            sides.append("largest a")
        if self.peak_c == self.c_range[0]:
            sides.append("smallest c")
        elif self.peak_c == self.c_range[1]:
            sides.append("largest c")
        return " and ".join(sides)

    @property
    def where(self) -> str:
        """Where the highest point lies, in words."""
        if self.has_interior_maximum:
            return DOME_SHAPE
        if self.peak_on_edge:
            return f"highest on the edge ({self.peak_on_edge})"
        return f"highest inside, but within {self.tolerance_K:g} K of the edge's best"


def _finite_sorted(x: Sequence[float], tc: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The scan's finite points in increasing x (refused predictions are NaN)."""
    x, tc = np.asarray(x, dtype=float), np.asarray(tc, dtype=float)
    if x.ndim != 1 or x.shape != tc.shape:
        raise ScanShapeError(
            f"A scan needs one T_c per lattice point: {x.shape} points, {tc.shape} T_c values."
        )
    keep = np.isfinite(x) & np.isfinite(tc)
    order = np.argsort(x[keep], kind="stable")
    return x[keep][order], tc[keep][order]


def _monotonic(tc: np.ndarray, tolerance: float) -> str | None:
    """'rising' or 'falling' if no step goes back by more than the tolerance and the ends
    differ by more than it; 'flat' if every value is within it of every other."""
    if tc.max() - tc.min() <= tolerance:
        return FLAT
    steps = np.diff(tc)
    if (steps >= -tolerance).all() and tc[-1] - tc[0] > tolerance:
        return RISING
    if (steps <= tolerance).all() and tc[0] - tc[-1] > tolerance:
        return FALLING
    return None


def scan_shape(x: Sequence[float], tc: Sequence[float], params: DomeParameters = DOME) -> ScanShape:
    """Classify T_c along a one-dimensional scan (x: e.g. the primitive a in Å, any order)."""
    x, tc = _finite_sorted(x, tc)
    tolerance = params.tolerance_K
    if len(x) == 0:
        nan = float("nan")
        return ScanShape(TOO_SHORT, 0, nan, nan, nan, nan, nan, nan, nan, False, tolerance)
    peak = int(np.argmax(tc))
    margin = float(tc[peak] - max(tc[0], tc[-1]))
    trend = _monotonic(tc, tolerance) if len(x) > 1 else FLAT
    if len(x) < params.min_points:
        shape = TOO_SHORT
    elif 0 < peak < len(x) - 1 and margin > tolerance:
        shape = DOME_SHAPE
    else:
        shape = trend or MIXED
    return ScanShape(
        shape, len(x), float(x[0]), float(x[-1]), float(x[peak]), float(tc[peak]),
        float(tc[0]), float(tc[-1]), margin, trend in (RISING, FALLING, FLAT), tolerance,
    )  # fmt: skip


def grid_shape(
    a: Sequence[float], c: Sequence[float], tc: Sequence[float], params: DomeParameters = DOME
) -> GridShape:
    """Classify T_c over an (a, c) grid given as one row per point (a, c, T_c); points that
    are missing or NaN are left out, and an edge is the smallest or largest a or c."""
    a, c, tc = (np.asarray(v, dtype=float) for v in (a, c, tc))
    if not (a.ndim == c.ndim == tc.ndim == 1 and a.shape == c.shape == tc.shape):
        raise ScanShapeError(
            f"A grid needs one (a, c, T_c) per point: {a.shape}, {c.shape}, {tc.shape}."
        )
    keep = np.isfinite(a) & np.isfinite(c) & np.isfinite(tc)
    a, c, tc = a[keep], c[keep], tc[keep]
    if len(tc) == 0:
        raise ScanShapeError("The (a, c) grid has no finite T_c.")
    a_values, a_index = np.unique(a, return_inverse=True)
    c_values, c_index = np.unique(c, return_inverse=True)
    surface = np.full((len(a_values), len(c_values)), -np.inf)
    np.maximum.at(surface, (a_index, c_index), tc)
    edge = np.zeros_like(surface, dtype=bool)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    present = np.isfinite(surface)
    i, j = np.unravel_index(int(np.argmax(surface)), surface.shape)
    edge_peak = float(surface[edge & present].max())
    margin = float(surface[i, j] - edge_peak)
    interior = bool(
        not edge[i, j] and margin > params.tolerance_K and min(surface.shape) >= params.min_points
    )
    best_per_a = np.where(present.any(axis=1), surface.max(axis=1), np.nan)
    best_per_c = np.where(present.any(axis=0), surface.max(axis=0), np.nan)
    return GridShape(
        interior,
        int(present.sum()),
        (float(a_values[0]), float(a_values[-1])),
        (float(c_values[0]), float(c_values[-1])),
        float(a_values[i]),
        float(c_values[j]),
        float(surface[i, j]),
        edge_peak,
        margin,
        scan_shape(a_values, best_per_a, params),
        scan_shape(c_values, best_per_c, params),
        params.tolerance_K,
    )
