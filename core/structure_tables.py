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

Only regular files are read (``core.safe_reads``): a FIFO or a device named ``*.jsonl`` is
refused, and so is a ``.parquet`` file that is not Parquet (``TableReadError``, one sentence).
A JSON-lines row is read no further than ``max_structure_bytes`` (a longer one is refused and
skipped, never held whole), and a row with more than ``max_structure_sites`` sites is refused
before pymatgen builds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tcdb.core.errors import TcdbError
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection
from tcdb.core.safe_reads import open_regular, regular_size
from tcdb.core.structure_inputs import InputFailure, InputStructure
from tcdb.core.structures import record_from_structure, sites_problem

READ_CHUNK = 1 << 20  # bytes a JSON-lines file is scanned by, whatever its lines' lengths

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


class TableReadError(TcdbError):
    """A file of many structures that cannot be read at all (not Parquet, not a regular file):
    one sentence naming it; the other inputs go on."""


def is_table(path: Path) -> bool:
    return path.suffix.lower() in JSONL_SUFFIXES + PARQUET_SUFFIXES


def slices(path: Path, size: int) -> list[TableSlice]:
    """The file cut into slices of ``size`` rows (one pass over a JSON-lines file to find
    where each slice starts; a Parquet file's row count is in its footer). A file that is not
    a regular file, or a ``.parquet`` that is not Parquet, raises a one-sentence error."""
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        total = _parquet_file(path).metadata.num_rows
        return [TableSlice(str(path), f, min(size, total - f)) for f in range(0, total, size)]
    cuts: list[TableSlice] = []
    row, offset, first, first_offset = 0, 0, 0, 0
    with open_regular(path) as (handle, _):
        for length in _line_lengths(handle):
            if row - first == size:
                cuts.append(TableSlice(str(path), first, size, first_offset))
                first, first_offset = row, offset
            row += 1
            offset += length
    if row > first:
        cuts.append(TableSlice(str(path), first, row - first, first_offset))
    return cuts


def _line_lengths(handle) -> Iterator[int]:
    """The byte length of every line, read a bounded chunk at a time (one line of a
    gigabyte is never held whole)."""
    length = 0
    while chunk := handle.readline(READ_CHUNK):
        length += len(chunk)
        if chunk.endswith(b"\n"):
            yield length
            length = 0
    if length:
        yield length


def _parquet_file(path: Path):
    """The opened Parquet file, or a TableReadError naming it (not a regular file, or not
    Parquet: pyarrow's ArrowInvalid is said in one sentence)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    regular_size(path)
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        detail = _one_line(exc).rstrip(".")
        raise TableReadError(f"{path} is not a readable Parquet file ({detail}).") from None


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _jsonl_rows(piece: TableSlice, limit: int) -> Iterator[tuple[int, Any]]:
    """(row, the line's bytes) of the slice; a line longer than ``limit`` is given as None
    after being skipped a chunk at a time."""
    with open_regular(Path(piece.path)) as (handle, _):
        handle.seek(piece.offset)
        for k in range(piece.rows):
            yield piece.first + k, _bounded_line(handle, limit)


def _bounded_line(handle, limit: int) -> bytes | None:
    """The next line, or None (and the line skipped) when it is longer than ``limit``."""
    line = handle.readline(limit + 1)
    if len(line) <= limit or line.endswith(b"\n"):
        return line
    while (more := handle.readline(READ_CHUNK)) and not more.endswith(b"\n"):
        pass
    return None


def _parquet_rows(piece: TableSlice) -> Iterator[tuple[int, dict]]:
    file = _parquet_file(Path(piece.path))
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
    and why; a slice that cannot be read at all is one failure naming its rows."""
    path = Path(piece.path)
    inputs: list[InputStructure] = []
    failures: list[InputFailure] = []
    try:
        for row, raw in _raw_rows(piece, params):
            _read_row(path, row, raw, params, inputs, failures)
    except (TcdbError, OSError, ValueError, NotImplementedError) as exc:
        # the file itself: gone, not a regular file, or a row group pyarrow cannot read
        failures.append(_unreadable_slice(path, piece, exc))
    return inputs, failures


def _unreadable_slice(path: Path, piece: TableSlice, exc: Exception) -> InputFailure:
    ref = f"{path}#{piece.first}"
    last = piece.first + piece.rows - 1
    detail = str(exc) if isinstance(exc, TcdbError) else f"{type(exc).__name__}: {_one_line(exc)}"
    return InputFailure(ref, f"{ref}: rows {piece.first:,} to {last:,} cannot be read ({detail}).")


def _raw_rows(piece: TableSlice, params: IngestParameters) -> Iterator[tuple[int, Any]]:
    if Path(piece.path).suffix.lower() in JSONL_SUFFIXES:
        return _jsonl_rows(piece, params.max_structure_bytes)
    return _parquet_rows(piece)


def _read_row(
    path: Path,
    row: int,
    raw: Any,
    params: IngestParameters,
    inputs: list[InputStructure],
    failures: list[InputFailure],
) -> None:
    """One row as an input, or a failure naming ``file#row``; a blank line is skipped."""
    from pymatgen.core import Structure

    ref = f"{path}#{row}"
    jsonl = path.suffix.lower() in JSONL_SUFFIXES
    if jsonl and raw is None:
        failures.append(InputFailure(ref, f"{ref}: the line is longer than "
                                          f"{params.max_structure_bytes:,} bytes "
                                          "(max_structure_bytes); it was not read."))  # fmt: skip
        return
    try:
        if jsonl:
            if not raw.strip():
                return
            name, data = _structure_of_line(raw)
            too_many = sites_problem(data, ref, params)
        else:
            too_many = sites_problem(raw, ref, params)  # site columns, counted before building
            if too_many is None:
                name, data = _structure_of_row(raw)
                too_many = sites_problem(data, ref, params)  # a 'structure' column's sites
        if too_many is not None:
            failures.append(InputFailure(ref, too_many.reason))
            return
        structure = Structure.from_dict(data)
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        failures.append(InputFailure(ref, f"{ref}: not a structure ({message})."))
        return
    record = record_from_structure(structure, json.dumps(data, sort_keys=True), ref, params)
    if isinstance(record, Rejection):
        failures.append(InputFailure(ref, record.reason))
    else:
        inputs.append(InputStructure(str(name) if name else f"{path.name}#{row}", ref, record))


def _structure_of_line(raw: bytes) -> tuple[str | None, Any]:
    """(name, structure dict) of one JSON line; a ValueError says what is wrong."""
    item = json.loads(raw)
    if not isinstance(item, dict):
        raise ValueError("the line is not a JSON object")
    if "structure" in item and "lattice" not in item:
        return item.get("name"), item["structure"]
    return None, item
