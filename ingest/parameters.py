"""Ingest's own parameters, with their defaults: when a point added by hand is one already
in the database.

Why here: only ``ingest.hand_entries`` uses them. The bounds and limits every record is
checked against (``IngestParameters``) stay in ``core.parameters``: the domain core's readers
of compositions and structures and the labels ``tcdb evaluate`` reads check the same values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class HandEntryParameters:
    """When ``tcdb curate add-entry`` treats a new point as one already in the database.

    Points are compared on the physics, not on the text: the same composition, a pressure and a
    T_c within these tolerances, and the same DOI (or, when either point has no DOI, whatever
    the reference and space-group texts say). Reports of one measurement differ by rounding and
    by reading a figure: Drozdov's LaH10 is quoted as 250 K and as 252 K at 170 GPa.
    """

    duplicate_tc_tolerance_K: float = 5.0
    duplicate_pressure_tolerance_GPa: float = 5.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


HAND_ENTRIES = HandEntryParameters()
