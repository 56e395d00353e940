"""Structures with a measured T_c, as ``tcdb evaluate`` is given them.

Why: scoring a run on a set it never saw needs each structure paired with its label, and a
labelled set assembled by hand has mistakes (a file the table does not name, a row naming a
missing file, a negative T_c). Each such item is rejected with a sentence naming the file and
the line or item, and the rest are scored; only a label table that labels nothing at all stops
the evaluation, since it is almost surely the wrong table.

Inputs, through the readers of ``core.structure_files``:

- CIF or POSCAR files and folders of them, labelled by CSV tables with a file column (``file``,
  ``file_name``, ``filename``, ``name`` or ``path``) and ``tc_K``. A CSV given as an argument, or
  found in a given folder, is a label table. A row names a file relative to the table's own
  folder, or by its bare name when that name is unique among the inputs;
- JSON files whose items carry ``tc_K`` beside the structure
  (``{"name": …, "structure": {…}, "tc_K": 12.5}``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tcdb.core.errors import TcdbError
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.structure_files import InputFailure, InputStructure, read_structure_inputs

FILE_COLUMNS = ("file", "file_name", "filename", "name", "path")
LABEL_COLUMN = "tc_K"


class LabelTableError(TcdbError):
    """A labels CSV that cannot be used at all (no columns to read, or it labels no input)."""


@dataclass(frozen=True)
class LabelledStructure:
    """A structure to score and its label, with where the label was read."""

    item: InputStructure
    label_tc_K: float
    label_from: str  # "labels.csv line 3" or "batch.json#2"


@dataclass(frozen=True)
class _Label:
    value: object
    where: str  # "<csv> line <n>"
    csv_path: Path
    entry: str


def _label_value(raw: object, where: str, params: IngestParameters = INGEST) -> float | str:
    """A label as a number of kelvin, or the reason it is refused: the bounds every ingested
    T_c keeps (``IngestParameters``: 0 to 500 K, 0 or at least 10⁻⁴ K), and a JSON ``true``
    is not 1 K."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return f"{where}: tc_K is missing."
    if isinstance(raw, bool):
        return f"{where}: tc_K {str(raw).lower()} is a boolean, not a number of kelvin."
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
        return f"{where}: tc_K {shown} is not a number."
    if not math.isfinite(value):
        return f"{where}: tc_K {raw!r} is not a finite number."
    if value < params.tc_min_K:
        return f"{where}: tc_K {value:g} is " + (
            "negative." if value < 0 else f"below {params.tc_min_K:g} K."
        )
    if value > params.tc_max_K:
        return f"{where}: tc_K {value:g} is above {params.tc_max_K:g} K, the highest T_c accepted."
    if 0 < value < params.tc_floor_K:
        return f"{where}: tc_K {value:g} is above 0 but below the floor of {params.tc_floor_K:g} K."
    return value


def _read_label_table(path: Path) -> list[_Label]:
    """Every row of a labels CSV (line numbers count the header as line 1)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip() for f in reader.fieldnames or []]
            file_column = next((c for c in FILE_COLUMNS if c in fields), None)
            if file_column is None or LABEL_COLUMN not in fields:
                raise LabelTableError(
                    f"{path}: a labels CSV needs a file column ({', '.join(FILE_COLUMNS)}) "
                    f"and {LABEL_COLUMN}; its columns are {', '.join(fields) or 'none'}."
                )
            rows = []
            for line, row in enumerate(reader, start=2):
                row = {(k or "").strip(): v for k, v in row.items()}
                entry = (row.get(file_column) or "").strip()
                rows.append(_Label(row.get(LABEL_COLUMN), f"{path.name} line {line}", path, entry))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LabelTableError(f"{path}: the labels CSV cannot be read ({exc}).") from None


def _split_paths(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """(label tables, structure inputs): CSV arguments, and CSV files inside given folders."""
    tables, structures = [], []
    for path in map(Path, paths):
        if path.is_file() and path.suffix.lower() == ".csv":
            tables.append(path)
        else:
            structures.append(path)
            if path.is_dir():
                tables.extend(sorted(p for p in path.rglob("*.csv") if p.is_file()))
    unique = {table.resolve(): table for table in tables}  # a CSV given and found: read once
    return list(unique.values()), structures


def _json_item(item: InputStructure) -> bool:
    """An item of a JSON file (path ``file.json#index``), which carries its own label."""
    return Path(item.path.rpartition("#")[0] or item.path).suffix.lower() == ".json"


def _match(
    labels: list[_Label], files: list[InputStructure], rejected: list[InputFailure]
) -> dict[str, _Label]:
    """Each file's label by input path: the row naming it relative to its table, else by a
    bare name unique among the inputs. Rows that name no input, or a file labelled twice,
    are rejected."""
    by_path = {str(Path(item.path).resolve()): item.path for item in files}
    names: dict[str, list[str]] = {}
    for item in files:
        names.setdefault(Path(item.path).name, []).append(item.path)
    found: dict[str, _Label] = {}
    matched_tables: set[Path] = set()
    for label in labels:
        if not label.entry:
            rejected.append(InputFailure(label.where, f"{label.where}: the file name is empty."))
            continue
        target = by_path.get(str((label.csv_path.parent / label.entry).resolve()))
        if target is None and len(names.get(Path(label.entry).name, [])) == 1:
            target = names[Path(label.entry).name][0]
        if target is None:
            reason = f"{label.where}: no structure file {label.entry!r} among the inputs."
            rejected.append(InputFailure(label.where, reason))
            continue
        matched_tables.add(label.csv_path)
        if target in found:
            first = found[target].where
            reason = f"{label.where}: {label.entry} is labelled again (first at {first})."
            rejected.append(InputFailure(label.where, reason))
            continue
        found[target] = label
    for table in {label.csv_path for label in labels} - matched_tables:
        raise LabelTableError(
            f"{table}: no row names any of the {len(files)} structure file(s) given; "
            "a row names a file relative to the table's folder, or by its bare name."
        )
    return found


def read_labelled_structures(
    paths: Sequence[Path],
) -> tuple[list[LabelledStructure], list[InputFailure]]:
    """The labelled structures in ``paths`` and every input, row or item rejected, with why."""
    tables, structure_paths = _split_paths(paths)
    inputs, rejected = read_structure_inputs(structure_paths) if structure_paths else ([], [])
    labels = [label for table in tables for label in _read_label_table(table)]
    files = [item for item in inputs if not _json_item(item)]  # JSON items carry their own
    by_file = _match(labels, files, rejected) if labels else {}
    labelled: list[LabelledStructure] = []
    for item in inputs:
        if _json_item(item):
            raw, where = item.tc_K, item.path
        elif item.path in by_file:
            raw, where = by_file[item.path].value, by_file[item.path].where
            where = f"{where} ({Path(item.path).name})"
        else:
            reason = f"{item.path}: no label (no labels CSV row names it)."
            rejected.append(InputFailure(item.path, reason))
            continue
        value = _label_value(raw, where)
        if isinstance(value, str):
            rejected.append(InputFailure(item.path, value))
        else:
            labelled.append(LabelledStructure(item, value, where))
    return labelled, rejected
