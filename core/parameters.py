"""The parameters several layers check, with their defaults: the domain's own.

``IngestParameters`` holds the bounds of T_c, pressure and mu*, how amounts become
compositions, the symmetry tolerances and the limits on what is read. Ingest records it with
every run and checks every record against it, and so do the layers that cannot import ingest:
this core's readers of compositions and structures, the models' structure inputs and the
labels ``tcdb evaluate`` reads (``ml``), and the bounds of a screening job's shards
(``store.screening_jobs``). ``DomeParameters`` says when a lattice scan is a dome, judged by
``core.scan_shapes`` for both the morph runs and the report. Every other parameter lives with
the layer or model that uses it (its ``parameters.py``; docs/architecture.md, "Where
parameters live").

Parameters are frozen dataclasses; ``as_dict()`` is what runs record, so a result can always
be traced back to the values that made it.
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
    # T_c outside [tc_min_K, tc_max_K] is rejected as negative or absurd, and so is NaN or an
    # infinity. 0 means "not superconducting"; a positive T_c below tc_floor_K (0.1 mK, under the
    # lowest T_c measured, Rh at 0.3 mK) is a typing error or a denormal such as 1e-300.
    tc_min_K: float = 0.0
    tc_max_K: float = 500.0
    tc_floor_K: float = 1e-4
    # Ambient-pressure T_c above this is kept but flagged (no such superconductor is confirmed).
    tc_flag_ambient_K: float = 250.0
    # Pressures outside [0, pressure_max_GPa] are rejected, and so is NaN or an infinity; 0 is
    # ambient, and a positive pressure below pressure_floor_GPa (1 kPa, a thousandth of an
    # atmosphere) is a typing error or a denormal.
    pressure_max_GPa: float = 1000.0
    pressure_floor_GPa: float = 1e-6
    # The Coulomb pseudopotential mu* is dimensionless; values outside [mu_star_min,
    # mu_star_max] (the literature uses 0.08-0.2) are rejected, and so is NaN or an infinity.
    mu_star_min: float = 0.0
    mu_star_max: float = 0.5
    # A source file that would retire more than this share of its source's active records (a
    # truncated or header-only file), or leave fewer than (1 - this) of the most records the
    # source has had active since retirements were last accepted (its high-water mark, so that
    # two steps of 18 % are refused too), is refused unless the user accepts it
    # (--accept-retirements, which resets the mark); nothing of it is written.
    max_retired_share: float = 0.2
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
    # Limits on what is read (core/safe_reads.py; docs/ingest.md, "Files that are read"). A
    # structure with more sites than this is refused before pymatgen expands or searches it
    # (the largest real one, mp-1196583, has 240; parsing is quadratic in the sites: 2,000
    # take 0.7 s, 20,000 take 100 s).
    max_structure_sites: int = 2000
    # One structure's text (a CIF, a POSCAR, an archive member, a JSON-lines row): the largest
    # real CIF is 6 KB and 2,000 sites in P1 take about 100 KB; pymatgen reads a
    # megabyte of CIF in about 0.8 s before its sites can be counted.
    max_structure_bytes: int = 1 << 20
    # A JSON file of many structures given to tcdb predict or evaluate, read whole.
    max_structure_list_bytes: int = 256 << 20
    # A source table (TSV, CSV), read whole: the NIMS export is 2 MB.
    max_table_bytes: int = 256 << 20
    # Every member of the Materials Project archive together, as declared by their headers
    # (the real archive unpacks to 5.8 MB); more refuses the archive before it is unpacked.
    # A member refused by its header is still decompressed to be skipped (about 15 ms/MiB).
    max_archive_bytes: int = 64 << 20

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


INGEST = IngestParameters()


@dataclass(frozen=True)
class DomeParameters:
    """When T_c along a lattice scan counts as a dome (``core.scan_shapes``).

    Our choice, the paper states none: the maximum must lie strictly inside the scan and stand
    above both ends (on an (a, c) grid, above every edge point) by more than ``tolerance_K``;
    the same tolerance decides whether a curve is flat, rising or falling. A scan needs at
    least ``min_points`` points (three: two ends and one inside) to be judged at all.
    """

    tolerance_K: float = 1.0
    min_points: int = 3

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DOME = DomeParameters()
