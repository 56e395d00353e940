"""Bounds on the physical values every source and every hand-made entry must respect.

One place for the checks, so that the NIMS and Stanev tables, the literature CSV, the curated
entries replayed by ingest and ``tcdb curate add-entry`` refuse the same values with the same
reason codes. NaN slips through ``<`` and ``>`` comparisons (both are false), so finiteness is
checked first. The bounds are ``IngestParameters`` fields (core/parameters.py).
"""

from __future__ import annotations

import math

from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection

REASON_CODES: dict[str, str] = {
    "non_finite_tc": "T_c is NaN or infinite",
    "negative_tc": "T_c below tc_min_K (0 K)",
    "tiny_tc": "a positive T_c below tc_floor_K (a typing error or a denormal such as 1e-300)",
    "absurd_tc": "T_c above tc_max_K",
    "non_finite_pressure": "pressure is NaN or infinite",
    "negative_pressure": "pressure below 0 GPa",
    "tiny_pressure": "a positive pressure below pressure_floor_GPa",
    "absurd_pressure": "pressure above pressure_max_GPa",
    "non_finite_mu_star": "mu* is NaN or infinite",
    "negative_mu_star": "mu* below mu_star_min (0)",
    "absurd_mu_star": "mu* above mu_star_max",
}
"""Every ``reason_code`` the checks here return, with what it means."""


def _check_bounds(
    label: str, code: str, value: float, low: float, high: float, floor: float, unit: str = ""
) -> Rejection | None:
    """None for a finite ``value`` in [low, high] that is 0 or at least ``floor``, else why
    not, under the reason codes ``non_finite_``, ``negative_``, ``absurd_`` or ``tiny_`` +
    ``code``."""
    u = f" {unit}" if unit else ""
    if not math.isfinite(value):
        return Rejection(f"non_finite_{code}", f"{label} {value!r} is not a finite number")
    if value < low:
        return Rejection(f"negative_{code}", f"{label} {value:g}{u} is below {low:g}{u}")
    if value > high:
        return Rejection(f"absurd_{code}", f"{label} {value:g}{u} is above {high:g}{u}")
    if 0 < value < floor:
        return Rejection(
            f"tiny_{code}", f"{label} {value:g}{u} is above 0 but below the floor of {floor:g}{u}"
        )
    return None


def check_tc(value: float, params: IngestParameters = INGEST) -> Rejection | None:
    """None for a plausible T_c in K (0 means not superconducting), else why it is not."""
    return _check_bounds(
        "T_c", "tc", value, params.tc_min_K, params.tc_max_K, params.tc_floor_K, "K"
    )


def check_pressure(value: float, params: IngestParameters = INGEST) -> Rejection | None:
    """None for a plausible pressure in GPa (0 is ambient), else why it is not."""
    return _check_bounds(
        "pressure", "pressure", value, 0.0, params.pressure_max_GPa, params.pressure_floor_GPa,
        "GPa",
    )  # fmt: skip


def check_mu_star(value: float, params: IngestParameters = INGEST) -> Rejection | None:
    """None for a plausible Coulomb pseudopotential mu*, else why it is not."""
    return _check_bounds("mu*", "mu_star", value, params.mu_star_min, params.mu_star_max, 0.0)


def first_problem(
    check, values: list[float | None], params: IngestParameters = INGEST
) -> Rejection | None:
    """The first rejection ``check`` gives for any of the values that are present."""
    for value in values:
        if value is None:
            continue
        problem = check(value, params)
        if problem is not None:
            return problem
    return None
