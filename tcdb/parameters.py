"""Every parameter of ingestion and curation, with its default, in one place.

Parameters are frozen dataclasses; ``as_dict()`` is what ingest runs, snapshots and model runs
record, so a result can always be traced back to the values that made it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class IngestParameters:
    """How raw records are validated and converted at ingest."""

    # Compositions are keyed by (element, atomic fraction) with fractions rounded to this many
    # decimals, so La1.8Ba0.2CuO4, Ba0.2La1.8Cu1O4 and BaLa9(CuO4)5 are one material.
    fraction_decimals: int = 6
    # Deuterium and tritium are counted as hydrogen (element data exist only for H); the
    # measurement keeps a flag naming the isotope.
    isotopes_as_hydrogen: bool = True
    # T_c outside [tc_min_K, tc_max_K] is rejected as negative or absurd.
    tc_min_K: float = 0.0
    tc_max_K: float = 500.0
    # Ambient-pressure T_c above this is kept but flagged (no such superconductor is confirmed).
    tc_flag_ambient_K: float = 250.0
    # Pressures outside [0, pressure_max_GPa] are rejected.
    pressure_max_GPa: float = 1000.0
    # Amounts below this are rejected (pymatgen cannot represent them reliably).
    amount_min: float = 1e-4
    # Tolerance given to pymatgen's SpacegroupAnalyzer for every structure.
    symprec: float = 0.1
    angle_tolerance_deg: float = 5.0
    # Worker processes for CIF parsing (None: one per core).
    cif_workers: int | None = None
    # Materials Project online queries: compositions per request.
    mp_chunk_size: int = 200
    # Units accepted for T_c in the SuperCon export (compared case-insensitively).
    tc_units: tuple[str, ...] = field(default=("K",))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


INGEST = IngestParameters()
