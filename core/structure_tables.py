"""Structures by the million: JSON-lines and Parquet files of structures, read in slices.

Why: a random search or a crystal-structure search writes its structures into one big file, not
one CIF each. Such a file is read a slice of rows at a time (``TableSlice``: a byte offset for
JSON lines, row groups for Parquet), so neither this process nor a Ray task holds it whole, and
a row that is not a usable structure is reported with its row number and reason while the
others go on.

The schema (docs/scaling.md):

- JSON lines (``*.jsonl``, ``*.ndjson``): one JSON object per line, either a pymatgen
  ``Structure.as_dict()`` or ``{"name": ..., "structure": {...}}`` (what a JSON list holds);
  blank lines count as rows and are skipped.
- Parquet (``*.parquet``): a text column ``structure`` holding ``Structure.as_dict()`` as JSON,
  or three columns ``lattice`` (9 numbers, the rows of the 3 × 3 matrix in Å, or 3 lists of 3),
  ``species`` (element symbols) and ``frac_coords`` (one [x, y, z] per site); an optional
  ``name`` column names each row.

Rows are counted from 0; an input is named ``file#row``, like an item of a JSON list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.parameters import INGEST, IngestParameters
from core.records import Rejection
from core.structure_inputs import InputFailure, InputStructure
from core.structures import record_from_structure

JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
SITE_COLUMNS = ("lattice", "species", "frac_coords")


@dataclass(frozen=True)
class TableSlice:
    """Rows ``first`` … ``first + rows - 1`` of one file; ``offset`` is the byte where row
    ``first`` starts in a JSON-lines file (Parquet files are read by row group)."""

    path: str
    first: int
    rows: int
    offset: int = 0


def is_table(path: Path) -> bool:
    return path.suffix.lower() in JSONL_SUFFIXES + PARQUET_SUFFIXES


def slices(path: Path, size: int) -> list[TableSlice]:
    """The file cut into slices of ``size`` rows (one pass over a JSON-lines file to find
    where each slice starts; a Parquet file's row count is in its footer)."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq

        total = pq.ParquetFile(path).metadata.num_rows
        return [TableSlice(str(path), f, min(size, total - f)) for f in range(0, total, size)]
    cuts: list[TableSlice] = []
    row, offset, first, first_offset = 0, 0, 0, 0
    with path.open("rb") as handle:
        for line in handle:
            if row - first == size:
                cuts.append(TableSlice(str(path), first, size, first_offset))
                first, first_offset = row, offset
            row += 1
            offset += len(line)
    if row > first:
        cuts.append(TableSlice(str(path), first, row - first, first_offset))
    return cuts


def _jsonl_rows(piece: TableSlice) -> Iterator[tuple[int, Any]]:
    with open(piece.path, "rb") as handle:
        handle.seek(piece.offset)
        for k in range(piece.rows):
            line = handle.readline()
            yield piece.first + k, line


def _parquet_rows(piece: TableSlice) -> Iterator[tuple[int, dict]]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(piece.path)
    start, stop = piece.first, piece.first + piece.rows
    row = 0
    for group in range(file.metadata.num_row_groups):
        count = file.metadata.row_group(group).num_rows
        if row + count > start and row < stop:
            table = file.read_row_group(group)
            low, high = max(start, row) - row, min(stop, row + count) - row
            for k, item in enumerate(table.slice(low, high - low).to_pylist()):
                yield row + low + k, item
        row += count
        if row >= stop:
            break


def _structure_of_row(item: dict) -> tuple[str | None, dict]:
    """(name, Structure.as_dict()) of one Parquet row; a ValueError says what is missing."""
    name = item.get("name")
    if item.get("structure") is not None:
        data = item["structure"]
        return name, json.loads(data) if isinstance(data, str | bytes) else data
    missing = [c for c in SITE_COLUMNS if item.get(c) is None]
    if missing:
        raise ValueError(f"no 'structure' column and no {', '.join(missing)}")
    from pymatgen.core import Lattice, Structure

    lattice = item["lattice"]
    matrix = [lattice[0:3], lattice[3:6], lattice[6:9]] if len(lattice) == 9 else lattice
    structure = Structure(Lattice(matrix), item["species"], item["frac_coords"])
    return name, structure.as_dict()


def read_slice(
    piece: TableSlice, params: IngestParameters = INGEST
) -> tuple[list[InputStructure], list[InputFailure]]:
    """The structures of one slice and the rows that are not, each failure naming ``file#row``
    and why."""
    from pymatgen.core import Structure

    path = Path(piece.path)
    jsonl = path.suffix.lower() in JSONL_SUFFIXES
    inputs, failures = [], []
    for row, raw in _jsonl_rows(piece) if jsonl else _parquet_rows(piece):
        ref = f"{path}#{row}"
        try:
            if jsonl:
                if not raw.strip():
                    continue
                item = json.loads(raw)
                if not isinstance(item, dict):
                    raise ValueError("the line is not a JSON object")
                name, data = (item.get("name"), item["structure"]) if "structure" in item and (
                    "lattice" not in item) else (None, item)  # fmt: skip
            else:
                name, data = _structure_of_row(raw)
            structure = Structure.from_dict(data)
        except Exception as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            failures.append(InputFailure(ref, f"{ref}: not a structure ({message})."))
            continue
        record = record_from_structure(structure, json.dumps(data, sort_keys=True), ref, params)
        if isinstance(record, Rejection):
            failures.append(InputFailure(ref, record.reason))
        else:
            inputs.append(InputStructure(str(name) if name else f"{path.name}#{row}", ref, record))
    return inputs, failures
