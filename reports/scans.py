"""The stored lattice scans read back, named after their structures and analysed for domes.

Why: Novakovic et al. (2023, Sec. V.C) read a "superconducting dome" out of T_c against a
uniformly scaled Li2MgH16 cell (Fig. 5) and a preferred (a, c) out of an independently scaled
grid (Fig. 6). The report says for each of our scans whether T_c has an interior maximum and
where (``core.scan_shapes``), beside what the paper says of the same panel, and names each
panel after its structure (formula and space group of the reference row), not its id prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tcdb.core.parameters import DOME, DomeParameters
from tcdb.core.scan_shapes import GridShape, ScanShape, grid_shape, scan_shape
from tcdb.reports.inputs import ReportInputs

UNIFORM_FAMILY = "dome"  # Fig. 5
GRID_FAMILY = "ac-grid"  # Fig. 6

_NAMED = (
    "SELECT m.*, coalesce(s.reduced_formula || ' ' || s.spacegroup_symbol, "
    "regexp_replace(m.parent_structure_id, '^reference:', '')) AS structure "
    "FROM morph_prediction AS m LEFT JOIN crystal_structure AS s "
    "ON s.id = m.parent_structure_id "
)


@dataclass(frozen=True)
class PaperPanel:
    """What the paper's text says of one panel of its Fig. 5 or 6. The figures' values are
    not in the text we hold, so no peak position is given that the text does not state."""

    interior_maximum: str
    shows: str


PAPER_PANELS: dict[tuple[str, str], PaperPanel] = {
    (UNIFORM_FAMILY, "Fd-3m"): PaperPanel(
        "yes (text)",
        "a dome: uniform scaling 'reveals a superconducting dome' (Sec. V.C); where it peaks "
        "is not stated in the text",
    ),
    (UNIFORM_FAMILY, "P-3m1"): PaperPanel(
        "not stated",
        "a response unlike the Fd-3m cell's ('different volume effects on T_c'); its Fig. 6 "
        "panel prefers smaller volumes",
    ),
    (GRID_FAMILY, "Fd-3m"): PaperPanel(
        "yes, along a = c (text)",
        "peaks at equal lattice lengths (a = c, the ideal rhombohedral cell); T_c drops "
        "significantly with asymmetry",
    ),
    (GRID_FAMILY, "P-3m1"): PaperPanel(
        "not stated",
        "smooth, preferring smaller volumes (higher pressure); a rapid drop as a = b grows, "
        "more tolerant of changes of c",
    ),
}


def paper_panel(family: str, structure: str) -> PaperPanel:
    """The paper's word on a panel, by family and the space group ending the structure name."""
    group = structure.rsplit(" ", 1)[-1]
    return PAPER_PANELS.get((family, group), PaperPanel("not in the paper", ""))


def uniform_scans(inputs: ReportInputs) -> pd.DataFrame:
    """Every point of the Fig. 5 scans, with the structure's name."""
    return inputs.frame(
        _NAMED + f"WHERE m.family = '{UNIFORM_FAMILY}' ORDER BY m.parent_structure_id, m.a_A"
    )


def grid_points(inputs: ReportInputs) -> pd.DataFrame:
    """Every point of the Fig. 6 grids, with the structure's name."""
    return inputs.frame(
        _NAMED + f"WHERE m.family = '{GRID_FAMILY}' ORDER BY m.parent_structure_id, m.a_A, m.c_A"
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _uniform_row(structure: str, part: pd.DataFrame, params: DomeParameters) -> dict:
    shape: ScanShape = scan_shape(part.a_A, part.tc_K, params)
    paper = paper_panel(UNIFORM_FAMILY, structure)
    at_peak = part.loc[part.a_A == shape.peak_x, "c_A"]
    peak_c = float(at_peak.iloc[0]) if len(at_peak) else np.nan
    return {
        "figure": "Fig. 5",
        "structure": structure,
        "scan": "uniform: a, b, c scaled together",
        "a_range_A": f"{shape.x_low:.2f}-{shape.x_high:.2f}",
        "c_range_A": f"{part.c_A.min():.2f}-{part.c_A.max():.2f}",
        "points": shape.points,
        "interior_maximum": _yes_no(shape.has_interior_maximum),
        "tc_shape": shape.shape,
        "peak_a_A": shape.peak_x,
        "peak_c_A": peak_c,
        "peak_c_over_a": peak_c / shape.peak_x,
        "peak_tc_K": shape.peak_tc_K,
        "margin_over_ends_K": shape.margin_K,
        "paper_interior_maximum": paper.interior_maximum,
        "paper_shows": paper.shows,
    }


def _grid_row(structure: str, part: pd.DataFrame, params: DomeParameters) -> dict:
    shape: GridShape = grid_shape(part.a_A, part.c_A, part.tc_K, params)
    paper = paper_panel(GRID_FAMILY, structure)
    return {
        "figure": "Fig. 6",
        "structure": structure,
        "scan": "grid: a (= b) and c scaled independently",
        "a_range_A": f"{shape.a_range[0]:.2f}-{shape.a_range[1]:.2f}",
        "c_range_A": f"{shape.c_range[0]:.2f}-{shape.c_range[1]:.2f}",
        "points": shape.points,
        "interior_maximum": _yes_no(shape.has_interior_maximum),
        "tc_shape": (
            f"{shape.where}; best T_c per a {shape.along_a.shape}, per c {shape.along_c.shape}"
        ),
        "peak_a_A": shape.peak_a,
        "peak_c_A": shape.peak_c,
        "peak_c_over_a": shape.peak_c / shape.peak_a,
        "peak_tc_K": shape.peak_tc_K,
        "margin_over_ends_K": shape.margin_K,
        "paper_interior_maximum": paper.interior_maximum,
        "paper_shows": paper.shows,
    }


def dome_rows(
    uniform: pd.DataFrame, grid: pd.DataFrame, params: DomeParameters = DOME
) -> pd.DataFrame:
    """One row per Fig. 5 scan and per Fig. 6 grid: its range, whether T_c has an interior
    maximum and where, and what the paper says of the same panel."""
    rows = [
        _uniform_row(structure, part, params)
        for structure, part in uniform.groupby("structure", sort=False)
    ]
    rows += [
        _grid_row(structure, part, params)
        for structure, part in grid.groupby("structure", sort=False)
    ]
    return pd.DataFrame(rows)


def scan_shape_counts(scans: pd.DataFrame, params: DomeParameters = DOME) -> pd.DataFrame:
    """Per family: how many uniform scans (one per substitution of a reference) have an
    interior maximum, and how many rise, fall, stay flat or do neither; with the scan whose
    interior maximum stands highest above its ends."""
    rows = []
    for family, of_family in scans.groupby("family", sort=True):
        scans_of = _scans(of_family)
        shapes = [(s.formula, scan_shape(s.a, s.tc, params)) for s in scans_of]
        counts = pd.Series([shape.shape for _, shape in shapes]).value_counts()
        domes = [(f, shape) for f, shape in shapes if shape.has_interior_maximum]
        best = max(domes, key=lambda fs: fs[1].margin_K, default=None)
        edges = [s.peak_at_smallest_a() for s in scans_of]
        inside = [e for e in (s.peak_at_smallest_a(s.inside) for s in scans_of) if e is not None]
        rows.append(
            {
                "family": family,
                "scans": len(shapes),
                "with_interior_maximum": len(domes),
                "share_with_interior_maximum": len(domes) / len(shapes) if shapes else np.nan,
                "interior_maximum_in_domain": sum(
                    shape.has_interior_maximum and s.peak_in_domain()
                    for s, (_, shape) in zip(scans_of, shapes, strict=True)
                ),
                "share_peak_at_smallest_a": float(np.mean(edges)) if edges else np.nan,
                "scans_with_a_scale_in_domain": len(inside),
                "share_peak_at_smallest_a_in_domain": float(np.mean(inside)) if inside else np.nan,
                "shapes": ", ".join(f"{name} {n}" for name, n in counts.items()),
                "clearest_dome": (
                    f"{best[0]}: {best[1].peak_tc_K:.0f} K at a = {best[1].peak_x:.2f} Å, "
                    f"{best[1].margin_K:.0f} K above its ends"
                    if best
                    else "none"
                ),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Scan:
    """One uniform scan's points as arrays: a (Å), T_c (K) and whether each is inside the
    run's domain (every point of a run without one)."""

    formula: str
    a: np.ndarray
    tc: np.ndarray
    inside: np.ndarray

    def peak_at_smallest_a(self, among: np.ndarray | None = None) -> bool | None:
        """Whether the highest T_c among these points (all by default) is at their smallest
        lattice (None for no point)."""
        a, tc = (self.a, self.tc) if among is None else (self.a[among], self.tc[among])
        if not len(a):
            return None
        return bool(a[int(np.argmax(tc))] == a.min())

    def peak_in_domain(self) -> bool:
        """Whether the scan's highest T_c lies inside the run's domain."""
        return bool(self.inside[int(np.argmax(self.tc))]) if len(self.tc) else True


def _scans(points: pd.DataFrame) -> list[_Scan]:
    """The points cut into scans (one per reference and substitution, in their sorted order;
    each scan's points in the order given).

    Why arrays: a family holds 6,241 scans, and a pandas selection per scan took 13 of the
    report's 17 s (2026-12-07)."""
    codes = points.groupby(["parent_structure_id", "substitution_json"], sort=True).ngroup()
    order = np.argsort(codes.to_numpy(), kind="stable")
    bounds = np.flatnonzero(np.diff(codes.to_numpy()[order])) + 1
    a, tc = points.a_A.to_numpy(dtype=float), points.tc_K.to_numpy(dtype=float)
    if "in_domain" in points:  # no verdict (NULL): inside, as without a domain
        inside = points.in_domain.astype(object).where(points.in_domain.notna(), True)
        inside = inside.astype(bool).to_numpy()
    else:
        inside = np.ones(len(points), dtype=bool)
    formulas = points.formula.to_numpy()
    return [
        _Scan(formulas[rows[0]], a[rows], tc[rows], inside[rows])
        for rows in np.split(order, bounds)
        if len(rows)
    ]


def uniform_scan_points(inputs: ReportInputs) -> pd.DataFrame:
    """Every point of every uniform scan of more than one scale, in every family but the
    (a, c) grid (whose diagonal is not a scan of its own)."""
    return inputs.frame(
        "WITH scans AS (SELECT family, parent_structure_id, substitution_json "
        f"FROM morph_prediction WHERE family <> '{GRID_FAMILY}' "
        "AND lattice_scale = lattice_scale_c GROUP BY ALL HAVING count(*) > 1) "
        "SELECT m.family, m.parent_structure_id, m.substitution_json, m.formula, m.a_A, "
        "m.tc_K, m.in_domain, m.model_run_id FROM morph_prediction AS m JOIN scans USING "
        "(family, parent_structure_id, substitution_json) "
        "WHERE m.lattice_scale = m.lattice_scale_c "
        "ORDER BY m.family, m.parent_structure_id, m.substitution_json, m.a_A"
    )
