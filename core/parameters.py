"""Every parameter of ingestion, curation and snapshots, with its default, in one place.

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

HIGH_VARIANCE_POLICIES = ("average", "exclude", "keep-all")

# The SuperCon tables, by the short names the command line takes, and their source ids.
SUPERCON_TABLES: dict[str, str] = {"nims": "nims_supercon", "stanev": "stanev_supercon"}


def label_tables_of(names: str) -> tuple[str, ...]:
    """Source ids of a comma-separated precedence of table names ("stanev,nims"); a name may
    also be given as its source id. Refuses unknown, repeated or no names."""
    known = {**SUPERCON_TABLES, **{sid: sid for sid in SUPERCON_TABLES.values()}}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in known]
    if unknown or not wanted:
        raise ValueError(
            f"label table(s) {', '.join(map(repr, unknown or [names]))} unknown; choose one or "
            f"more of {', '.join(SUPERCON_TABLES)} in order of precedence, such as 'stanev,nims'"
        )
    tables = tuple(known[name] for name in wanted)
    if len(set(tables)) != len(tables):
        raise ValueError(f"label tables {names!r} name a table twice")
    return tables


@dataclass(frozen=True)
class CurationParameters:
    """How measurements become labelled composition groups and structure matches
    (Novakovic et al. 2023, Sec. II; METHODS.md section 1)."""

    # The SuperCon tables grouped, each apart (one group per table and composition): the NIMS
    # export, cleaned as Hamidieh (2018) did, and Stanev et al.'s table, a second cleaning of
    # the same database. Pooling them would count most measurements twice; a snapshot chooses
    # which table labels (SnapshotParameters.label_tables). Matching runs over the compositions
    # of all of them.
    supercon_sources: tuple[str, ...] = tuple(SUPERCON_TABLES.values())
    # Groups whose population variance (ddof = 0) of T_c is at or above this are high-variance.
    variance_cutoff_K2: float = 2.0
    # What a high-variance group gives: its mean (the paper), nothing, or every value.
    high_variance_policy: str = "average"
    # Measurements carrying one of these flags are left out of the groups (with a ledger entry).
    exclude_measurement_flags: tuple[str, ...] = ("tc_implausible_at_ambient",)
    # Rows identical to an earlier row but for the data number are left out of the groups.
    drop_exact_duplicates: bool = False
    # Near matches for doped formulas: a structure whose elements are the material's (or all
    # but one dopant) within this L1 distance of atomic fractions. None: exact matches only.
    near_match_distance: float | None = 0.05
    # Structure sources matched to SuperCon compositions.
    structure_sources: tuple[str, ...] = ("mp_mirror", "mp_api")

    def __post_init__(self) -> None:
        if self.high_variance_policy not in HIGH_VARIANCE_POLICIES:
            raise ValueError(
                f"high_variance_policy {self.high_variance_policy!r} is not one of "
                f"{', '.join(HIGH_VARIANCE_POLICIES)}"
            )
        if self.variance_cutoff_K2 < 0:
            raise ValueError(f"variance_cutoff_K2 {self.variance_cutoff_K2} is negative")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CURATION = CurationParameters()


# The label table(s) of a snapshot unless it names others (tcdb snapshot create --labels).
DEFAULT_LABEL_TABLES: tuple[str, ...] = ("nims_supercon",)


@dataclass(frozen=True)
class SnapshotParameters:
    """What a frozen training set holds; every field is recorded in its manifest."""

    kind: str  # structures | hydrides
    variance_cutoff_K2: float = CURATION.variance_cutoff_K2
    high_variance_policy: str = CURATION.high_variance_policy
    # Structure matches used for labels: exact only unless near matches are asked for.
    match_methods: tuple[str, ...] = ("exact_reduced", "literature_file")
    # Literature methods used for labels; ml_prediction and unknown are left out by default.
    literature_methods: tuple[str, ...] = ("experiment", "dft_harmonic", "dft_anharmonic")
    # Include rows flagged for exclusion (RETRACTED, unresolved, implausible) anyway.
    include_flagged: bool = False
    # Compositions (reduced formulas or material ids) held out entirely.
    exclude_formulas: tuple[str, ...] = field(default=())
    # The SuperCon tables whose groups label, in order of precedence: for each composition the
    # first table with any record of it decides (only 'not superconducting' there: no label).
    label_tables: tuple[str, ...] = DEFAULT_LABEL_TABLES

    def __post_init__(self) -> None:
        if self.kind not in ("structures", "hydrides"):
            raise ValueError(f"snapshot kind {self.kind!r} is not 'structures' or 'hydrides'")
        if not self.variance_cutoff_K2 >= 0:  # NaN fails too
            raise ValueError(
                f"variance_cutoff_K2 {self.variance_cutoff_K2:g} is not a variance (must be >= 0)"
            )
        if self.high_variance_policy not in HIGH_VARIANCE_POLICIES:
            raise ValueError(
                f"high_variance_policy {self.high_variance_policy!r} is not one of "
                f"{', '.join(HIGH_VARIANCE_POLICIES)}"
            )
        tables = SUPERCON_TABLES.values()
        if not self.label_tables or any(t not in tables for t in self.label_tables):
            raise ValueError(
                f"label_tables {self.label_tables!r} must name one or more of "
                f"{', '.join(tables)}, in order of precedence"
            )
        if len(set(self.label_tables)) != len(self.label_tables):
            raise ValueError(f"label_tables {self.label_tables!r} names a table twice")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# The by-time protocol (ml.evaluation.ByTime): train on compositions first reported up to this
# year, test on the later ones; 2007 keeps the iron-based family (Kamihara et al. 2008) out of
# training, as Konno et al. (J. Phys. Soc. Jpn. 90, 2021) asked.
BY_TIME_LAST_TRAINING_YEAR = 2007
# A family member counts as found when predicted above this T_c (and truly high above it).
FAMILY_HIGH_TC_K = 20.0


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
