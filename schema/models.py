"""The tables of the platform, as SQLModel classes; the Alembic migrations create exactly these.

Conventions (see docs/schema.md):
- Keys are natural or hash text keys (DuckDB has no SERIAL).
- Units are in column names: ``tc_K``, ``pressure_GPa``, ``volume_A3``, ``tc_variance_K2``.
- Every row says where it came from: ``source_id`` and ``ingest_run_id`` on ingested rows,
  ``curation_run_id`` on curated ones, ``model_run_id`` on predictions.
- Rows are never deleted by the platform: they carry ``status`` and ``deprecation_reason``, and
  rows that disappear from a later version of a source file get ``retired_run_id``.
- Timestamps are UTC, stored without a zone (TIMESTAMP); ``core.timestamps.utcnow()``
  makes them.
- Structured values (compositions, parameters, metrics) are JSON text in ``*_json`` columns;
  query them with DuckDB's ``json_extract`` or ``::JSON``.
- References between tables are listed in ``schema.references``; they are checked by
  ``schema.integrity`` rather than declared as DuckDB foreign keys, which would forbid updating
  referenced rows and rebuilding tables in later migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Double, Text
from sqlmodel import Field, SQLModel

from tcdb.core.timestamps import utcnow  # noqa: F401  (re-exported: the timestamp columns' form)


def key() -> Any:
    """A text primary key."""
    return Field(primary_key=True)


def real(description: str = "") -> Any:
    """An optional 8-byte float (SQLAlchemy's Float would be DuckDB's 4-byte FLOAT)."""
    return Field(default=None, sa_type=Double, description=description)


def stamp(*, optional: bool = False) -> Any:
    """A naive UTC timestamp (TIMESTAMP); see ``schema.models.utcnow``."""
    if optional:
        return Field(default=None, sa_type=DateTime)
    return Field(sa_type=DateTime)


def text(description: str = "") -> Any:
    """An optional unbounded text column for JSON, CIF and verbatim records."""
    return Field(default=None, sa_type=Text, description=description)


# --------------------------------------------------------------------------------- provenance


class Source(SQLModel, table=True):
    """A dataset, paper, API or hand-curated file that rows come from."""

    __tablename__ = "source"

    id: str = key()  # slug, e.g. "nims_supercon"
    kind: str  # dataset | paper | api | curated
    title: str
    citation: str | None = None
    licence: str | None = None
    doi: str | None = None
    url: str | None = None
    path: str | None = None  # relative to the sources folder (TCDB_SOURCES) or the repository
    file_sha256: str | None = None  # content hash of the file last ingested
    size_bytes: int | None = None
    registered_at: datetime = stamp()
    updated_at: datetime | None = stamp(optional=True)


class IngestRun(SQLModel, table=True):
    """One ingestion of one source file (or one online query)."""

    __tablename__ = "ingest_run"

    id: str = key()
    source_id: str
    file_path: str | None = None
    file_sha256: str | None = None
    database_version: str | None = None  # e.g. the Materials Project release an API reported
    previous_run_id: str | None = None
    status: str  # running | succeeded | unchanged | failed
    n_records: int | None = None  # records in the file
    n_loaded: int | None = None
    n_rejected: int | None = None
    n_unchanged: int | None = None
    n_retired: int | None = None  # records of the previous version no longer in the file
    # Since revision 0012: the most records its source has had active since retirements were
    # last accepted, this run's included (the base of the retirement rule in ingest/runs.py).
    active_high_water: int | None = None
    parameters_json: str | None = text()
    message: str | None = text()
    tcdb_version: str
    code_revision: str | None = None
    started_at: datetime = stamp()
    finished_at: datetime | None = stamp(optional=True)


class IngestRejection(SQLModel, table=True):
    """A source record that could not be loaded, with the reason; nothing is dropped silently."""

    __tablename__ = "ingest_rejection"

    id: str = key()
    ingest_run_id: str
    source_id: str
    file_path: str | None = None
    record_ref: str  # line number in the file, or a file name inside an archive
    reason_code: str  # short, countable: "variable_amount", "unknown_unit", ...
    reason: str = Field(sa_type=Text)  # one sentence naming what was wrong
    raw_json: str | None = text("the record as read")
    created_at: datetime = stamp()


# ------------------------------------------------------------------------------ raw, verbatim


class RawNimsSupercon(SQLModel, table=True):
    """A row of the NIMS SuperCon export, every field kept as the text in the file."""

    __tablename__ = "raw_nims_supercon"

    id: str = key()  # hash of source, row content and occurrence
    source_id: str
    ingest_run_id: str
    line_number: int  # 1-based line in the file
    num: str | None = None
    name: str | None = None
    element: str | None = None
    str3: str | None = None
    utc: str | None = None
    tc: str | None = None
    journal: str | None = None
    retired_run_id: str | None = None
    # The year read from ``journal`` (core.references.reference_year); NULL when it states none.
    reference_year: int | None = None


class RawStanevSupercon(SQLModel, table=True):
    """A row of Stanev et al.'s cleaned SuperCon table, kept as the text in the file."""

    __tablename__ = "raw_stanev_supercon"

    id: str = key()
    source_id: str
    ingest_run_id: str
    line_number: int
    name: str | None = None
    tc: str | None = None
    retired_run_id: str | None = None


class LiteratureEntry(SQLModel, table=True):
    """A hydride data point from the literature: one (material, phase, pressure)."""

    __tablename__ = "literature_entry"

    id: str = key()
    source_id: str
    ingest_run_id: str | None = None
    line_number: int | None = None
    added_by: str  # source_file | curation (tcdb curate add-entry)
    formula: str
    material_id: str | None = None
    elements: str | None = None  # ";"-separated, as in the source
    n_h_per_host: float | None = real("hydrogen atoms per non-hydrogen atom")
    space_group: str | None = None
    phase: str | None = None
    pressure_GPa: float | None = real("representative pressure")
    pressure_low_GPa: float | None = real()
    pressure_high_GPa: float | None = real()
    tc_K: float | None = real("representative T_c (mean of a range)")
    tc_low_K: float | None = real()
    tc_high_K: float | None = real()
    mu_star: float | None = real()
    mu_star_low: float | None = real()
    mu_star_high: float | None = real()
    method: str | None = (
        None  # experiment | dft_harmonic | dft_anharmonic | ml_prediction | unknown
    )
    reference: str | None = text()
    doi: str | None = None
    read_in: str | None = text()
    flags: str | None = None  # ";"-separated machine-readable caveats
    notes: str | None = text()
    structure_file: str | None = None
    structure_id: str | None = None
    excluded_from_training: bool = False
    exclusion_reason: str | None = None
    status: str = "active"  # active | deprecated
    deprecation_reason: str | None = None
    raw_json: str | None = text("the record as read")
    retired_run_id: str | None = None
    created_at: datetime = stamp()


# ---------------------------------------------------------------------------------- curated


class Material(SQLModel, table=True):
    """A composition, keyed by its normalised (element, fraction) pairs, not a formula string."""

    __tablename__ = "material"

    id: str = key()  # hash of the normalised composition
    reduced_formula: str
    composition_json: str = Field(sa_type=Text)  # element -> amount (reduced)
    fractions_json: str = Field(sa_type=Text)  # element -> atomic fraction (sums to 1)
    chemical_system: str  # "Ba-Cu-La-O"
    n_elements: int
    hydrogen_fraction: float = Field(sa_type=Double)  # atomic fraction of H
    hydride_host: str | None = None  # E when the material is a binary hydride EH_n
    h_per_host: float | None = real("n of EH_n")
    created_at: datetime = stamp()


class Measurement(SQLModel, table=True):
    """One observation of a material's T_c, or of its not superconducting (censored)."""

    __tablename__ = "measurement"

    id: str = key()
    material_id: str
    source_id: str
    origin_table: str  # raw_nims_supercon | raw_stanev_supercon | literature_entry
    origin_id: str
    ingest_run_id: str | None = None
    curation_run_id: str | None = None
    tc_kind: str  # value | range | not_superconducting (censored: no T_c observed)
    tc_K: float | None = real("T_c, or the mean of a range; NULL when not superconducting")
    tc_low_K: float | None = real()
    tc_high_K: float | None = real()
    tc_upper_bound_K: float | None = real("for a censored observation, the lowest T tested")
    pressure_GPa: float | None = real("NULL when the source states none (ambient for SuperCon)")
    pressure_low_GPa: float | None = real()
    pressure_high_GPa: float | None = real()
    mu_star: float | None = real()
    space_group: str | None = None
    phase: str | None = None
    structure_type: str | None = None
    method: str | None = None
    flags: str | None = None
    status: str = "active"  # active | excluded | deprecated
    deprecation_reason: str | None = None
    deprecated_at: datetime | None = stamp(optional=True)
    created_at: datetime = stamp()


class CrystalStructure(SQLModel, table=True):
    """A crystal structure with its lattice, symmetry and the pressure it belongs to."""

    __tablename__ = "crystal_structure"

    id: str = key()  # e.g. "mp-1234", "literature:200GPa_Fm-3m_MgH13"
    source_id: str
    source_record_id: str  # MP id or file name in the source
    ingest_run_id: str | None = None
    database_version: str | None = None
    material_id: str | None = None
    formula: str
    reduced_formula: str
    n_sites: int
    a_A: float = Field(sa_type=Double)
    b_A: float = Field(sa_type=Double)
    c_A: float = Field(sa_type=Double)
    alpha_deg: float = Field(sa_type=Double)
    beta_deg: float = Field(sa_type=Double)
    gamma_deg: float = Field(sa_type=Double)
    volume_A3: float = Field(sa_type=Double)
    density_g_cm3: float | None = real()
    spacegroup_number: int | None = None
    spacegroup_symbol: str | None = None
    symprec: float | None = real("tolerance given to SpacegroupAnalyzer")
    pressure_GPa: float | None = real("NULL for ambient/unknown (Materials Project)")
    structure_json: str = Field(sa_type=Text)  # pymatgen Structure.as_dict()
    cif_text: str | None = text()
    content_sha256: str
    status: str = "active"
    deprecation_reason: str | None = None
    retired_run_id: str | None = None
    created_at: datetime = stamp()


class StructureMatch(SQLModel, table=True):
    """A link between a material and a structure, with how it was made."""

    __tablename__ = "structure_match"

    id: str = key()
    material_id: str
    structure_id: str
    method: str  # exact_reduced | near_composition | literature_file
    composition_distance: float = Field(sa_type=Double)
    tolerance: float | None = real()
    curation_run_id: str | None = None
    status: str = "active"
    created_at: datetime = stamp()


class CurationRun(SQLModel, table=True):
    """One pass of the curation steps with its parameters."""

    __tablename__ = "curation_run"

    id: str = key()
    parameters_json: str = Field(sa_type=Text)
    summary_json: str | None = text()
    status: str
    tcdb_version: str
    code_revision: str | None = None
    started_at: datetime = stamp()
    finished_at: datetime | None = stamp(optional=True)


class CurationLedger(SQLModel, table=True):
    """What a curation step excluded, merged, flagged or deprecated, and why."""

    __tablename__ = "curation_ledger"

    id: str = key()
    curation_run_id: str | None = None
    stage: str
    subject_table: str
    subject_id: str
    action: str  # exclude | merge | flag | deprecate | add | label | retire | restore
    reason: str = Field(sa_type=Text)
    parameters_json: str | None = text()
    created_at: datetime = stamp()


class CompositionGroup(SQLModel, table=True):
    """The measurements of one composition in one SuperCon table, their statistics and the
    label they give."""

    __tablename__ = "composition_group"

    id: str = key()
    curation_run_id: str
    material_id: str
    label_table: str  # the SuperCon source the group's measurements come from
    n_measurements: int
    n_values: int
    n_not_superconducting: int
    tc_mean_K: float | None = real()
    tc_variance_K2: float | None = real("population variance (ddof = 0)")
    tc_min_K: float | None = real()
    tc_max_K: float | None = real()
    values_json: str | None = text("the T_c values grouped, in K")
    high_variance: bool = False
    label_tc_K: float | None = real("the label a snapshot uses under its policy")
    label_policy: str | None = None
    created_at: datetime = stamp()


# ----------------------------------------------------------------------- snapshots and models


class Snapshot(SQLModel, table=True):
    """A frozen, content-hashed training set on disk (Parquet + manifest.json)."""

    __tablename__ = "snapshot"

    id: str = key()  # content hash of the frozen files and parameters
    name: str
    kind: str  # structures | hydrides
    path: str
    parameters_json: str = Field(sa_type=Text)
    manifest_json: str = Field(sa_type=Text)
    n_entries: int
    n_structures: int
    curation_run_id: str | None = None
    tcdb_version: str
    code_revision: str | None = None
    created_at: datetime = stamp()


class ModelRun(SQLModel, table=True):
    """One training of one model on one snapshot."""

    __tablename__ = "model_run"

    id: str = key()
    model: str  # hydride-mlp | hydride-linear | composition | cvcnn
    snapshot_id: str
    profile: str | None = None  # quick | paper
    seed: int
    config_json: str = Field(sa_type=Text)
    metrics_json: str | None = text()
    manifest_json: str | None = text()
    manifest_sha256: str | None = None  # of manifest.json, which lists every artefact's hash
    artefact_path: str | None = None
    library_versions_json: str | None = text()
    status: str
    tcdb_version: str
    code_revision: str | None = None
    started_at: datetime = stamp()
    finished_at: datetime | None = stamp(optional=True)


class MorphCandidate(SQLModel, table=True):
    """A structure made from a reference structure by substituting sites and scaling."""

    __tablename__ = "morph_candidate"

    id: str = key()  # hash of parent, substitution and scale
    parent_structure_id: str
    family: str  # xh3 | mgh13-xy | xyh36 | li2mgh16-random | dome | ac-grid
    substitution_json: str = Field(sa_type=Text)  # site label -> element
    x_element: str | None = None
    y_element: str | None = None
    lattice_scale: float = Field(default=1.0, sa_type=Double)  # of a and b
    lattice_scale_c: float | None = real("scale of c (equal to lattice_scale in a uniform scan)")
    a_A: float | None = real()
    c_A: float | None = real()
    formula: str
    structure_json: str | None = text()
    created_at: datetime = stamp()


class Prediction(SQLModel, table=True):
    """A model run's prediction for one subject: a structure, a material, an EH_n or a morph."""

    __tablename__ = "prediction"

    id: str = key()  # hash of model run and subject
    model_run_id: str
    # structure | material | hydride | hydride_query | literature_entry | input_structure |
    # composition | morph
    subject_kind: str
    subject_id: str
    material_id: str | None = None
    structure_id: str | None = None
    formula: str | None = None
    tc_K: float | None = real()
    tc_std_K: float | None = real("spread of the ensemble members")
    pressure_GPa: float | None = real()
    pressure_std_GPa: float | None = real()
    distance_to_ambient: float | None = real("D = |P/GPa| + |T_c/K - 293|")
    # hydride predictions only (NULL for models without an applicability domain)
    distance_std: float | None = real("spread of the members' own D")
    in_domain: bool | None = None
    domain_reason: str | None = text("every failed domain check; NULL when in domain")
    input_path: str | None = None
    extra_json: str | None = text()
    created_at: datetime = stamp()


class Evaluation(SQLModel, table=True):
    """A model run scored on a labelled set it was not trained on (``tcdb evaluate``)."""

    __tablename__ = "evaluation"

    id: str = key()  # hash of model run and the inputs' content hash
    model_run_id: str
    protocol: str  # external
    inputs_sha256: str  # of every scored structure's content hash with its label, in order
    inputs_json: str = Field(sa_type=Text)  # the paths given, relative to the working folder
    n: int  # structures scored
    metrics_json: str = Field(sa_type=Text)  # overall and per T_c band, rejections counted
    plot_path: str | None = None  # the parity plot (PNG) beside the database
    created_at: datetime = stamp()


class ScreeningJob(SQLModel, table=True):
    """A screening cut into shards (``--engine ray``): what it predicts, with which run, where
    its Parquet shards are; run again, it does only the shards not yet finished."""

    __tablename__ = "screening_job"

    id: str = key()  # a hash of the command, run and inputs, or the --job given
    command: str  # morph | predict | hydride
    model_run_id: str
    engine: str  # ray (address in inputs_json)
    shards: int  # how many the job is cut into
    folder: str  # the job folder of Parquet shards beside the database
    inputs_json: str = Field(sa_type=Text)  # what the id was made of: inputs and parameters
    created_at: datetime = stamp()
    finished_at: datetime | None = stamp(optional=True)


class ScreeningShard(SQLModel, table=True):
    """One finished shard of a screening job: its rows are in the database; loading it again
    adds nothing (its key is made of job and shard)."""

    __tablename__ = "screening_shard"

    id: str = key()  # "job#shard" (shard as 6 digits): one row per job and shard
    job_id: str
    shard: int
    predicted: int  # prediction rows the shard holds
    rejected: int  # inputs it could not predict, each with the reason in the shard's Parquet
    finished_at: datetime = stamp()


class ScreeningShardManifest(SQLModel, table=True):
    """The SHA-256 of a shard's ``manifest.json``, recorded by the job before its Parquet
    files are renamed into place: a shard folder is loaded or read only when its manifest has
    this hash and its files the hashes the manifest lists, so a file written into the job
    folder by anyone else is refused."""

    __tablename__ = "screening_shard_manifest"

    id: str = key()  # "job#shard" (shard as 6 digits), as screening_shard
    job_id: str
    shard: int
    manifest_sha256: str
    written_at: datetime = stamp()


TABLES: tuple[type[SQLModel], ...] = (
    Source,
    IngestRun,
    IngestRejection,
    RawNimsSupercon,
    RawStanevSupercon,
    LiteratureEntry,
    Material,
    Measurement,
    CrystalStructure,
    StructureMatch,
    CurationRun,
    CurationLedger,
    CompositionGroup,
    Snapshot,
    ModelRun,
    MorphCandidate,
    Prediction,
    Evaluation,
    ScreeningJob,
    ScreeningShard,
    ScreeningShardManifest,
)
