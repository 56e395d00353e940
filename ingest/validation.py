"""Bounds on the physical values every source and every hand-made entry must respect.

One place for the checks, so that the NIMS and Stanev tables, the literature CSV, the curated
entries replayed by ingest and ``tcdb curate add-entry`` refuse the same values with the same
reason codes. NaN slips through ``<`` and ``>`` comparisons (both are false), so finiteness is
checked first. The bounds are ``IngestParameters`` fields (tcdb/parameters.py).
"""

from __future__ import annotations

import math

from ingest.records import Rejection
from tcdb.parameters import INGEST, IngestParameters

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


def check_tc(value: float, params: IngestParameters = INGEST) -> Rejection | None:
    """None for a plausible T_c in K (0 means not superconducting), else why it is not."""
    if not math.isfinite(value):
        return Rejection("non_finite_tc", f"T_c {value!r} is not a finite number")
    if value < params.tc_min_K:
        return Rejection("negative_tc", f"T_c {value:g} K is negative")
    if value > params.tc_max_K:
        return Rejection("absurd_tc", f"T_c {value:g} K is above {params.tc_max_K:g} K")
    if 0 < value < params.tc_floor_K:
        return Rejection(
            "tiny_tc", f"T_c {value:g} K is above 0 but below the floor of {params.tc_floor_K:g} K"
        )
    return None


def check_pressure(value: float, params: IngestParameters = INGEST) -> Rejection | None:
    """None for a plausible pressure in GPa (0 is ambient), else why it is not."""
    if not math.isfinite(value):
        return Rejection("non_finite_pressure", f"pressure {value!r} is not a finite number")
    if value < 0:
        return Rejection("negative_pressure", f"pressure {value:g} GPa is negative")
    if value > params.pressure_max_GPa:
        return Rejection(
            "absurd_pressure",
            f"pressure {value:g} GPa is above {params.pressure_max_GPa:g} GPa",
        )
    if 0 < value < params.pressure_floor_GPa:
        return Rejection(
            "tiny_pressure",
            f"pressure {value:g} GPa is above 0 but below the floor of "
            f"{params.pressure_floor_GPa:g} GPa",
        )
    return None


def check_mu_star(value: float, params: IngestParameters = INGEST) -> Rejection | None:
    """None for a plausible Coulomb pseudopotential mu*, else why it is not."""
    if not math.isfinite(value):
        return Rejection("non_finite_mu_star", f"mu* {value!r} is not a finite number")
    if value < params.mu_star_min:
        return Rejection("negative_mu_star", f"mu* {value:g} is below {params.mu_star_min:g}")
    if value > params.mu_star_max:
        return Rejection("absurd_mu_star", f"mu* {value:g} is above {params.mu_star_max:g}")
    return None


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
