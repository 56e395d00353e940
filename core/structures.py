"""Crystal structures read from CIF text, ready to become ``crystal_structure`` rows.

Two sources feed this module: the offline Materials Project mirror (a .tar.gz of CIFs written
by pymatgen, read here without unpacking it) and the literature hydride CIFs, whose file names
carry the pressure. ``parse_structure`` is pure: it turns one CIF text into a
``StructureRecord`` or a ``Rejection`` and never raises, so a bad file is counted and explained
rather than stopping a run. ``parse_many`` spreads the work over processes, because symmetry
expansion in pymatgen's CIF parser and spglib's space-group search take milliseconds per
structure and there are thousands of structures.

Choices made here:
- Partial occupancies are kept: pymatgen represents disordered sites, and ``amounts`` then sums
  the occupancies. The record says ``is_ordered=False`` and carries a warning.
- A structure whose space group cannot be found is kept with ``spacegroup_number`` and
  ``spacegroup_symbol`` None and a warning; the lattice and composition are still good.
- pymatgen's warnings are captured, never printed, and kept on the record in ``warnings``
  (for example "fractional coordinates rounded" or a stoichiometry mismatch with the CIF's
  formula), because some of them mean the structure differs from the file.
- Only the first structure of a file with several data blocks is kept; a warning says so.
- A CIF is refused unexpanded when its sites would exceed ``max_structure_sites``: they are
  counted from the listed atoms and symmetry operations first, because pymatgen's expansion
  takes time quadratic in the sites (a CIF of 10⁶ sites ran for over 10 minutes).
- The archive is read member by member as a stream, each member judged by its header before
  its data is touched (``iter_tar_cifs``); a damaged archive is one ``FileRefusedError``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import math
import os
import re
import sys
import tarfile
import time
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection
from tcdb.core.safe_reads import FileRefusedError, open_regular
from tcdb.core.text import decode_lenient, text_problem
from tcdb.core.workers import pool_context, start_worker

if TYPE_CHECKING:
    from pymatgen.core import Composition, Structure

log = logging.getLogger(__name__)

ARCHIVE_REASON_CODES: dict[str, str] = {
    "damaged_archive": "the .tar.gz is cut short, not gzip, or has a broken header",
    "archive_too_large": "the archive's members declare more than max_archive_bytes together",
}
"""The ``reason_code`` of a ``FileRefusedError`` refusing a whole archive (``iter_tar_cifs``)."""

REASON_CODES: dict[str, str] = {
    "cif_unparsable": "empty text, no CIF data block, or no structure pymatgen could build",
    "no_structure": "the CIF has no atom-site coordinates, or no atoms",
    "bad_lattice": "a cell parameter that is not a number or not positive, or a flat cell",
    "unknown_species": "a site species that is not an element (a dummy such as Xx)",
    "binary_file": "the file holds a NUL byte: it is binary, not a CIF",
    "undecodable_text": "a byte that is not UTF-8 (the message gives the byte and its offset)",
    "non_finite_value": "a coordinate, cell parameter or density that is NaN or infinite",
    "too_many_sites": "more sites than max_structure_sites, refused before the expensive parse",
    "file_too_large": "a CIF longer than max_structure_bytes, refused before it is read",
}
"""Every ``reason_code`` that ``parse_structure`` returns, with what it means."""

MIN_ITEMS_FOR_POOL = 50
"""Below this many CIFs, parsing in-process is quicker than starting worker processes."""

PRELOAD = ("pymatgen.core", "pymatgen.io.cif", "pymatgen.symmetry.analyzer")
"""Imported once by the fork server the workers come from, rather than by every worker."""

MAX_CHUNKSIZE = 32
"""Upper bound on CIFs sent to a worker at once; smaller chunks balance uneven structures."""

MIN_VOLUME_A3 = 1e-3
"""A cell smaller than this (Å³) is treated as degenerate."""

CM3_PER_A3 = 1e-24

CELL_LENGTHS = ("_cell_length_a", "_cell_length_b", "_cell_length_c")
CELL_ANGLES = ("_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma")
ATOM_SITE_KEYS = ("_atom_site_fract_x", "_atom_site_cartn_x")
FRACTIONAL_KEYS = ("_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z")
SYMMETRY_OPERATION_KEYS = (  # where pymatgen looks for them, in its order
    "_symmetry_equiv_pos_as_xyz",
    "_symmetry_equiv_pos_as_xyz_",
    "_space_group_symop_operation_xyz",
    "_space_group_symop_operation_xyz_",
)
MAX_SYMMETRY_OPERATIONS = 192
"""No space group has more operations in its conventional cell (Fm-3m and the other F cubic
groups); a CIF listing more is refused before they are parsed."""

MAX_GENERATED_PER_SITE = 16
"""Atom sites × symmetry operations may not exceed this many times ``max_structure_sites``:
pymatgen applies every operation to every listed site before merging, and that costs time
even when the positions coincide (96,000 positions merging into 1,900 sites took 3.9 s)."""

POSITION_GRID = 1e-4
"""Fractional coordinates are counted on a grid this fine, pymatgen's own site tolerance, to
estimate how many distinct positions the operations make of each listed site."""
AGGREGATE_WARNING = "Issues encountered while parsing CIF:"

_PRESSURE_IN_NAME = re.compile(r"(?:^|_)(\d+(?:\.\d+)?)\s*GPa(?:_|\.|$)", re.IGNORECASE)


@dataclass(frozen=True)
class StructureRecord:
    """The values of a ``crystal_structure`` row that come from the CIF itself."""

    formula: str  # the cell's formula, e.g. "Mg1H13"
    reduced_formula: str  # e.g. "MgH13"
    n_sites: int
    a_A: float
    b_A: float
    c_A: float
    alpha_deg: float
    beta_deg: float
    gamma_deg: float
    volume_A3: float
    density_g_cm3: float | None
    spacegroup_number: int | None  # None when the symmetry search failed
    spacegroup_symbol: str | None
    symprec: float
    structure_json: str  # pymatgen Structure.as_dict() as JSON text
    cif_text: str
    content_sha256: str  # sha256 of the CIF text (UTF-8)
    amounts: dict[str, float]  # element -> amount in the cell (occupancies summed)
    is_ordered: bool = True
    warnings: tuple[str, ...] = field(default=())


ParseResult = tuple[str, StructureRecord | Rejection]
"""A record reference with what its CIF became."""


# ------------------------------------------------------------------------------ one CIF


def parse_structure(
    cif_text: str, record_ref: str, params: IngestParameters = INGEST
) -> StructureRecord | Rejection:
    """One CIF text as a record, or the reason it cannot be one; never raises for bad input."""
    try:
        return _parse_structure(cif_text, record_ref, params)
    except Exception as exc:  # a pymatgen or spglib failure not foreseen below
        return Rejection(
            "cif_unparsable",
            f"{record_ref}: the CIF could not be read ({type(exc).__name__}: {_one_line(exc)}).",
        )


def sites_problem(
    data: Any, record_ref: str, params: IngestParameters = INGEST
) -> Rejection | None:
    """A structure given as data (pymatgen's ``as_dict()`` with its ``sites``, or a table row
    with a ``species`` list) that has more sites than ``max_structure_sites``: refused before
    pymatgen builds it."""
    if not isinstance(data, Mapping):
        return None
    sites = data.get("sites", data.get("species"))
    if not isinstance(sites, list | tuple) or len(sites) <= params.max_structure_sites:
        return None
    return Rejection(
        "too_many_sites",
        f"{record_ref}: the structure has {len(sites):,} sites, more than the limit of "
        f"{params.max_structure_sites:,} (max_structure_sites); it was not built.",
    )


def record_from_structure(
    structure: Structure, source_text: str, record_ref: str, params: IngestParameters = INGEST
) -> StructureRecord | Rejection:
    """A structure read by other means (POSCAR, pymatgen JSON) as a record; never raises.

    ``source_text`` is what the structure was read from; its hash identifies the record.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            built = _build_record(structure, source_text, record_ref, params)
    except Exception as exc:
        return Rejection(
            "no_structure",
            f"{record_ref}: the structure cannot be used ({type(exc).__name__}: {_one_line(exc)}).",
        )
    if isinstance(built, Rejection):
        return built
    notes = _warning_texts(caught, [])
    return replace(built, warnings=tuple(dict.fromkeys([*notes, *built.warnings])))


def _parse_structure(
    cif_text: str, record_ref: str, params: IngestParameters
) -> StructureRecord | Rejection:
    if not isinstance(cif_text, str):
        return Rejection("cif_unparsable", f"{record_ref}: the CIF is not text.")
    if not cif_text.strip():
        return Rejection("cif_unparsable", f"{record_ref}: the CIF is empty.")
    if len(cif_text) > params.max_structure_bytes:  # characters: never more than its bytes
        return Rejection(
            "file_too_large",
            f"{record_ref}: the CIF holds {len(cif_text):,} characters, more than the limit of "
            f"{params.max_structure_bytes:,} bytes (max_structure_bytes).",
        )
    problem = text_problem(cif_text, record_ref)
    if problem is not None:
        return problem
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _read_cif(cif_text, record_ref, params)
        if isinstance(outcome, Rejection):
            return outcome
        structures, parser_notes = outcome
        built = _build_record(structures[0], cif_text, record_ref, params)
    if isinstance(built, Rejection):
        return built
    notes = _warning_texts(caught, parser_notes)
    if len(structures) > 1:
        notes.append(f"the CIF holds {len(structures)} structures; only the first is kept")
    return replace(built, warnings=tuple(dict.fromkeys([*notes, *built.warnings])))


def _read_cif(
    cif_text: str, record_ref: str, params: IngestParameters
) -> tuple[list[Structure], list[str]] | Rejection:
    """pymatgen's structures in the text, after checks that name what is wrong (the sites
    are counted before pymatgen expands them, which costs time quadratic in the sites)."""
    from pymatgen.io.cif import CifParser

    try:
        parser = CifParser.from_str(cif_text)
        blocks = parser.as_dict()
    except Exception as exc:
        return Rejection(
            "cif_unparsable", f"{record_ref}: the text is not a readable CIF ({_one_line(exc)})."
        )
    if not blocks:
        return Rejection("cif_unparsable", f"{record_ref}: the text contains no CIF data block.")
    with_sites = [block for block in blocks.values() if _has_atom_sites(block)]
    if not with_sites:
        return Rejection("no_structure", f"{record_ref}: the CIF has no atom-site coordinates.")
    problem = _lattice_problem(with_sites[0])
    if problem:
        return Rejection("bad_lattice", f"{record_ref}: {problem}.")
    problem = _sites_problem(parser, with_sites, params.max_structure_sites)
    if problem:
        return Rejection("too_many_sites", f"{record_ref}: {problem}; it was not expanded.")
    try:
        structures = parser.parse_structures(primitive=False, on_error="warn")
    except Exception as exc:
        detail = "; ".join(_one_line(note) for note in parser.warnings) or _one_line(exc)
        code = "bad_lattice" if "singular matrix" in detail.lower() else "cif_unparsable"
        return Rejection(
            code, f"{record_ref}: pymatgen built no structure from the CIF ({detail})."
        )
    return structures, list(parser.warnings)


def _sites_problem(parser: Any, blocks: list[Mapping[str, Any]], limit: int) -> str | None:
    """Why the blocks would make too many sites, or None: counted from the listed sites and
    symmetry operations before pymatgen expands them (its own count is checked after)."""
    total = 0
    for block in blocks:
        found = _block_sites(parser, block, limit)
        if isinstance(found, str):
            return found
        total += found
    if total > limit:
        return (
            f"its {len(blocks)} data blocks make about {total:,} sites together, more than the "
            f"limit of {limit:,} (max_structure_sites)"
        )
    return None


def _block_sites(parser: Any, block: Mapping[str, Any], limit: int) -> int | str:
    """An upper estimate of the sites one block makes, or why it is refused unexpanded."""
    keys = {key.lower(): value for key, value in block.items()}
    rows = len(_rows(next(keys[k] for k in ATOM_SITE_KEYS if k in keys)))
    if rows > limit:
        return (
            f"the CIF lists {rows:,} atom sites, more than the limit of {limit:,} "
            "(max_structure_sites)"
        )
    listed = next((len(_rows(keys[k])) for k in SYMMETRY_OPERATION_KEYS if keys.get(k)), 0)
    if listed > MAX_SYMMETRY_OPERATIONS:
        return (
            f"the CIF lists {listed:,} symmetry operations; no space group has more than "
            f"{MAX_SYMMETRY_OPERATIONS}"
        )
    if listed and rows * listed <= limit:
        return rows * listed  # every operation applied to every site stays within the limit
    operations = _symmetry_operations(parser, block)
    generated = rows * len(operations)
    if generated <= limit:
        return generated
    if generated > MAX_GENERATED_PER_SITE * limit:
        return (
            f"its {rows:,} atom sites under {len(operations)} symmetry operations make "
            f"{generated:,} positions to merge, more than {MAX_GENERATED_PER_SITE} × the limit "
            f"of {limit:,} sites (max_structure_sites)"
        )
    estimate = _distinct_positions(keys, operations, rows)
    if estimate > limit:
        return (
            f"its {rows:,} atom sites expand to about {estimate:,} sites under "
            f"{len(operations)} symmetry operations, more than the limit of {limit:,} "
            "(max_structure_sites)"
        )
    return estimate


def _rows(value: Any) -> list:
    """A CIF item's values: a list in a loop, one value otherwise."""
    return value if isinstance(value, list) else [value]


def _symmetry_operations(parser: Any, block: Mapping[str, Any]) -> list:
    """The operations pymatgen will apply to the block (listed, or from its space group)."""
    from pymatgen.io.cif import CifBlock

    saved = list(parser.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen says the same again when it parses
        operations = parser.get_symops(CifBlock(dict(block), [], ""))
    parser.warnings[:] = saved
    return operations


def _distinct_positions(keys: Mapping[str, Any], operations: list, rows: int) -> int:
    """How many positions the operations make of each listed site, summed over the sites (an
    upper estimate: pymatgen may merge sites that coincide); sites given in Cartesian
    coordinates, or with a coordinate that is not a number, count every operation."""
    import numpy as np

    if not all(k in keys for k in FRACTIONAL_KEYS):
        return rows * len(operations)
    coordinates = np.array([[_number(v) for v in _rows(keys[k])[:rows]] for k in FRACTIONAL_KEYS])
    coordinates = coordinates.T  # (rows, 3)
    readable = coordinates[np.isfinite(coordinates).all(axis=1)]
    rotations = np.array([op.rotation_matrix for op in operations])  # (ops, 3, 3)
    shifts = np.array([op.translation_vector for op in operations])  # (ops, 3)
    moved = np.einsum("oij,rj->roi", rotations, readable) + shifts  # (sites, ops, 3)
    n_cells = round(1 / POSITION_GRID)
    cells = np.round(np.mod(moved, 1.0) * n_cells).astype(np.int64) % n_cells
    owner = np.repeat(np.arange(len(readable)), len(operations))
    distinct = len(np.unique(np.column_stack([owner, cells.reshape(-1, 3)]), axis=0))
    return distinct + (len(coordinates) - len(readable)) * len(operations)


def _number(value: Any) -> float:
    """A CIF number such as ``0.1234(5)``; NaN for ``?``, ``.`` or text."""
    from pymatgen.io.cif import str2float

    try:
        return float(str2float(value))
    except (ValueError, TypeError):
        return math.nan


def _has_atom_sites(block: Mapping[str, Any]) -> bool:
    keys = {key.lower() for key in block}
    return any(key in keys for key in ATOM_SITE_KEYS)


def _lattice_problem(block: Mapping[str, Any]) -> str | None:
    """What is wrong with the cell parameters the block gives, if anything."""
    from pymatgen.io.cif import str2float

    given = {key.lower(): value for key, value in block.items()}
    values: dict[str, float] = {}
    for key in CELL_LENGTHS + CELL_ANGLES:
        if key not in given:
            continue  # pymatgen may infer missing lengths from the crystal system
        raw = given[key]
        try:
            values[key] = str2float(raw if isinstance(raw, str) else raw[0])
        except (ValueError, TypeError, IndexError):
            return f"{key} = {raw!r} is not a number"
        if not math.isfinite(values[key]):
            return f"{key} = {raw!r} is not finite"
    for key in CELL_LENGTHS:
        if key in values and values[key] <= 0:
            return f"{key} is {values[key]:g} Å, a lattice vector of zero or negative length"
    for key in CELL_ANGLES:
        if key in values and not 0 < values[key] < 180:
            return f"{key} is {values[key]:g}°, outside (0, 180)"
    if len(values) == 6 and _volume_factor(*(values[key] for key in CELL_ANGLES)) <= 0:
        return "the cell angles span no volume"
    return None


def _volume_factor(alpha: float, beta: float, gamma: float) -> float:
    """V² / (abc)² for the given angles in degrees; zero or less means no cell."""
    ca, cb, cg = (math.cos(math.radians(angle)) for angle in (alpha, beta, gamma))
    return 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg


def _build_record(
    structure: Structure,
    cif_text: str,
    record_ref: str,
    params: IngestParameters,
) -> StructureRecord | Rejection:
    """Checks on the built structure, then the symmetry search and the row's values."""
    from pymatgen.core.periodic_table import DummySpecies

    composition = structure.composition
    unknown = sorted({sp.symbol for sp in composition if isinstance(sp, DummySpecies)})
    if unknown:
        return Rejection(
            "unknown_species",
            f"{record_ref}: the CIF has species that are not elements ({', '.join(unknown)}).",
        )
    if len(structure) == 0:
        return Rejection("no_structure", f"{record_ref}: the CIF has no atoms.")
    if len(structure) > params.max_structure_sites:  # before the symmetry search
        return Rejection(
            "too_many_sites",
            f"{record_ref}: the structure has {len(structure):,} sites, more than the limit of "
            f"{params.max_structure_sites:,} (max_structure_sites).",
        )
    if not _all_finite(structure):
        return Rejection(
            "non_finite_value",
            f"{record_ref}: a coordinate or cell parameter is NaN or infinite.",
        )
    volume = structure.lattice.volume
    if not math.isfinite(volume) or volume < MIN_VOLUME_A3:
        return Rejection(
            "bad_lattice", f"{record_ref}: the cell volume is {volume:g} Å³, a degenerate lattice."
        )
    notes: list[str] = []
    ordered = structure.is_ordered
    if not ordered:
        notes.append("partial occupancies: the structure is disordered")
    number, symbol = space_group(structure, params, notes)
    a, b, c = structure.lattice.abc
    alpha, beta, gamma = structure.lattice.angles
    element_amounts = composition.element_composition
    return StructureRecord(
        formula=composition.formula.replace(" ", ""),
        reduced_formula=composition.reduced_formula,
        n_sites=len(structure),
        a_A=float(a),
        b_A=float(b),
        c_A=float(c),
        alpha_deg=float(alpha),
        beta_deg=float(beta),
        gamma_deg=float(gamma),
        volume_A3=float(volume),
        density_g_cm3=_density(composition, volume),
        spacegroup_number=number,
        spacegroup_symbol=symbol,
        symprec=params.symprec,
        structure_json=json.dumps(structure.as_dict(), default=_json_default),
        cif_text=cif_text,
        content_sha256=hashlib.sha256(cif_text.encode("utf-8")).hexdigest(),
        amounts={el.symbol: float(amount) for el, amount in element_amounts.items()},
        is_ordered=ordered,
        warnings=tuple(notes),
    )


def _all_finite(structure: Structure) -> bool:
    """Every lattice number and site coordinate is a finite number (NaN would reach the
    descriptors and the training labels' inputs)."""
    import numpy as np

    return bool(
        np.isfinite(structure.lattice.matrix).all() and np.isfinite(structure.frac_coords).all()
    )


def space_group(
    structure: Structure, params: IngestParameters, notes: list[str]
) -> tuple[int | None, str | None]:
    """Space-group number and symbol from spglib, or (None, None) with a note on failure."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    _quiet_spglib()
    try:
        analyzer = SpacegroupAnalyzer(
            structure, symprec=params.symprec, angle_tolerance=params.angle_tolerance_deg
        )
        return int(analyzer.get_space_group_number()), str(analyzer.get_space_group_symbol())
    except Exception as exc:
        notes.append(f"space-group analysis failed ({_one_line(exc)})")
        return None, None


def _density(composition: Composition, volume_A3: float) -> float | None:
    """g/cm³ from the cell's mass in atomic mass units, without pymatgen's slow unit objects."""
    from scipy.constants import atomic_mass  # kg, the constant pymatgen's units use

    try:
        density = float(composition.weight) * atomic_mass * 1e3 / (volume_A3 * CM3_PER_A3)
    except Exception:
        return None
    return density if math.isfinite(density) else None


@cache
def _quiet_spglib() -> None:
    """Stop spglib's C library writing search diagnostics to stderr (unless the user chose)."""
    os.environ.setdefault("SPGLIB_WARNING", "OFF")


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays that may sit in site properties."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _warning_texts(caught: list[warnings.WarningMessage], parser_notes: list[str]) -> list[str]:
    """Distinct one-line texts of the warnings about the data.

    pymatgen's summary warning repeats the others; deprecation warnings are about library APIs
    (spglib raises one on some searches), not about the structure.
    """
    texts = [
        str(w.message)
        for w in caught
        if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)
        and not str(w.message).startswith(AGGREGATE_WARNING)
    ]
    return list(dict.fromkeys(_one_line(text) for text in [*texts, *parser_notes]))


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


# ------------------------------------------------------------------------------ many CIFs


def iter_tar_cifs(
    path: Path, params: IngestParameters = INGEST
) -> Iterator[tuple[str, str | Rejection]]:
    """(member name, CIF text) for every .cif member of a .tar.gz, read without extracting;
    a member that cannot be one is given with its Rejection instead, unread.

    Every size is judged from the member's header before its data is touched: a ``.cif``
    member larger than ``max_structure_bytes``, or one that is a link, a device or a folder, is
    rejected; members declaring more than ``max_archive_bytes`` together refuse the archive
    (``archive_too_large``) at the header that crosses the limit. A damaged archive (cut short,
    not gzip, a broken header) is refused as ``damaged_archive``. Both raise a
    ``FileRefusedError`` naming the file."""
    path = Path(path)
    members = declared = 0
    with open_regular(path) as (handle, _):
        try:
            with tarfile.open(fileobj=handle, mode="r|gz") as archive:
                for member in archive:
                    members += 1
                    declared += max(member.size, 0)
                    if declared > params.max_archive_bytes:
                        raise _archive_too_large(path, declared, params.max_archive_bytes)
                    item = _tar_member(archive, member, params)
                    if item is not None:
                        yield item
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise FileRefusedError(
                "damaged_archive",
                path,
                f"is a damaged archive ({type(exc).__name__}: {_one_line(exc)}) after "
                f"{members:,} members; nothing of it was loaded",
            ) from None


def _tar_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, params: IngestParameters
) -> tuple[str, str | Rejection] | None:
    """One member's name and text (None for a member that is not a CIF), or why it is not
    read."""
    name = member.name
    if not name.lower().endswith(".cif"):
        return None
    if not member.isfile():
        return name, Rejection(
            "not_a_regular_file",
            f"{name} is {_member_kind(member)} in the archive, not a file; it was not read",
        )
    if member.size > params.max_structure_bytes:
        return name, Rejection(
            "file_too_large",
            f"{name} declares {member.size:,} bytes, more than the limit of "
            f"{params.max_structure_bytes:,} (max_structure_bytes); it was not unpacked",
        )
    handle = archive.extractfile(member)
    if handle is None:
        return None
    return name, _decode(handle.read(params.max_structure_bytes), name)


def _member_kind(member: tarfile.TarInfo) -> str:
    kinds = (
        (member.issym, "a symbolic link"),
        (member.islnk, "a hard link"),
        (member.isdir, "a folder"),
        (member.ischr, "a character device"),
        (member.isblk, "a block device"),
        (member.isfifo, "a FIFO"),
    )
    return next((words for test, words in kinds if test()), "a special member")


def _archive_too_large(path: Path, declared: int, limit: int) -> FileRefusedError:
    return FileRefusedError(
        "archive_too_large",
        path,
        f"is an archive whose members declare {declared:,} bytes or more, past the limit of "
        f"{limit:,} (max_archive_bytes); it was not unpacked further and nothing of it was "
        "loaded",
    )


def _decode(data: bytes, name: str) -> str:
    """UTF-8 text; a byte that is not UTF-8 is kept, and ``parse_structure`` rejects the file
    naming it (reading it as Latin-1 would load garbage)."""
    return decode_lenient(data)


def parse_many(
    items: Iterable[tuple[str, str]],
    params: IngestParameters = INGEST,
    workers: int | None = None,
    progress: bool = True,
) -> list[ParseResult]:
    """Parse (record_ref, CIF text) pairs, in input order, over worker processes.

    ``workers`` None means ``params.cif_workers``, and if that is None one per core. Fewer than
    ``MIN_ITEMS_FOR_POOL`` items, or a single worker, are parsed in this process.
    """
    pairs = list(items)
    n_workers = resolve_workers(workers, params)
    pooled = n_workers > 1 and len(pairs) >= MIN_ITEMS_FOR_POOL
    start = time.perf_counter()
    if pooled:
        results = _parse_pooled(pairs, params, n_workers, progress)
    else:
        results = [_parse_pair(pair, params) for pair in _progress(pairs, len(pairs), progress)]
    n_rejected = sum(isinstance(result, Rejection) for _, result in results)
    log.info(
        "parsed %d CIFs in %.1f s (%s): %d structures, %d rejected",
        len(results),
        time.perf_counter() - start,
        f"{n_workers} worker processes" if pooled else "in-process",
        len(results) - n_rejected,
        n_rejected,
    )
    return results


def resolve_workers(workers: int | None, params: IngestParameters = INGEST) -> int:
    """The number of worker processes ``parse_many`` would use."""
    chosen = workers if workers is not None else params.cif_workers
    return max(1, chosen if chosen is not None else (os.cpu_count() or 1))


def _parse_pooled(
    pairs: list[tuple[str, str]], params: IngestParameters, n_workers: int, progress: bool
) -> list[ParseResult]:
    chunksize = max(1, min(MAX_CHUNKSIZE, len(pairs) // (n_workers * 8)))
    # Workers from a fork server with pymatgen imported once, bound to this process's life
    # (core.workers): none outlives an ingest that is killed.
    with ProcessPoolExecutor(
        max_workers=n_workers,
        mp_context=pool_context(PRELOAD),
        initializer=start_worker,
        initargs=(os.getpid(), _warm_worker),
    ) as pool:
        mapped = pool.map(partial(_parse_pair, params=params), pairs, chunksize=chunksize)
        return list(_progress(mapped, len(pairs), progress))


def _parse_pair(pair: tuple[str, str], params: IngestParameters) -> ParseResult:
    record_ref, text = pair
    return record_ref, parse_structure(text, record_ref, params)


def _warm_worker() -> None:
    """Import pymatgen once per worker, before the first chunk arrives."""
    for module in ("pymatgen.io.cif", "pymatgen.symmetry.analyzer"):
        importlib.import_module(module)

    _quiet_spglib()


def _progress(iterable: Iterable[Any], total: int, enabled: bool) -> Iterable[Any]:
    if not enabled:
        return iterable
    from tqdm import tqdm

    # disable=None: a bar on a terminal, nothing in logs and pipes
    return tqdm(
        iterable, total=total, desc="parsing CIFs", unit="cif", file=sys.stderr, disable=None
    )


# ------------------------------------------------------------------------------ file names


def literature_cif_pressure(file_name: str) -> float | None:
    """The pressure in GPa from a ``<P>GPa_<spacegroup>_<formula>.cif`` or
    ``<formula>_<spacegroup>_<P>GPa.cif`` name; None if absent."""
    match = _PRESSURE_IN_NAME.search(Path(file_name).name)
    return float(match.group(1)) if match else None
