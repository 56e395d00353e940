"""Crystal structures: the offline Materials Project mirror and the literature CIFs.

Both go through the same path: CIF text → ``parse_structure`` (pure, in parallel) → rows of
``crystal_structure`` and ``material``. The mirror is read straight from its .tar.gz, without
extracting it (``ingest/sources/mp_mirror.py``); the folders of CIFs with
``build_cif_folder_batch``; the online path (``ingest/sources/mp_api.py``) reuses
``structure_batch``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from tcdb.core.composition import NormalisedComposition, normalise
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection
from tcdb.core.safe_reads import FileRefusedError, folder_member_problem, read_limited
from tcdb.core.structures import StructureRecord, literature_cif_pressure, parse_many
from tcdb.core.text import decode_lenient, storable
from tcdb.ingest.runs import Batch, RejectedRecord
from tcdb.ingest.source_info import SourceInfo
from tcdb.ingest.validation import check_pressure
from tcdb.schema.bulk import rows_table

log = logging.getLogger(__name__)


def mp_structure_id(member_name: str) -> str:
    """``mp_structures/mp-1234.cif`` → ``mp-1234`` (the Materials Project id)."""
    return PurePosixPath(member_name).stem


def structure_row(
    record: StructureRecord,
    structure_id: str,
    source: SourceInfo,
    record_ref: str,
    composition: NormalisedComposition,
    pressure_GPa: float | None = None,
    database_version: str | None = None,
) -> dict:
    """The ``crystal_structure`` row of a parsed CIF."""
    return {
        "id": structure_id,
        "source_id": source.id,
        "source_record_id": record_ref,
        "ingest_run_id": None,
        "database_version": database_version,
        "material_id": composition.material_id,
        "formula": record.formula,
        "reduced_formula": record.reduced_formula,
        "n_sites": record.n_sites,
        "a_A": record.a_A,
        "b_A": record.b_A,
        "c_A": record.c_A,
        "alpha_deg": record.alpha_deg,
        "beta_deg": record.beta_deg,
        "gamma_deg": record.gamma_deg,
        "volume_A3": record.volume_A3,
        "density_g_cm3": record.density_g_cm3,
        "spacegroup_number": record.spacegroup_number,
        "spacegroup_symbol": record.spacegroup_symbol,
        "symprec": record.symprec,
        "pressure_GPa": pressure_GPa,
        "structure_json": record.structure_json,
        "cif_text": record.cif_text,
        "content_sha256": record.content_sha256,
        "status": "active",
        "created_at": None,
    }


def structure_batch(
    items: Iterable[tuple[str, str | Rejection]],
    source: SourceInfo,
    file_path: str | None,
    params: IngestParameters,
    structure_id_of,
    pressure_of=lambda ref: None,
    database_version: str | None = None,
    progress: bool = True,
    fingerprint: str = "",
) -> Batch:
    """Parse (record ref, CIF text) pairs in parallel into a batch of structures; a ref given a
    Rejection instead of text (a file that could not be read) is rejected as it is.
    ``fingerprint`` is the hash of what was read, computed once by the caller."""
    items = list(items)
    readable = [(ref, text) for ref, text in items if not isinstance(text, Rejection)]
    parsed = iter(parse_many(readable, params, workers=params.cif_workers, progress=progress))
    results = [(ref, text) if isinstance(text, Rejection) else next(parsed) for ref, text in items]
    texts = dict(readable)
    rows, rejected, accepted = [], [], []
    compositions: dict[str, NormalisedComposition] = {}
    seen: dict[str, str] = {}
    for ref, result in results:
        structure_id = structure_id_of(ref)
        if not isinstance(result, Rejection):
            result = _pressure_problem(ref, pressure_of(ref), params) or result
        if isinstance(result, Rejection):
            head = storable(texts.get(ref, "")[:2000])
            rejected.append(RejectedRecord(ref, result, {"cif_head": head}))
            continue
        if structure_id in seen:
            duplicate = Rejection(
                "duplicate", f"{ref} repeats the structure id of {seen[structure_id]}"
            )
            rejected.append(RejectedRecord(ref, duplicate, {}))
            continue
        composition = normalise(result.amounts, params)
        if isinstance(composition, Rejection):
            rejected.append(RejectedRecord(ref, composition, {}))
            continue
        seen[structure_id] = ref
        compositions[composition.material_id] = composition
        rows.append(
            structure_row(
                result, structure_id, source, ref, composition, pressure_of(ref), database_version
            )
        )
        accepted.append(structure_id)
    return Batch(
        source=source,
        file_path=file_path,
        file_sha256=fingerprint,
        parameters=params.as_dict(),
        n_records=len(items),
        record_table="crystal_structure",
        tables={"crystal_structure": rows_table(rows)},
        compositions=compositions,
        accepted_ids=accepted,
        rejected=rejected,
        database_version=database_version,
    )


def _pressure_problem(
    ref: str, pressure_GPa: float | None, params: IngestParameters
) -> Rejection | None:
    """The pressure a file name gives must be within the bounds every source follows."""
    if pressure_GPa is None:
        return None
    problem = check_pressure(pressure_GPa, params)
    if problem is None:
        return None
    return Rejection(problem.reason_code, f"{ref}: {problem.reason} (from the file name)")


def read_cif_folder(
    folder: Path, params: IngestParameters = INGEST
) -> list[tuple[str, str | Rejection]]:
    """(file name, CIF text) of every ``*.cif`` of a folder, read as UTF-8. A file that
    cannot be one is a per-file rejection, never opened: a symbolic link leading out of the
    folder (``outside_folder``), a FIFO, a device or a folder (``not_a_regular_file``), a file
    larger than ``max_structure_bytes`` (``file_too_large``)."""
    return [
        (path.name, _read_cif_file(folder, path, params)) for path in sorted(folder.glob("*.cif"))
    ]


def _read_cif_file(folder: Path, path: Path, params: IngestParameters) -> str | Rejection:
    """One CIF of a folder as text, or why it is not read (``core.safe_reads``): the link's
    target, already checked to lie inside the folder, is opened without following a link
    again, without blocking, and no further than the limit."""
    problem = folder_member_problem(folder, path)
    if problem is not None:
        return problem
    try:
        data = read_limited(
            path.resolve(),
            params.max_structure_bytes,
            follow_links=False,
            limit_name="max_structure_bytes",
        )
    except FileRefusedError as exc:
        return exc.rejection()
    except FileNotFoundError:
        return Rejection("not_a_regular_file", f"{path.name} disappeared before it was read")
    return decode_lenient(data)


def build_cif_folder_batch(
    folder: Path,
    source: SourceInfo,
    params: IngestParameters,
    fingerprint: str,
    id_prefix: str,
    post_load: tuple[str, ...] = (),
) -> Batch:
    """Every CIF of a folder → a batch of structures with ids ``<id_prefix><file stem>``; the
    pressure comes from the file name (``200GPa_Fm-3m_MgH13.cif`` or ``MgH13_Fm-3m_200GPa.cif``).
    ``post_load`` is SQL run in the load's transaction (linking entries to the structures)."""
    batch = structure_batch(
        read_cif_folder(folder, params),
        source,
        str(folder),
        params,
        structure_id_of=lambda ref: id_prefix + PurePosixPath(ref).stem,
        pressure_of=literature_cif_pressure,
        progress=False,
        fingerprint=fingerprint,
    )
    batch.post_load.extend(post_load)
    return batch
