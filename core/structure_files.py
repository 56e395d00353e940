"""Structures a user hands over for prediction: CIF or POSCAR files, folders of them, or JSON.

Why: ``tcdb predict`` must accept what computational materials scientists have on disk — the
CIF a paper published, the POSCAR/CONTCAR of a relaxation, or a JSON list of pymatgen
``Structure.as_dict()`` objects written by their own scripts — and say clearly which inputs it
could not use, while predicting the rest. Each input becomes a ``StructureRecord`` through the
same checks as ingested CIFs (``core.structures``), so its space group is found with the
same tolerances the training structures had.

Recognised files: ``*.cif``; ``*.json``; ``*.vasp``, ``*.poscar`` and names starting with
``POSCAR`` or ``CONTCAR``; JSON lines (``*.jsonl``, ``*.ndjson``) and Parquet (``*.parquet``)
files of many structures (``core.structure_tables``, one structure per row). A folder is
searched recursively for those, in sorted order. A file given explicitly with another name is
read as a POSCAR. A JSON file holds one structure or a
list; an item is a structure dict, or ``{"name": ..., "structure": {...}}``; an item's
``tc_K`` (a label, for ``tcdb evaluate``) is kept as given, unchecked.
The cell is used as given (the Fourier representation depends on it; no standardisation).
Only regular files are read, each no further than its limit (``core.safe_reads``;
``max_structure_bytes`` for a CIF or POSCAR, ``max_structure_list_bytes`` for JSON), and a
structure with more than ``max_structure_sites`` sites is refused before it is built: a FIFO,
a device or a huge file is one failure naming it, never a hang.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tcdb.core.errors import TcdbError
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection
from tcdb.core.safe_reads import FileRefusedError, kind_of, read_limited
from tcdb.core.structure_inputs import InputFailure, InputStructure
from tcdb.core.structure_tables import is_table, read_slice, slices
from tcdb.core.structures import (
    StructureRecord,
    parse_structure,
    record_from_structure,
    sites_problem,
)

log = logging.getLogger(__name__)

POSCAR_SUFFIXES = (".vasp", ".poscar")
POSCAR_PREFIXES = ("POSCAR", "CONTCAR")
TABLE_SLICE_ROWS = 4096  # rows of a JSON-lines or Parquet file parsed at a time


def _kind(path: Path) -> str | None:
    """'cif', 'json', 'poscar' or None for a file a folder search should skip."""
    suffix = path.suffix.lower()
    if is_table(path):
        return "table"
    if suffix == ".cif":
        return "cif"
    if suffix == ".json":
        return "json"
    if suffix in POSCAR_SUFFIXES or path.name.startswith(POSCAR_PREFIXES):
        return "poscar"
    return None


def input_files(paths: Sequence[Path], failures: list[InputFailure]) -> Iterator[tuple[Path, str]]:
    """Every input file with its kind ('cif', 'json', 'poscar' or 'table'); missing paths and
    empty folders become failures."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _kind(p))
            if not found:
                reason = f"{path}: no CIF, POSCAR or JSON files (nor JSON lines or Parquet)."
                failures.append(InputFailure(str(path), reason))
            for file in found:
                yield file, _kind(file) or "poscar"
        elif path.is_file():
            yield path, _kind(path) or "poscar"
        else:
            failures.append(InputFailure(str(path), _not_there(path)))


def _not_there(path: Path) -> str:
    """Why a path given is neither a file nor a folder: missing, or something else (a FIFO, a
    device), which is never opened."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return f"{path}: no such file or folder."
    return f"{path} is {kind_of(mode)}, not a file or folder; it was not read."


def _read_text(path: Path, limit: int, limit_name: str) -> str | Rejection:
    """The file as UTF-8 text, or why not: a file that is no longer regular, or larger than
    ``limit``, is refused before it is read."""
    try:
        return read_limited(path, limit, limit_name=limit_name).decode("utf-8")
    except FileRefusedError as exc:
        return exc.rejection()
    except (OSError, UnicodeDecodeError) as exc:
        return Rejection("unreadable", f"{path}: the file cannot be read as text ({exc}).")


def _text_of(path: Path, kind: str, params: IngestParameters) -> str | Rejection:
    """A whole file's text, under the limit for its kind."""
    if kind == "json":
        return _read_text(path, params.max_structure_list_bytes, "max_structure_list_bytes")
    return _read_text(path, params.max_structure_bytes, "max_structure_bytes")


def _poscar(text: str, ref: str, params: IngestParameters) -> StructureRecord | Rejection:
    from pymatgen.io.vasp import Poscar

    try:
        structure = Poscar.from_str(text).structure
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        return Rejection("poscar_unparsable", f"{ref}: not a readable POSCAR ({message}).")
    return record_from_structure(structure, text, ref, params)


def _json_items(data: Any) -> Iterable[tuple[str | None, Any, Any]]:
    """(name, structure dict, tc_K) of each item; a bare structure dict may carry tc_K too."""
    items = data if isinstance(data, list) else [data]
    for item in items:
        label = item.get("tc_K") if isinstance(item, dict) else None
        if isinstance(item, dict) and "structure" in item and "lattice" not in item:
            yield item.get("name"), item["structure"], label
        elif isinstance(item, dict) and "tc_K" in item:
            yield None, {k: v for k, v in item.items() if k != "tc_K"}, label
        else:
            yield None, item, None


def _json(
    path: Path, text: str, params: IngestParameters, failures: list[InputFailure]
) -> Iterator[InputStructure]:
    from pymatgen.core import Structure

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        failures.append(InputFailure(str(path), f"{path}: not valid JSON ({exc})."))
        return
    for index, (name, item, label) in enumerate(_json_items(data)):
        ref = f"{path}#{index}"
        too_many = sites_problem(item, ref, params)
        if too_many is not None:
            failures.append(InputFailure(ref, too_many.reason))
            continue
        try:
            structure = Structure.from_dict(item)
        except Exception as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            failures.append(
                InputFailure(
                    ref, f"{ref}: not a pymatgen structure ({type(exc).__name__}: {message})."
                )
            )
            continue
        record = record_from_structure(structure, json.dumps(item, sort_keys=True), ref, params)
        if isinstance(record, Rejection):
            failures.append(InputFailure(ref, record.reason))
        else:
            name = str(name) if name else f"{path.name}#{index}"
            yield InputStructure(name, ref, record, label)


def read_structure_inputs(
    paths: Sequence[Path], params: IngestParameters = INGEST
) -> tuple[list[InputStructure], list[InputFailure]]:
    """Every structure in ``paths`` and every input that could not be read, in input order."""
    structures: list[InputStructure] = []
    failures: list[InputFailure] = []
    for path, kind in input_files(paths, failures):
        if kind == "table":  # JSON lines or Parquet: read a slice at a time
            _read_table(path, params, structures, failures)
            continue
        text = _text_of(path, kind, params)
        if isinstance(text, Rejection):
            failures.append(InputFailure(str(path), text.reason))
            continue
        if kind == "json":
            structures.extend(_json(path, text, params, failures))
            continue
        parse = parse_structure if kind == "cif" else _poscar
        record = parse(text, str(path), params)
        if isinstance(record, Rejection):
            failures.append(InputFailure(str(path), record.reason))
        else:
            structures.append(InputStructure(path.name, str(path), record))
    log.info("read %d structures; %d inputs failed", len(structures), len(failures))
    return structures, failures


def _read_table(
    path: Path,
    params: IngestParameters,
    structures: list[InputStructure],
    failures: list[InputFailure],
) -> None:
    """The structures of a JSON-lines or Parquet file, a slice at a time; a file that cannot
    be read at all (not Parquet, not a regular file) is one failure naming it."""
    try:
        pieces = slices(path, TABLE_SLICE_ROWS)
    except (TcdbError, OSError) as exc:
        failures.append(InputFailure(str(path), _table_failure(path, exc)))
        return
    for piece in pieces:
        found, refused = read_slice(piece, params)
        structures.extend(found)
        failures.extend(refused)


def _table_failure(path: Path, exc: Exception) -> str:
    if isinstance(exc, TcdbError):
        return str(exc)
    return f"{path}: the file cannot be read ({exc.strerror or type(exc).__name__})."
