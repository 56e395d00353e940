"""Literature entries added by hand, and deprecations, kept in files under git.

``tcdb curate add-entry`` validates one hydride data point, refuses a duplicate of an existing
point (the same composition, pressure and T_c within tolerances, from the same paper) naming the
existing entry, appends it to ``<TCDB_CURATED>/literature_entries.csv`` (append-only,
reviewable in a diff) and ingests that file, so the entry is in the database at once and comes
back after a rebuild. An optional CIF is checked, copied to ``<TCDB_CURATED>/structures/`` and
linked. ``tcdb curate deprecate`` marks a row unusable with a reason, in the database and in
``deprecations.csv``, which every curation run replays.

The files and the database change together or not at all: the new file is written beside the
old one, the database work is one transaction, and the new file replaces the old one
(``os.replace``) only after the commit; on any failure the file is left byte for byte as it was.
A file being written is named after the writing process (``.<name>.<pid>-<random>.tmp``; a
CIF is written as ``.new-cif.<pid>-<random>.tmp``, then linked into place), so what a command
killed with ``kill -9`` left is removed by the next ``add-entry`` or ``deprecate`` once that
process is gone, and no temporary name is ever read as data (ingest reads the CSVs by name and
``*.cif`` only).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tcdb.core.errors import TcdbError
from tcdb.core.hashing import record_id
from tcdb.core.leftovers import owned_prefix, remove_leftovers
from tcdb.core.parameters import INGEST
from tcdb.core.records import Rejection
from tcdb.core.safe_reads import FileRefusedError, read_limited
from tcdb.core.space_groups import space_group_number, space_group_problem
from tcdb.core.structures import StructureRecord, parse_structure
from tcdb.core.text import decode_lenient, text_problem
from tcdb.core.timestamps import utcnow
from tcdb.ingest.literature import COLUMNS, duplicate_key, parse_literature_row
from tcdb.ingest.parameters import HAND_ENTRIES, HandEntryParameters
from tcdb.ingest.runs import load_batch
from tcdb.ingest.sources import curated_entries, curated_structures

log = logging.getLogger(__name__)
ENTRIES_FILE = "literature_entries.csv"
STRUCTURES_DIR = "structures"
DEPRECATIONS_FILE = "deprecations.csv"
DEPRECATION_COLUMNS = ("id", "table", "reason", "deprecated_at")
PRESSURE_UNITS_TO_GPA = {"gpa": 1.0, "kbar": 0.1, "mbar": 100.0, "mpa": 0.001}
TC_UNITS = {"k": 1.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_VALUE_WITH_UNIT = re.compile(rf"^\s*({_NUMBER}(?:\s*-\s*{_NUMBER})?)\s*([A-Za-z]*)\s*$")
# What each column is called where a user types it: the add-entry option and the CSV column.
ARGUMENTS = {
    "tc_K": "T_c (--tc, column tc_K)",
    "tc_low_K": "T_c (--tc, column tc_low_K)",
    "tc_high_K": "T_c (--tc, column tc_high_K)",
    "pressure_GPa": "pressure (--pressure, column pressure_GPa)",
}


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
        row[column] = _in_unit(row[column], TC_UNITS, ARGUMENTS[column], "K")
    row["pressure_GPa"] = _in_unit(
        row["pressure_GPa"], PRESSURE_UNITS_TO_GPA, ARGUMENTS["pressure_GPa"], "GPa"
    )
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
    problem = space_group_problem(row["space_group"])
    if problem is not None:
        raise EntryError(problem)
    return parsed


def _same_paper(new: dict, old_doi: str | None, old_space_group: str | None) -> bool:
    """Two DOIs must agree, and then distinct space groups are distinct phases, so distinct
    points of one paper (Shipley et al. give LaH10 at 250 GPa in Fm-3m and in R-3m). Groups are
    compared by number, so ``P63/mmc``, ``p6_3/mmc (hexagonal)`` and ``194`` are one; a text
    that names no group (empty, "not stated", "cubic", a junk text stored before entries were
    checked) tells nothing apart. When either point has no DOI, references and space groups
    are written too loosely to tell two reports of one measurement apart, so the physics alone
    decides."""
    if not (new["doi"] and old_doi):
        return True
    if new["doi"].strip().lower() != old_doi.strip().lower():
        return False
    mine = space_group_number(new["space_group"])
    theirs = space_group_number(old_space_group)
    return mine is None or theirs is None or mine == theirs


def _same_kind(method: str, other: str) -> bool:
    """An ML prediction never duplicates a measurement or a calculation; 'unknown' matches the
    others."""
    if method == other:
        return True
    return "ml_prediction" not in (method, other) and "unknown" in (method, other)


def find_duplicate(
    conn: duckdb.DuckDBPyConnection, entry: dict, params: HandEntryParameters = HAND_ENTRIES
) -> tuple | None:
    """An active entry that reports the same physics: the same composition, a pressure and a
    T_c within the tolerances, a compatible method, and the same paper (``_same_paper``)."""
    if entry["tc_K"] is None or entry["pressure_GPa"] is None:
        return None
    candidates = conn.execute(
        "SELECT id, formula, space_group, pressure_GPa, tc_K, reference, doi, method "
        "FROM literature_entry WHERE status = 'active' AND retired_run_id IS NULL "
        "AND material_id = ? AND abs(pressure_GPa - ?) <= ? AND abs(tc_K - ?) <= ? "
        "ORDER BY abs(tc_K - ?) + abs(pressure_GPa - ?), id",
        [
            entry["material_id"],
            entry["pressure_GPa"],
            params.duplicate_pressure_tolerance_GPa,
            entry["tc_K"],
            params.duplicate_tc_tolerance_K,
            entry["tc_K"],
            entry["pressure_GPa"],
        ],
    ).fetchall()
    for row in candidates:
        if _same_kind(entry["method"], row[7]) and _same_paper(entry, row[6], row[2]):
            return row[:6]
    return None


def _same_point(entry: dict, other: dict, params: HandEntryParameters = HAND_ENTRIES) -> bool:
    """Whether two entries of one input report the same physics, by the rule
    ``find_duplicate`` applies against the database."""
    values = (entry["tc_K"], entry["pressure_GPa"], other["tc_K"], other["pressure_GPa"])
    if entry["material_id"] != other["material_id"] or None in values:
        return False
    return (
        abs(entry["pressure_GPa"] - other["pressure_GPa"])
        <= params.duplicate_pressure_tolerance_GPa
        and abs(entry["tc_K"] - other["tc_K"]) <= params.duplicate_tc_tolerance_K
        and _same_kind(entry["method"], other["method"])
        and _same_paper(entry, other["doi"], other["space_group"])
    )


def _duplicate_message(existing: tuple, params: HandEntryParameters = HAND_ENTRIES) -> str:
    entry_id, formula, space_group, pressure, tc, reference = existing
    return (
        f"duplicate of existing entry {entry_id} ({formula}, {space_group or 'no space group'}, "
        f"{pressure:g} GPa, {tc:g} K, {reference}): the same composition within "
        f"{params.duplicate_pressure_tolerance_GPa:g} GPa and "
        f"{params.duplicate_tc_tolerance_K:g} K, and no distinct DOI to tell them apart"
    )


def _read_text(path: Path, argument: str) -> str:
    """A file a user named, as text, or an EntryError naming the argument and the reason; a
    FIFO or a device is refused unopened, and a file above its limit unread."""
    limit = INGEST.max_structure_bytes if argument == "--cif" else INGEST.max_table_bytes
    try:  # a byte-order mark is dropped
        text = decode_lenient(read_limited(Path(path), limit))
    except FileNotFoundError:
        raise EntryError(f"{argument} {path}: the file does not exist") from None
    except FileRefusedError as exc:
        raise EntryError(f"{argument} {path}: {exc.detail}") from None
    except OSError as exc:
        raise EntryError(f"{argument} {path}: cannot be read ({exc.strerror})") from None
    problem = text_problem(text, f"{argument} {path}")
    if problem is not None:  # a NUL byte (binary) or a byte that is not UTF-8, located
        raise EntryError(problem.reason)
    return text


def check_cif(path: Path, material_id: str) -> StructureRecord:
    from tcdb.core.composition import normalise

    text = _read_text(path, "--cif")
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


def _csv_text(rows: list[dict[str, str]], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _current(path: Path) -> bytes | None:
    """The bytes of a curated file (None: not there yet), or an EntryError naming it."""
    try:
        return path.read_bytes() if path.exists() else None
    except OSError as exc:
        raise EntryError(f"{path} cannot be read ({exc.strerror}); nothing was changed") from None


TEMPORARY_SUFFIX = ".tmp"
NEW_CIF_PREFIX = ".new-cif."  # a CIF being written into structures/, before its link


def _temporary_prefix(path: Path) -> str:
    """How the temporary files of ``path`` begin: ``.<name>.`` (then the writer's pid)."""
    return f".{path.name}."


def remove_stale_temporaries(curated_root: Path) -> int:
    """Delete the temporary files that killed ``add-entry`` or ``deprecate`` commands left
    beside the curated files (their process has ended); how many."""
    root = Path(curated_root)
    structures = root / STRUCTURES_DIR
    removed = [
        *remove_leftovers(root, _temporary_prefix(root / ENTRIES_FILE), TEMPORARY_SUFFIX),
        *remove_leftovers(root, _temporary_prefix(root / DEPRECATIONS_FILE), TEMPORARY_SUFFIX),
        *remove_leftovers(structures, NEW_CIF_PREFIX, TEMPORARY_SUFFIX),
    ]
    return len(removed)


def _write_temporary(path: Path, data: bytes, prefix: str | None = None) -> Path:
    """``data`` written and synced to a new temporary file beside ``path``, named ``prefix``
    (by default ``.<name>.``), this process's pid and ``.tmp``; removed again if writing
    fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=owned_prefix(prefix or _temporary_prefix(path)),
        suffix=TEMPORARY_SUFFIX,
        dir=path.parent,
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _stage(path: Path, old: bytes | None, addition: str) -> Path:
    """A new version of ``path`` (its bytes plus ``addition``) written beside it, so that
    ``os.replace`` can put it in place atomically; the old file is not touched."""
    prefix = old or b""
    if prefix and not prefix.endswith(b"\n"):
        prefix += b"\n"
    try:
        return _write_temporary(path, prefix + addition.encode("utf-8"))
    except OSError as exc:
        raise EntryError(
            f"{path} cannot be written ({exc.strerror}); nothing was changed"
        ) from None


def _publish(staged: Path, path: Path) -> None:
    """Put the staged file in place after the commit. A rename within one folder does not
    fail in practice; if it does, the sentence says the database is ahead of the file."""
    try:
        os.replace(staged, path)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise EntryError(
            f"{path} could not be replaced ({exc.strerror}); the database holds the change "
            f"but the file does not"
        ) from None


def _place_cifs(
    curated_root: Path, prepared: list[tuple[dict, Path | None, StructureRecord | None]]
) -> list[Path]:
    """Copy each entry's CIF into the curated structures folder under its canonical name and
    point the row at it; the files created (to remove if the entry is not added). An existing
    file of that name with other content is refused rather than overwritten."""
    structures = Path(curated_root) / STRUCTURES_DIR
    created: list[Path] = []
    try:
        for row, cif, record in prepared:
            if cif is None:
                continue
            target = structures / _cif_name(row, record)
            text = _read_text(cif, "--cif")
            if target.exists():
                if target.read_text(encoding="utf-8") != text:
                    raise EntryError(
                        f"--cif {cif}: {target} already holds another structure; rename one"
                    )
            else:
                _place_new(target, text)
                created.append(target)
            row["structure_file"] = f"{STRUCTURES_DIR}/{target.name}"
    except BaseException:
        _remove(created)
        raise
    return created


def _place_new(target: Path, text: str) -> None:
    """A new file written whole or not at all: a temporary file, then a hard link to the
    target name, which fails rather than overwrite a file of that name (where the file system
    has no hard links, a rename after checking that the name is free)."""
    try:
        staged = _write_temporary(target, text.encode("utf-8"), NEW_CIF_PREFIX)
    except OSError as exc:
        raise EntryError(f"{target} cannot be written ({exc.strerror})") from None
    try:
        _link_or_rename(staged, target)
    except FileExistsError:
        raise EntryError(f"{target} appeared while it was being written; try again") from None
    except OSError as exc:
        raise EntryError(f"{target} cannot be written ({exc.strerror})") from None
    finally:
        staged.unlink(missing_ok=True)


def _link_or_rename(staged: Path, target: Path) -> None:
    try:
        os.link(staged, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(staged, target)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _load_staged(
    conn: duckdb.DuckDBPyConnection, curated_root: Path, staged: Path, with_structures: bool
) -> None:
    """Load the staged entries file (and the curated structures) inside the caller's
    transaction, recorded under the file's real name."""
    if with_structures:
        folder = Path(curated_root) / STRUCTURES_DIR
        batch = curated_structures.build(folder, INGEST, curated_structures.fingerprint(folder))
        load_batch(conn, batch, own_transaction=False)
    final = Path(curated_root) / ENTRIES_FILE
    batch = curated_entries.build(staged, INGEST, curated_entries.fingerprint(staged))
    batch.file_path = str(final)
    load_batch(conn, batch, own_transaction=False)
    conn.execute(
        "UPDATE source SET size_bytes = ? WHERE id = ?",
        [staged.stat().st_size, curated_entries.info.id],
    )


def _loaded_ids(
    conn: duckdb.DuckDBPyConnection, entries_path: Path, rows: list[dict], first_line: int
) -> list[AddedEntry]:
    added = []
    for i, row in enumerate(rows):
        found = conn.execute(
            "SELECT id FROM literature_entry WHERE source_id = ? AND line_number = ? "
            "AND retired_run_id IS NULL",
            [curated_entries.info.id, first_line + i],
        ).fetchone()
        if found is None:
            raise EntryError(f"{entries_path} line {first_line + i} was written but not loaded")
        added.append(AddedEntry(found[0], row["formula"], first_line + i))
    return added


def _prepare(
    conn: duckdb.DuckDBPyConnection, rows: list[dict[str, str]], cifs: list[Path | None]
) -> list[tuple[dict, Path | None, StructureRecord | None]]:
    """Every row validated, checked against the database and each other (all or nothing)."""
    prepared, problems, seen = [], [], {}
    earlier: list[tuple[int, dict]] = []
    for number, (values, cif) in enumerate(zip(rows, cifs, strict=True), start=1):
        where = f"entry {number} ({values.get('formula') or 'no formula'})"
        try:
            row = normalise_units(values)
            parsed = validate_entry(row)
            existing = find_duplicate(conn, parsed.entry)
            if existing:
                raise EntryError(_duplicate_message(existing))
            key = duplicate_key(parsed.entry)
            twin = seen.get(key) or next(
                (n for n, entry in earlier if _same_point(parsed.entry, entry)), None
            )
            if twin is not None:
                raise EntryError(f"duplicate of entry {twin} in the same input")
            seen[key] = number
            earlier.append((number, parsed.entry))
            record = check_cif(cif, parsed.entry["material_id"]) if cif else None
            prepared.append((row, cif, record))
        except EntryError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        raise EntryError("nothing was added; " + "; ".join(problems))
    return prepared


def add_entries(
    conn: duckdb.DuckDBPyConnection,
    curated_root: Path,
    sources_root: Path,
    rows: list[dict[str, str]],
    cifs: list[Path | None] | None = None,
) -> list[AddedEntry]:
    """Validate every row first, then add them all or none: the new entries file is staged
    beside the old one, loaded in one transaction, and renamed into place after the commit.

    On any failure the database is rolled back, the entries file is byte-identical to before
    and the CIFs copied for these rows are removed, so a retry adds each row exactly once.
    ``sources_root`` is kept for callers; only the curated files are loaded.
    """
    remove_stale_temporaries(curated_root)
    prepared = _prepare(conn, rows, cifs or [None] * len(rows))
    entries_path = Path(curated_root) / ENTRIES_FILE
    old = _current(entries_path)
    first_line = 2 if old is None else len(old.decode("utf-8", "replace").splitlines()) + 1
    created = _place_cifs(curated_root, prepared)
    new_rows = [row for row, _, _ in prepared]
    staged = _stage(entries_path, old, _csv_text(new_rows, header=old is None))
    conn.begin()
    try:
        _load_staged(conn, curated_root, staged, any(c is not None for _, c, _ in prepared))
        added = _loaded_ids(conn, entries_path, new_rows, first_line)
        conn.commit()
    except BaseException:
        conn.rollback()
        _remove([staged, *created])
        raise
    _publish(staged, entries_path)
    log.info("added %d entries to %s", len(added), entries_path)
    return added


def read_entries_file(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV with the literature columns (others are refused, naming them)."""
    text = _read_text(path, "--from-file")
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


def _deprecation_line(subject_id: str, table: str, reason: str, when) -> str:
    return _csv_line([subject_id, table, reason, when.isoformat(timespec="seconds")])


def deprecate(
    conn: duckdb.DuckDBPyConnection, curated_root: Path, subject_id: str, reason: str
) -> str:
    """Deprecate a row and append the decision to ``deprecations.csv``, both or neither: the
    new file is staged first and put in place only after the database commit."""
    if not reason.strip():
        raise TcdbError("A deprecation needs a reason (--reason).")
    when = utcnow()
    table = _find(conn, subject_id)
    remove_stale_temporaries(curated_root)
    path = Path(curated_root) / DEPRECATIONS_FILE
    old = _current(path)
    header = "" if old is not None else _csv_line(DEPRECATION_COLUMNS)
    staged = _stage(path, old, header + _deprecation_line(subject_id, table, reason, when))
    try:
        if apply_deprecation(conn, subject_id, reason, when) is None:
            raise TcdbError(f"{subject_id} is already deprecated.")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    _publish(staged, path)
    return table


def _csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


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
