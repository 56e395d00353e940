"""SuperCon: the NIMS export and Stanev et al.'s cleaned table.

Read: the file's lines as text fields (I/O only). Parse: a pure function from one row to a
material and a measurement, or a rejection with its reason. Every row of the NIMS file is kept
verbatim in ``raw_nims_supercon`` whether it parses or not, so rows loaded + rows rejected =
rows in the file.

Decisions (see docs/ingest.md):
- T_c = 0 is "not superconducting" in both tables: a censored observation (``tc_kind =
  'not_superconducting'``, ``tc_K`` NULL), never a T_c of 0 K.
- NIMS rows identical in every field but the data number are kept (they are distinct records
  of the source) and flagged ``duplicate_of_line_N`` so that curation can choose.
- SuperCon states no pressure: ``pressure_GPa`` is NULL (ambient or unknown).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tcdb.core.composition import NormalisedComposition, normalise
from tcdb.core.hashing import record_id
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import ParsedFormula, Rejection
from tcdb.core.references import reference_year
from tcdb.core.supercon_formula import parse_supercon_formula
from tcdb.core.text import SourceText, read_source_text, storable
from tcdb.ingest.runs import Batch, MalformedSourceError, RejectedRecord, SourceFileError
from tcdb.ingest.source_info import SourceInfo
from tcdb.ingest.validation import check_tc
from tcdb.schema.bulk import rows_table

log = logging.getLogger(__name__)

NIMS_COLUMNS = ("num", "name", "element", "str3", "utc", "tc", "journal")
NIMS_HEADER_LINES = 3
STANEV_COLUMNS = ("name", "Tc")


# ------------------------------------------------------------------------------------ read


def read_nims(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every data row; the three header lines are checked."""
    return _nims_rows(_read_source(path))


def read_stanev(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every data row after the header ``name,Tc``."""
    return _stanev_rows(_read_source(path))


def _nims_rows(source: SourceText) -> list[tuple[int, list[str]]]:
    lines = source.lines()
    if len(lines) < NIMS_HEADER_LINES or lines[2].split("\t") != list(NIMS_COLUMNS):
        found = storable(lines[2]) if len(lines) > 2 else "(fewer than three lines)"
        raise MalformedSourceError(
            f"{source.path}: line 3 should name the columns {' '.join(NIMS_COLUMNS)}, "
            f"found {found!r}"
        )
    return [
        (number, line.split("\t"))
        for number, line in enumerate(lines[NIMS_HEADER_LINES:], start=NIMS_HEADER_LINES + 1)
        if line.strip()
    ]


def _stanev_rows(source: SourceText) -> list[tuple[int, list[str]]]:
    lines = source.lines()
    if not lines or lines[0].strip().split(",") != list(STANEV_COLUMNS):
        found = storable(lines[0]) if lines else "(an empty file)"
        raise MalformedSourceError(
            f"{source.path}: the first line should be 'name,Tc', found {found!r}"
        )
    return [
        (number, line.rsplit(",", 1))
        for number, line in enumerate(lines[1:], start=2)
        if line.strip()
    ]


def _read_source(path: Path) -> SourceText:
    """The file as UTF-8 text (a byte-order mark is accepted; bad bytes reject their rows)."""
    try:
        return read_source_text(path)
    except FileNotFoundError:
        raise SourceFileError(f"Source file {path} does not exist; check TCDB_SOURCES") from None


# ----------------------------------------------------------------------------------- parse


@dataclass(frozen=True)
class ParsedRow:
    """A row that resolved: its composition, its T_c observation and the caveats."""

    composition: NormalisedComposition
    tc_kind: str
    tc_K: float | None
    flags: tuple[str, ...]


def parse_tc(text: str, params: IngestParameters = INGEST) -> tuple[str, float | None] | Rejection:
    """('value', T_c) or ('not_superconducting', None) for T_c = 0; NaN, infinite, negative,
    tiny and absurd values are rejected (ingest/validation.py)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return Rejection("bad_tc", f"T_c {text!r} is not a number")
    problem = check_tc(value, params)
    if problem is not None:
        return problem
    if value == 0:
        return ("not_superconducting", None)
    return ("value", value)


def parse_unit(text: str, params: IngestParameters = INGEST) -> tuple[str, ...] | Rejection:
    """Flags for an accepted T_c unit (a lower-case 'k' is read as kelvin), or a rejection."""
    unit = text.strip()
    if unit in params.tc_units:
        return ()
    if unit.upper() in params.tc_units:
        return (f"unit_{unit}_read_as_{unit.upper()}",)
    return Rejection("unknown_unit", f"unknown T_c unit {text!r} (expected K)")


@lru_cache(maxsize=65536)
def parse_composition(
    formula: str, params: IngestParameters = INGEST
) -> tuple[NormalisedComposition, tuple[str, ...]] | Rejection:
    """SuperCon notation → normalised composition and flags for what was cleaned.

    Cached: SuperCon repeats formulas, and the result depends only on the text and parameters."""
    parsed = parse_supercon_formula(formula)
    if isinstance(parsed, Rejection):
        return parsed
    composition = normalise(parsed.amounts, params)
    if isinstance(composition, Rejection):
        return composition
    return composition, _formula_flags(parsed, composition)


def _formula_flags(parsed: ParsedFormula, composition: NormalisedComposition) -> tuple[str, ...]:
    flags = []
    if parsed.notes:
        flags.append("formula_cleaned")
    flags += [f"isotope_{iso}_as_H" for iso in composition.isotopes]
    return tuple(flags)


def parse_nims_row(fields: list[str], params: IngestParameters = INGEST) -> ParsedRow | Rejection:
    """One NIMS row (num, name, element, str3, utc, tc, journal) → parsed row or rejection."""
    if len(fields) != len(NIMS_COLUMNS):
        return Rejection(
            "malformed_row", f"{len(fields)} tab-separated fields where {len(NIMS_COLUMNS)} belong"
        )
    record = dict(zip(NIMS_COLUMNS, fields, strict=True))
    unit_flags = parse_unit(record["utc"], params)
    if isinstance(unit_flags, Rejection):
        return unit_flags
    return _parse_formula_and_tc(record["element"], record["tc"], unit_flags, params)


def parse_stanev_row(fields: list[str], params: IngestParameters = INGEST) -> ParsedRow | Rejection:
    """One Stanev row (name, Tc) → parsed row or rejection."""
    if len(fields) != len(STANEV_COLUMNS):
        return Rejection("malformed_row", f"{len(fields)} comma-separated fields where 2 belong")
    return _parse_formula_and_tc(fields[0], fields[1], (), params)


def _parse_formula_and_tc(
    formula: str, tc_text: str, flags: tuple[str, ...], params: IngestParameters
) -> ParsedRow | Rejection:
    tc = parse_tc(tc_text, params)
    if isinstance(tc, Rejection):
        return tc
    resolved = parse_composition(formula, params)
    if isinstance(resolved, Rejection):
        return resolved
    composition, formula_flags = resolved
    tc_kind, tc_K = tc
    extra = ()
    if tc_K is not None and tc_K > params.tc_flag_ambient_K:
        extra = ("tc_implausible_at_ambient",)
    return ParsedRow(composition, tc_kind, tc_K, flags + formula_flags + extra)


# ------------------------------------------------------------------------------------ batch


def _measurement(
    parsed: ParsedRow, source: SourceInfo, origin_table: str, origin_id: str, **extra
) -> dict:
    return {
        "id": record_id("meas", origin_table, origin_id),
        "material_id": parsed.composition.material_id,
        "source_id": source.id,
        "origin_table": origin_table,
        "origin_id": origin_id,
        "ingest_run_id": None,
        "tc_kind": parsed.tc_kind,
        "tc_K": parsed.tc_K,
        "method": "experiment",
        "flags": ";".join(parsed.flags) or None,
        "status": "active",
        "created_at": None,
        **extra,
    }


def _raw_id(source: SourceInfo, line: str, occurrence: int) -> str:
    return record_id("raw", source.id, line, occurrence)


@dataclass(frozen=True)
class RawTable:
    """How one SuperCon file's rows are kept verbatim and parsed."""

    table: str  # the raw table holding every row
    columns: tuple[str, ...]  # its columns, in the file's order
    separator: str
    parse: Callable[[list[str], IngestParameters], ParsedRow | Rejection]
    flag_duplicates: bool = False  # flag rows repeating an earlier row but for the first field
    structure_type_field: int | None = None
    # Columns derived from a row's fields, stored beside them (the NIMS reference's year).
    derived: Callable[[dict[str, str | None]], dict] | None = None


def nims_derived(record: dict[str, str | None]) -> dict:
    """The year of a NIMS row's reference (``core.references.reference_year``), or None."""
    return {"reference_year": reference_year(record.get("journal"))}


NIMS_TABLE = RawTable(
    "raw_nims_supercon", NIMS_COLUMNS, "\t", parse_nims_row,
    flag_duplicates=True, structure_type_field=3, derived=nims_derived,
)  # fmt: skip
STANEV_TABLE = RawTable("raw_stanev_supercon", ("name", "tc"), ",", parse_stanev_row)


def build_raw_batch(
    path: Path,
    source: SourceInfo,
    spec: RawTable,
    rows: list[tuple[int, list[str]]],
    params: IngestParameters,
    fingerprint: str,
    source_text: SourceText | None = None,
) -> Batch:
    """Every row kept verbatim; the ones that parse give a material and a measurement. A row
    with a byte that is not UTF-8 is stored with the byte as ``\\xNN`` and rejected.
    ``fingerprint`` is the file's hash, computed once by the caller."""
    raw, measurements, rejected, accepted = [], [], [], []
    compositions: dict[str, NormalisedComposition] = {}
    first_line_of: dict[tuple, int] = {}
    seen: dict[str, int] = {}
    width = len(spec.columns)
    bad_bytes = source_text is not None and bool(source_text.bad_lines)  # else skip the scans
    for line_number, fields in rows:
        undecodable = None
        if bad_bytes:
            undecodable = source_text.rejection(line_number, fields)
            fields = [storable(f) for f in fields]
        line = spec.separator.join(fields)
        seen[line] = seen.get(line, 0) + 1
        raw_id = _raw_id(source, line, seen[line])
        padded = ([*fields] + [None] * width)[:width]
        record = dict(zip(spec.columns, padded, strict=True))
        raw.append(
            {"id": raw_id, "source_id": source.id, "ingest_run_id": None,
             "line_number": line_number} | record
            | (spec.derived(record) if spec.derived else {})
        )  # fmt: skip
        parsed = undecodable or spec.parse(fields, params)
        if isinstance(parsed, Rejection):
            rejected.append(RejectedRecord(f"line {line_number}", parsed, {"fields": fields}))
            continue
        if spec.flag_duplicates:
            key = tuple(fields[1:])
            if key in first_line_of:
                duplicate = f"duplicate_of_line_{first_line_of[key]}"
                parsed = ParsedRow(
                    parsed.composition, parsed.tc_kind, parsed.tc_K, (*parsed.flags, duplicate)
                )
            else:
                first_line_of[key] = line_number
        extra = {}
        if spec.structure_type_field is not None:
            extra["structure_type"] = fields[spec.structure_type_field] or None
        compositions[parsed.composition.material_id] = parsed.composition
        measurements.append(_measurement(parsed, source, spec.table, raw_id, **extra))
        accepted.append(raw_id)
    return Batch(
        source=source,
        file_path=str(path),
        file_sha256=fingerprint,
        parameters=params.as_dict(),
        n_records=len(rows),
        record_table=spec.table,
        tables={spec.table: rows_table(raw), "measurement": rows_table(measurements)},
        compositions=compositions,
        accepted_ids=accepted,
        rejected=rejected,
    )


def build_nims_batch(
    path: Path, source: SourceInfo, params: IngestParameters, fingerprint: str
) -> Batch:
    """Read and parse the NIMS export into a batch (no database)."""
    text = _read_source(path)
    return build_raw_batch(path, source, NIMS_TABLE, _nims_rows(text), params, fingerprint, text)


def build_stanev_batch(
    path: Path, source: SourceInfo, params: IngestParameters, fingerprint: str
) -> Batch:
    """Read and parse Stanev et al.'s table into a batch (no database)."""
    text = _read_source(path)
    return build_raw_batch(
        path, source, STANEV_TABLE, _stanev_rows(text), params, fingerprint, text
    )
