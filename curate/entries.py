"""Literature entries added by hand, and deprecations, kept in files under git.

``tcdb curate add-entry`` validates one hydride data point, refuses a duplicate of an existing
point (same material, phase, pressure and method) naming the existing entry, appends it to
``<TCDB_CURATED>/literature_entries.csv`` (append-only, reviewable in a diff) and ingests that
file, so the entry is in the database at once and comes back after a rebuild. An optional CIF
is checked, copied to ``<TCDB_CURATED>/structures/`` and linked. ``tcdb curate deprecate``
marks a row unusable with a reason, in the database and in ``deprecations.csv``, which every
curation run replays.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest import pipeline
from ingest.literature import COLUMNS, duplicate_key, parse_literature_row
from ingest.records import Rejection
from ingest.runs import record_id
from ingest.sources import CURATED_ENTRIES
from ingest.structures import StructureRecord, parse_structure
from ingest.text import decode_lenient
from schema.timestamps import utcnow
from tcdb.errors import TcdbError
from tcdb.parameters import INGEST

ENTRIES_FILE = "literature_entries.csv"
STRUCTURES_DIR = "structures"
DEPRECATIONS_FILE = "deprecations.csv"
DEPRECATION_COLUMNS = ("id", "table", "reason", "deprecated_at")
PRESSURE_UNITS_TO_GPA = {"gpa": 1.0, "kbar": 0.1, "mbar": 100.0, "mpa": 0.001}
TC_UNITS = {"k": 1.0}
_VALUE_WITH_UNIT = re.compile(r"^\s*([0-9.]+(?:\s*-\s*[0-9.]+)?)\s*([A-Za-z]*)\s*$")


class EntryError(TcdbError):
    """A hand-made entry was refused; the message says why and where."""


# ------------------------------------------------------------------------------ validation


def _in_unit(text: str, units: dict[str, float], what: str, default: str) -> str:
    """``170``, ``170 GPa``, ``1.7 Mbar`` or ``160-190`` → the value(s) in the default unit."""
    if not text.strip():
        return ""
    match = _VALUE_WITH_UNIT.match(text)
    if not match:
        raise EntryError(f"{what} {text!r} is not a number or range with a unit")
    unit = (match[2] or default).lower()
    if unit not in units:
        raise EntryError(f"unknown unit {match[2]!r} for {what}; use {', '.join(sorted(units))}")
    factor = units[unit]
    parts = [float(p) * factor for p in re.split(r"\s*-\s*", match[1])]
    return "-".join(f"{p:g}" for p in parts)


def normalise_units(values: dict[str, str]) -> dict[str, str]:
    """The row with T_c in K and pressure in GPa; units other than these are converted or
    refused."""
    row = {column: (values.get(column) or "").strip() for column in COLUMNS}
    for column in ("tc_K", "tc_low_K", "tc_high_K"):
        row[column] = _in_unit(row[column], TC_UNITS, "T_c", "K")
    row["pressure_GPa"] = _in_unit(row["pressure_GPa"], PRESSURE_UNITS_TO_GPA, "pressure", "GPa")
    return row


def validate_entry(row: dict[str, str]):
    """The parsed entry, or EntryError: hand entries must resolve, have a T_c (or a range),
    a pressure and a reference, on top of the rules every literature row follows."""
    parsed = parse_literature_row(row, INGEST)
    if isinstance(parsed, Rejection):
        raise EntryError(parsed.reason)
    if parsed.composition is None:
        raise EntryError(f"formula {row['formula']!r}: {parsed.entry['exclusion_reason']}")
    if parsed.tc_kind not in ("value", "range"):
        raise EntryError("a T_c (tc_K) or a range (tc_low_K and tc_high_K) is required")
    if parsed.entry["pressure_GPa"] is None:
        raise EntryError("the pressure (pressure_GPa; 0 for ambient) is required")
    if not row["reference"]:
        raise EntryError("a reference is required")
    return parsed


def find_duplicate(conn: duckdb.DuckDBPyConnection, entry: dict) -> tuple | None:
    """An active entry with the same material, phase, pressure and method."""
    return conn.execute(
        "SELECT id, formula, space_group, pressure_GPa, reference FROM literature_entry "
        "WHERE status = 'active' AND retired_run_id IS NULL AND material_id = ? "
        "AND coalesce(lower(space_group), '') = coalesce(lower(?), '') "
        "AND abs(coalesce(pressure_GPa, -1) - coalesce(?, -1)) < 1e-6 "
        "AND coalesce(method, '') = coalesce(?, '') LIMIT 1",
        [entry["material_id"], entry["space_group"], entry["pressure_GPa"], entry["method"]],
    ).fetchone()


def check_cif(path: Path, material_id: str) -> StructureRecord:
    from ingest.composition import normalise

    text = decode_lenient(Path(path).read_bytes())  # a bad byte is parse_structure's rejection
    parsed = parse_structure(text, str(path))
    if isinstance(parsed, Rejection):
        raise EntryError(f"the CIF does not parse: {parsed.reason}")
    composition = normalise(parsed.amounts)
    if isinstance(composition, Rejection) or composition.material_id != material_id:
        raise EntryError(
            f"the CIF {path} holds {parsed.reduced_formula}, not the entry's composition"
        )
    return parsed


# ---------------------------------------------------------------------------------- adding


@dataclass(frozen=True)
class AddedEntry:
    id: str
    formula: str
    line_number: int


def _cif_name(row: dict[str, str], record: StructureRecord) -> str:
    pressure = row["pressure_GPa"].split("-")[0] or "0"
    group = (row["space_group"] or record.spacegroup_symbol or "P1").replace("/", "_")
    return f"{pressure}GPa_{group}_{record.reduced_formula}.cif"


def _append_rows(path: Path, rows: list[dict[str, str]]) -> int:
    """Append rows (writing the header to a new file); the line number of the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    first_line = 2 if new else len(path.read_text(encoding="utf-8").splitlines()) + 1
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if new:
        writer.writeheader()
    writer.writerows(rows)
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
    return first_line


def add_entries(
    conn: duckdb.DuckDBPyConnection,
    curated_root: Path,
    sources_root: Path,
    rows: list[dict[str, str]],
    cifs: list[Path | None] | None = None,
) -> list[AddedEntry]:
    """Validate every row first (all or nothing), then append them and ingest the file."""
    cifs = cifs or [None] * len(rows)
    prepared, problems, seen = [], [], {}
    for number, (values, cif) in enumerate(zip(rows, cifs, strict=True), start=1):
        where = f"entry {number} ({values.get('formula') or 'no formula'})"
        try:
            row = normalise_units(values)
            parsed = validate_entry(row)
            existing = find_duplicate(conn, parsed.entry)
            if existing:
                raise EntryError(
                    f"duplicate of existing entry {existing[0]} ({existing[1]}, "
                    f"{existing[2] or 'no space group'}, {existing[3]:g} GPa, {existing[4]}); "
                    f"a distinct phase or pressure is not a duplicate"
                )
            key = duplicate_key(parsed.entry)
            if key in seen:
                raise EntryError(f"duplicate of entry {seen[key]} in the same input")
            seen[key] = number
            record = check_cif(cif, parsed.entry["material_id"]) if cif else None
            prepared.append((row, cif, record))
        except EntryError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise EntryError("nothing was added; " + "; ".join(problems))

    structures = Path(curated_root) / STRUCTURES_DIR
    for row, cif, record in prepared:
        if cif is not None:
            name = _cif_name(row, record)
            structures.mkdir(parents=True, exist_ok=True)
            (structures / name).write_text(Path(cif).read_text(encoding="utf-8"))
            row["structure_file"] = f"{STRUCTURES_DIR}/{name}"
    entries_path = Path(curated_root) / ENTRIES_FILE
    first_line = _append_rows(entries_path, [row for row, _, _ in prepared])
    pipeline.ingest(conn, "literature", sources_root, curated_root=curated_root)
    added = []
    for i, (row, _, _) in enumerate(prepared):
        found = conn.execute(
            "SELECT id FROM literature_entry WHERE source_id = ? AND line_number = ? "
            "AND retired_run_id IS NULL",
            [CURATED_ENTRIES.id, first_line + i],
        ).fetchone()
        if found is None:
            raise EntryError(f"{entries_path} line {first_line + i} was written but not loaded")
        added.append(AddedEntry(found[0], row["formula"], first_line + i))
    return added


def read_entries_file(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV with the literature columns (others are refused, naming them)."""
    text = Path(path).read_text(encoding="utf-8-sig")  # a byte-order mark is not a column
    reader = csv.DictReader(io.StringIO(text))
    unknown = [c for c in reader.fieldnames or [] if c not in COLUMNS]
    if unknown:
        raise EntryError(f"{path}: unknown columns {', '.join(unknown)}")
    return [dict(row) for row in reader]


# ------------------------------------------------------------------------------ deprecating

DEPRECATABLE = ("literature_entry", "measurement", "crystal_structure")


def _find(conn: duckdb.DuckDBPyConnection, subject_id: str) -> str:
    for table in DEPRECATABLE:
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", [subject_id]).fetchone():
            return table
    raise TcdbError(f"No literature entry, measurement or structure has the id {subject_id!r}.")


def apply_deprecation(
    conn: duckdb.DuckDBPyConnection, subject_id: str, reason: str, when=None
) -> str | None:
    """Mark one row (and a literature entry's measurement) deprecated; the table, or None
    when it already was."""
    table = _find(conn, subject_id)
    when = when or utcnow()
    status = conn.execute(f"SELECT status FROM {table} WHERE id = ?", [subject_id]).fetchone()[0]
    if status == "deprecated":
        return None
    conn.begin()
    try:
        conn.execute(
            f"UPDATE {table} SET status = 'deprecated', deprecation_reason = ? WHERE id = ?",
            [reason, subject_id],
        )
        if table == "literature_entry":
            conn.execute(
                "UPDATE measurement SET status = 'deprecated', deprecation_reason = ?, "
                "deprecated_at = ? WHERE origin_id = ?",
                [reason, when, subject_id],
            )
        if table == "measurement":
            conn.execute(
                "UPDATE measurement SET deprecated_at = ? WHERE id = ?", [when, subject_id]
            )
        conn.execute(
            "INSERT INTO curation_ledger (id, curation_run_id, stage, subject_table, subject_id, "
            "action, reason, parameters_json, created_at) VALUES (?, NULL, 'manual', ?, ?, "
            "'deprecate', ?, NULL, ?) ON CONFLICT (id) DO NOTHING",
            [record_id("ledger", "manual", table, subject_id), table, subject_id, reason, when],
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return table


def deprecate(
    conn: duckdb.DuckDBPyConnection, curated_root: Path, subject_id: str, reason: str
) -> str:
    """Deprecate a row and append the decision to ``deprecations.csv``."""
    if not reason.strip():
        raise TcdbError("A deprecation needs a reason (--reason).")
    when = utcnow()
    table = apply_deprecation(conn, subject_id, reason, when)
    if table is None:
        raise TcdbError(f"{subject_id} is already deprecated.")
    path = Path(curated_root) / DEPRECATIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new:
            writer.writerow(DEPRECATION_COLUMNS)
        writer.writerow([subject_id, table, reason, when.isoformat(timespec="seconds")])
    return table


def replay_deprecations(conn: duckdb.DuckDBPyConnection, curated_root: Path) -> int:
    """Apply ``deprecations.csv`` (after a rebuild); rows no longer present are skipped."""
    path = Path(curated_root) / DEPRECATIONS_FILE
    if not path.exists():
        return 0
    applied = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                if apply_deprecation(conn, row["id"], row["reason"]):
                    applied += 1
            except TcdbError:
                continue
    return applied
