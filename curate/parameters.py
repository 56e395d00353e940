"""Curation's parameters, with their defaults: how measurements become labelled composition
groups and structure matches, which SuperCon tables label, and what a snapshot holds.

Why here: only curation and the snapshot command use them. The store and the models read a
snapshot's parameters back from its manifest, never from this class. ``SnapshotParameters``
keeps its name, fields, order and defaults: ``as_dict()`` is recorded in every manifest and
hashed into the snapshot's id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

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
