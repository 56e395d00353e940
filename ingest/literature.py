"""Hydride superconductors from the literature, one row per (material, phase, pressure).

Every column is kept (``raw_json`` holds the row as read). Ranges stay ranges: ``a-b``
pressures become low/high with the mean as the representative value, and a T_c range from two
μ* values gets its mean as ``tc_K`` (Novakovic et al.'s choice) with the range kept. A row whose
formula does not resolve to a composition (``PdDx``, ``La-N-B-H``) is kept without a material
and marked excluded from training; a row with an impossible value (negative T_c, unknown
method, malformed DOI) is rejected with its line and reason. Rows flagged RETRACTED are kept
and marked excluded from training.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from tcdb.core.composition import NormalisedComposition, normalise
from tcdb.core.hashing import record_id
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection
from tcdb.core.supercon_formula import parse_supercon_formula
from tcdb.core.text import read_source_text, storable
from tcdb.ingest.runs import Batch, MalformedSourceError, RejectedRecord, SourceFileError
from tcdb.ingest.source_info import SourceInfo
from tcdb.ingest.validation import check_mu_star, check_pressure, check_tc, first_problem
from tcdb.schema.bulk import rows_table

log = logging.getLogger(__name__)

COLUMNS = (
    "formula",
    "n_H_per_metal",
    "elements",
    "space_group",
    "pressure_GPa",
    "tc_K",
    "tc_low_K",
    "tc_high_K",
    "mu_star",
    "method",
    "reference",
    "doi",
    "read_in",
    "flags",
    "notes",
    "structure_file",
)
STRUCTURES_FOLDER = "structures"  # beside the CSV: literature/structures, <curated>/structures
METHODS = frozenset({"experiment", "dft_harmonic", "dft_anharmonic", "ml_prediction", "unknown"})
EXCLUDING_FLAGS = ("RETRACTED",)
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
RANGE_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*[-–]\s*([0-9]*\.?[0-9]+)\s*$")
NOT_SC_PATTERN = re.compile(r"no_superconductivity_observed_above_([0-9.]+)K")
# Links entries to the CIFs of literature/structures once both are loaded (run after either).
LINK_STRUCTURES_SQL = """
UPDATE literature_entry AS e SET structure_id = s.id
FROM crystal_structure AS s
WHERE s.source_id = CASE e.source_id
        WHEN 'literature_hydrides' THEN 'literature_structures'
        WHEN 'curated_entries' THEN 'curated_structures' END
  AND s.retired_run_id IS NULL
  AND e.structure_file IS NOT NULL
  AND s.source_record_id = regexp_extract(e.structure_file, '[^/]+$')
  AND e.structure_id IS DISTINCT FROM s.id
"""


# ------------------------------------------------------------------------------------ read


def read_literature(
    path: Path, params: IngestParameters = INGEST
) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; the header must name the expected columns."""
    return [(number, row) for number, row, _ in _read_rows(path, params)]


def _read_rows(
    path: Path, params: IngestParameters = INGEST
) -> list[tuple[int, dict[str, str], Rejection | None]]:
    """(line number, row, rejection) for every data row; the rejection names a byte that is not
    UTF-8 (the row keeps it as ``\\xNN``). A byte-order mark is accepted; a file that is not
    a regular file or is larger than ``max_table_bytes`` is refused unread."""
    try:
        source = read_source_text(path, params.max_table_bytes)
    except FileNotFoundError:
        raise SourceFileError(f"Source file {path} does not exist; check TCDB_SOURCES") from None
    reader = csv.DictReader(io.StringIO(source.text))
    try:
        fieldnames = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in fieldnames]
        if missing:
            raise MalformedSourceError(f"{path}: the header lacks the columns {', '.join(missing)}")
        rows, previous_line = [], reader.line_num
        for row in reader:
            undecodable = next(
                (
                    found
                    for line in range(previous_line + 1, reader.line_num + 1)
                    if (found := source.rejection(line, row)) is not None
                ),
                None,
            )
            previous_line = reader.line_num
            clean = {k: storable((v or "").strip()) for k, v in row.items() if isinstance(k, str)}
            rows.append((reader.line_num, clean, undecodable))
    except csv.Error as exc:
        raise MalformedSourceError(
            f"{path} line {reader.line_num}: not a readable CSV ({exc})"
        ) from None
    return rows


# ----------------------------------------------------------------------------------- parse


@dataclass(frozen=True)
class Quantity:
    """A value, or a range with its mean as the representative value."""

    value: float | None
    low: float | None = None
    high: float | None = None


def parse_quantity(text: str, name: str, unit: str) -> Quantity | Rejection:
    """``12``, ``170-175`` (a range) or empty (unknown)."""
    if not text:
        return Quantity(None)
    match = RANGE_PATTERN.match(text)
    if match:
        low, high = sorted((float(match[1]), float(match[2])))
        return Quantity((low + high) / 2, low, high)
    try:
        value = float(text)
    except ValueError:
        return Rejection(f"bad_{name}", f"{name} {text!r} is not a number or a range a-b {unit}")
    return Quantity(value)


def structure_file_problem(text: str) -> Rejection | None:
    """Why a ``structure_file`` may not be followed, or None: it must be a relative path
    ``structures/<file>`` inside the structures folder beside the CSV, with no ``..``."""
    if not text:
        return None
    windows = PureWindowsPath(text)
    if PurePosixPath(text).is_absolute() or windows.drive or windows.root:
        return Rejection(
            "structure_file_absolute",
            f"structure_file {text!r} is an absolute path; give it as "
            f"{STRUCTURES_FOLDER}/<file> relative to the CSV",
        )
    parts = PurePosixPath(text).parts
    plain = "\0" not in text and "\\" not in text
    if not plain or ".." in parts or len(parts) != 2 or parts[0] != STRUCTURES_FOLDER:
        return Rejection(
            "structure_file_outside",
            f"structure_file {text!r} is not a file directly inside the {STRUCTURES_FOLDER} "
            "folder beside the CSV",
        )
    return None


def _resolves_outside(folder: Path, text: str) -> Rejection | None:
    """A path that passed ``structure_file_problem`` but leads out of the structures folder
    through a symbolic link."""
    root = (folder / STRUCTURES_FOLDER).resolve()
    target = (folder / text).resolve()
    if target.is_relative_to(root):
        return None
    return Rejection(
        "structure_file_outside",
        f"structure_file {text!r} resolves to {target}, outside {root} (a symbolic link)",
    )


def parse_mu_star(text: str) -> Quantity:
    """``0.1``, ``0.15;0.10`` (two values) or prose (kept only in raw_json)."""
    parts = [p.strip() for p in text.replace("/", ";").split(";") if p.strip()]
    try:
        values = sorted(float(p) for p in parts)
    except ValueError:
        return Quantity(None)
    if len(values) == 1:
        return Quantity(values[0])
    if len(values) == 2:
        return Quantity((values[0] + values[1]) / 2, values[0], values[1])
    return Quantity(None)


def formula_head(text: str) -> str:
    """The formula before any parenthesised description: ``CaH6 (CaHx, mainly CaH6)`` → CaH6."""
    return text.split(" (", 1)[0].strip()


def resolve_formula(
    text: str, params: IngestParameters = INGEST
) -> NormalisedComposition | Rejection:
    parsed = parse_supercon_formula(formula_head(text))
    if isinstance(parsed, Rejection):
        return parsed
    return normalise(parsed.amounts, params)


@dataclass(frozen=True)
class LiteratureRow:
    """A parsed literature row: the entry's columns, and its composition when it resolved."""

    entry: dict
    composition: NormalisedComposition | None
    tc_kind: str | None


def _tc(row: dict[str, str], params: IngestParameters) -> tuple[str | None, Quantity] | Rejection:
    value = parse_quantity(row["tc_K"], "tc", "K")
    low = parse_quantity(row["tc_low_K"], "tc_low", "K")
    high = parse_quantity(row["tc_high_K"], "tc_high", "K")
    for quantity in (value, low, high):
        if isinstance(quantity, Rejection):
            return quantity
    numbers = [value.value, value.low, value.high, low.value, high.value]
    problem = first_problem(check_tc, numbers, params)
    if problem is not None:
        return problem
    if low.value is not None and high.value is not None:
        lo, hi = sorted((low.value, high.value))
        representative = value.value if value.value is not None else (lo + hi) / 2
        return "range", Quantity(representative, lo, hi)
    if value.value is not None:
        return ("range" if value.low is not None else "value"), value
    if NOT_SC_PATTERN.search(row["flags"]):
        return "not_superconducting", Quantity(None)
    return None, Quantity(None)


def parse_literature_row(
    row: dict[str, str], params: IngestParameters = INGEST
) -> LiteratureRow | Rejection:
    """One CSV row → the literature entry (with its composition if it resolves) or a rejection."""
    if not row["formula"]:
        return Rejection("empty_formula", "the formula is empty")
    if row["method"] not in METHODS:
        return Rejection(
            "unknown_method",
            f"method {row['method']!r} is not one of {', '.join(sorted(METHODS))}",
        )
    if row["doi"] and not DOI_PATTERN.match(row["doi"]):
        return Rejection("bad_doi", f"DOI {row['doi']!r} is not of the form 10.NNNN/...")
    path_problem = structure_file_problem(row["structure_file"])
    if path_problem is not None:
        return path_problem
    pressure = parse_quantity(row["pressure_GPa"], "pressure", "GPa")
    if isinstance(pressure, Rejection):
        return pressure
    problem = first_problem(check_pressure, [pressure.value, pressure.low, pressure.high], params)
    if problem is not None:
        return problem
    tc = _tc(row, params)
    if isinstance(tc, Rejection):
        return tc
    tc_kind, tc_q = tc
    mu = parse_mu_star(row["mu_star"])
    problem = first_problem(check_mu_star, [mu.value, mu.low, mu.high], params)
    if problem is not None:
        return problem
    flags = [f for f in row["flags"].split(";") if f]
    composition = resolve_formula(row["formula"], params)
    exclusion = [f for f in flags if f in EXCLUDING_FLAGS]
    if isinstance(composition, Rejection):
        exclusion.append(f"composition not resolved: {composition.reason}")
        composition = None
    if tc_kind is None:
        exclusion.append("no T_c value")
    h_per_host = None
    if composition is not None and len(composition.elements) == 2 and "H" in composition.elements:
        host = next(el for el in composition.elements if el != "H")
        h_per_host = composition.amount("H") / composition.amount(host)
    entry = {
        "formula": row["formula"],
        "material_id": composition.material_id if composition else None,
        "elements": row["elements"] or None,
        "n_h_per_host": h_per_host,
        "space_group": row["space_group"] or None,
        "pressure_GPa": pressure.value,
        "pressure_low_GPa": pressure.low,
        "pressure_high_GPa": pressure.high,
        "tc_K": tc_q.value,
        "tc_low_K": tc_q.low,
        "tc_high_K": tc_q.high,
        "mu_star": mu.value,
        "mu_star_low": mu.low,
        "mu_star_high": mu.high,
        "method": row["method"],
        "reference": row["reference"] or None,
        "doi": row["doi"] or None,
        "read_in": row["read_in"] or None,
        "flags": row["flags"] or None,
        "notes": row["notes"] or None,
        "structure_file": row["structure_file"] or None,
        "structure_id": None,  # linked to the ingested CIF by LINK_STRUCTURES_SQL
        "excluded_from_training": bool(exclusion),
        "exclusion_reason": "; ".join(exclusion) or None,
    }
    return LiteratureRow(entry, composition, tc_kind)


# ------------------------------------------------------------------------------------ batch


def _not_sc_bound(flags: str) -> float | None:
    match = NOT_SC_PATTERN.search(flags or "")
    return float(match[1]) if match else None


def _measurement(parsed: LiteratureRow, entry_id: str, source: SourceInfo) -> dict:
    e = parsed.entry
    return {
        "id": record_id("meas", "literature_entry", entry_id),
        "material_id": e["material_id"],
        "source_id": source.id,
        "origin_table": "literature_entry",
        "origin_id": entry_id,
        "ingest_run_id": None,
        "tc_kind": parsed.tc_kind,
        "tc_K": e["tc_K"],
        "tc_low_K": e["tc_low_K"],
        "tc_high_K": e["tc_high_K"],
        "tc_upper_bound_K": _not_sc_bound(e["flags"]),
        "pressure_GPa": e["pressure_GPa"],
        "pressure_low_GPa": e["pressure_low_GPa"],
        "pressure_high_GPa": e["pressure_high_GPa"],
        "mu_star": e["mu_star"],
        "space_group": e["space_group"],
        "method": e["method"],
        "flags": e["flags"],
        "status": "excluded" if e["excluded_from_training"] else "active",
        "deprecation_reason": e["exclusion_reason"],
        "created_at": None,
    }


def duplicate_key(entry: dict) -> tuple:
    """What makes two literature points the same: material, phase, pressure, method, source."""
    return (
        entry["material_id"] or entry["formula"],
        entry["space_group"],
        entry["pressure_GPa"],
        entry["method"],
        entry["doi"] or entry["reference"],
        entry["tc_K"],
    )


def build_literature_batch(
    path: Path, source: SourceInfo, params: IngestParameters, fingerprint: str
) -> Batch:
    """Read and parse a literature CSV (the hydrides file or the curated entries) into a batch
    (no database); ``fingerprint`` is the file's hash, computed once by the caller."""
    rows = _read_rows(path, params)
    entries, measurements, rejected, accepted = [], [], [], []
    compositions: dict[str, NormalisedComposition] = {}
    first_line_of: dict[tuple, int] = {}
    for line_number, row, undecodable in rows:
        parsed = undecodable or parse_literature_row(row, params)
        if not isinstance(parsed, Rejection) and row["structure_file"]:
            parsed = _resolves_outside(Path(path).parent, row["structure_file"]) or parsed
        if isinstance(parsed, Rejection):
            rejected.append(RejectedRecord(f"line {line_number}", parsed, row))
            continue
        key = duplicate_key(parsed.entry)
        if key in first_line_of:
            rejected.append(
                RejectedRecord(
                    f"line {line_number}",
                    Rejection("duplicate", f"duplicate of line {first_line_of[key]}"),
                    row,
                )
            )
            continue
        first_line_of[key] = line_number
        if row["structure_file"] and not (Path(path).parent / row["structure_file"]).is_file():
            log.warning(
                "%s line %d: structure file %s does not exist",
                path,
                line_number,
                row["structure_file"],
            )
            flags = [parsed.entry["flags"], "structure_file_missing"]
            parsed.entry["flags"] = ";".join(f for f in flags if f)
        entry_id = record_id("lit", source.id, json.dumps(row, sort_keys=True))
        entries.append(
            {
                "id": entry_id,
                "source_id": source.id,
                "ingest_run_id": None,
                "line_number": line_number,
                "added_by": "curation" if source.kind == "curated" else "source_file",
                **parsed.entry,
                "status": "active",
                "raw_json": json.dumps(row),
                "created_at": None,
            }
        )
        accepted.append(entry_id)
        if parsed.composition is not None:
            compositions[parsed.composition.material_id] = parsed.composition
            if parsed.tc_kind is not None:
                measurements.append(_measurement(parsed, entry_id, source))
    return Batch(
        source=source,
        file_path=str(path),
        file_sha256=fingerprint,
        parameters=params.as_dict(),
        n_records=len(rows),
        record_table="literature_entry",
        tables={
            "literature_entry": rows_table(entries),
            "measurement": rows_table(measurements),
        },
        compositions=compositions,
        accepted_ids=accepted,
        rejected=rejected,
        post_load=[LINK_STRUCTURES_SQL],
    )
