"""Inputs of the structural T_c model for every structure of a snapshot, cached by content.

Why: the structural model of Novakovic et al. (2023) reads two inputs per structure, the Fourier
coefficients of its charge and mass densities (``ml.fourier``) and the 175 numerical
descriptors (``ml.composition_descriptors``). Training, evaluating and predicting all need them
for the same snapshot; computing them parses every structure and takes seconds, reading them
back takes tens of milliseconds, so they are computed once and kept on disk under a key that
changes whenever the structures or the configuration change.

* A structure is identified by a content hash of its ``structure_json`` and its space-group
  number (both feed the features). Rows sharing a structure (one structure with several labels)
  are computed once and expanded back to the rows.
* Each distinct structure is parsed once, and the parsed object serves both feature kinds. The
  lattice descriptors take the frame's space-group number; there is no symmetry search.
* The composition descriptors use the structure's own composition.
* A row whose structure cannot be parsed, has no space-group number, is refused by the Fourier
  representation (e.g. a noble gas) or fails a numerical descriptor (e.g. Z > 86) is not valid:
  both of its feature rows are NaN and ``errors`` says why, naming its structure id.

Cache layout: ``cache_dir/<key>/features.npz`` (uncompressed: complex coefficients hardly
compress and an uncompressed file loads fastest), with ``key`` the sha256 of the sorted distinct
content hashes, the configuration and ``FORMAT_VERSION``. The file holds the distinct
structures' features in the order they first occur in the frame, with their hashes, errors and
the counts of imputed values, so a second call with the same content computes nothing, whatever
the order or repetition of its rows; when the rows are the stored structures in the stored
order, the loaded arrays are returned without a copy. It is written under a temporary name and
renamed, so a reader never sees half a file; a file that cannot be read or does not match its
key (the zip CRCs catch corrupted data) is logged and recomputed. Bump ``FORMAT_VERSION``
whenever a change to the code changes the features.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymatgen.core import Structure

from tcdb.core.errors import TcdbError
from tcdb.core.parameters import INGEST
from tcdb.core.safe_reads import npz_arrays
from tcdb.ml.composition_descriptors import (
    NUMERICAL_LABELS,
    CompositionDescriptorConfig,
    numerical_matrix,
)
from tcdb.ml.fourier import FourierConfig, batch_coefficients

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CACHE_FILE = "features.npz"
REQUIRED_COLUMNS: tuple[str, ...] = ("structure_id", "structure_json", "spacegroup_number")
# Structures per call of numerical_matrix: one progress-bar step, small enough to show motion.
NUMERICAL_CHUNK = 128
MAX_SPACE_GROUP = 230


@dataclass(frozen=True)
class CellConfig:
    """Which cell of a crystal is featurised.

    ``standardise``: the standard cell of ``core.cells`` (spglib's standard primitive basis,
    one orientation, origin and site order), so that a supercell or a rotated, translated or
    re-ordered copy of a crystal is the same input. Off reproduces runs trained before it
    existed, which featurised the cell as given."""

    standardise: bool = True
    symprec: float = INGEST.symprec
    angle_tolerance_deg: float = INGEST.angle_tolerance_deg

    def as_dict(self) -> dict[str, Any]:
        return {
            "standard_cell": "spglib standard primitive, positions as given, one orientation, "
            "origin and site order (core.cells)",
            "symprec": self.symprec,
            "angle_tolerance_deg": self.angle_tolerance_deg,
        }


@dataclass(frozen=True)
class FeatureConfig:
    """Every choice behind the structural model's inputs; ``as_dict()`` goes into manifests."""

    fourier: FourierConfig = field(default_factory=FourierConfig)
    composition: CompositionDescriptorConfig = field(default_factory=CompositionDescriptorConfig)
    cell: CellConfig = field(default_factory=CellConfig)

    def as_dict(self) -> dict[str, Any]:
        """Nested, JSON-serialisable parameters, including the feature format version. A
        configuration that featurises the cell as given has no ``cell`` entry, exactly as runs
        recorded it before the standard cell existed."""
        recorded = {
            "format_version": FORMAT_VERSION,
            "fourier": self.fourier.as_dict(),
            "composition": self.composition.as_dict(),
            "space_group": "the snapshot's spacegroup_number (no symmetry search)",
            "composition_source": "the structure's own composition",
        }
        if self.cell.standardise:
            recorded["cell"] = self.cell.as_dict()
        return recorded

    @classmethod
    def matching(cls, recorded: Any) -> FeatureConfig | None:
        """The configuration a run's manifest records, if this version computes it: one of
        the named presets, or a preset without the standard cell (runs recorded before it
        existed); None otherwise."""
        for preset in FEATURE_PRESETS.values():
            for config in (preset, replace(preset, cell=CellConfig(standardise=False))):
                if recorded == config.as_dict():
                    return config
        return None

    def to_json(self) -> str:
        """Canonical JSON text of ``as_dict()`` (sorted keys), part of the cache key."""
        return json.dumps(self.as_dict(), sort_keys=True)


# The named feature configurations a cvcnn configuration chooses from (its ``features`` field).
# "tcdb": the paper's equations as this platform reads them (Eq. 4 widths, the reciprocal
# metric, the sum over the cell volume). "authors": what the authors' public code computes
# (METHODS.md, "What the authors' public code does"): σ²_charge = 0.25·r(Z), σ²_mass =
# 0.0025·m(Z), per-axis h/a, k/b, l/c, the sum over a·b·c (see ``ml.fourier``).
FEATURE_PRESETS: dict[str, FeatureConfig] = {
    "tcdb": FeatureConfig(),
    "authors": FeatureConfig(
        fourier=FourierConfig(
            gamma_charge=0.25,
            gamma_mass=0.0025,
            metric="per_axis",
            width_assignment="authors",
            normalisation="abc",
        )
    ),
}


class FeaturePresetError(TcdbError):
    """A feature preset name that does not exist."""


def feature_preset(name: str) -> FeatureConfig:
    """The feature configuration of a preset name, or an error naming the presets."""
    try:
        return FEATURE_PRESETS[name]
    except KeyError:
        raise FeaturePresetError(
            f"No feature preset {name!r}; the presets are {', '.join(FEATURE_PRESETS)}."
        ) from None


@dataclass
class StructureFeatures:
    """Features of every row of a structures frame; invalid rows are NaN in both arrays."""

    fourier: np.ndarray  # (n_rows, δ, δ, δ, 2) complex
    numerical: np.ndarray  # (n_rows, 175) float64
    labels: tuple[str, ...]  # the 175 numerical descriptor names
    valid: np.ndarray  # (n_rows,) bool
    errors: dict[int, str]  # row index -> reason, naming the structure id
    config: FeatureConfig
    structure_hashes: np.ndarray  # (n_rows,) content hash of each row's structure
    n_distinct: int  # distinct structures among the rows
    n_computed: int  # distinct structures computed by this call (0 on a cache hit)
    cache_hit: bool
    cache_path: Path | None
    imputed_values: dict[str, int]  # property -> element values filled, over distinct structures
    imputed_structures: int  # distinct structures with at least one filled value
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds

    def report(self) -> dict[str, Any]:
        """Counts for a run manifest."""
        return {
            "rows": len(self.valid),
            "valid_rows": int(self.valid.sum()),
            "invalid_rows": len(self.errors),
            "distinct_structures": self.n_distinct,
            "computed_structures": self.n_computed,
            "cache_hit": self.cache_hit,
            "imputed_values": dict(self.imputed_values),
            "structures_with_imputed_values": self.imputed_structures,
        }


@dataclass
class _Distinct:
    """Features of distinct structures, in the order of ``hashes``."""

    hashes: np.ndarray  # (d,) str
    fourier: np.ndarray  # (d, δ, δ, δ, 2)
    numerical: np.ndarray  # (d, 175)
    errors: dict[int, str]  # distinct index -> reason (without the structure id)
    imputed_values: dict[str, int]
    imputed_structures: int


# --- content hashes and keys ------------------------------------------------------------------


def _space_group_text(value: Any) -> str:
    """The space-group number as hashed: its integer text, or 'none' when missing."""
    number = _space_group(value)
    return "none" if number is None else str(number)


def content_hash(structure_json: Any, space_group: Any) -> str:
    """sha256 of a structure's JSON text and its space-group number (the features' inputs)."""
    text = structure_json if isinstance(structure_json, str) else ""
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(b"\0space_group=")
    digest.update(_space_group_text(space_group).encode("ascii"))
    return digest.hexdigest()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """The content hash of every row of a structures frame, in row order."""
    texts = frame["structure_json"].tolist()
    groups = frame["spacegroup_number"].tolist()
    return np.array(
        [content_hash(text, group) for text, group in zip(texts, groups, strict=True)],
        dtype="U64",
    )


def cache_key(hashes: Sequence[str], config: FeatureConfig) -> str:
    """sha256 of the sorted distinct content hashes, the configuration and the format version."""
    payload = json.dumps(
        {
            "format_version": FORMAT_VERSION,
            "config": config.to_json(),
            "structures": sorted(set(hashes)),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _space_group(value: Any) -> int | None:
    """An integer space-group number, or None when missing or not an integer in 1-230."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not number.is_integer() or not 1 <= number <= MAX_SPACE_GROUP:
        return None
    return int(number)


# --- computing ------------------------------------------------------------------------------


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the block to ``timings[stage]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def _parse(texts: Sequence[Any]) -> tuple[list[Structure | None], dict[int, str]]:
    """Structures from their ``Structure.as_dict()`` JSON; None and a reason where it fails."""
    structures: list[Structure | None] = []
    errors: dict[int, str] = {}
    for index, text in enumerate(texts):
        try:
            structures.append(Structure.from_dict(json.loads(text)))
        except Exception as err:  # one bad row must not stop a snapshot
            structures.append(None)
            errors[index] = f"structure_json could not be parsed ({type(err).__name__}: {err})"
    return structures, errors


_FOURIER_REFUSAL = re.compile(r"^structure \d+ \((?P<formula>.*?)\) refused: (?P<why>.*)$", re.S)


def _standard_cells(
    structures: Sequence[Structure], config: CellConfig
) -> tuple[list[Structure], dict[int, str]]:
    """The standard cell of each structure; where none is found the structure is kept and a
    reason given (the row is then refused)."""
    from tcdb.core.cells import standard_cell

    cells: list[Structure] = []
    errors: dict[int, str] = {}
    for index, structure in enumerate(structures):
        try:
            cells.append(
                standard_cell(structure, config.symprec, config.angle_tolerance_deg).structure
            )
        except Exception as err:  # one odd structure must not stop a batch
            cells.append(structure)
            errors[index] = f"standard cell: {type(err).__name__}: {err}"
    return cells, errors


def _fourier_reason(message: str) -> str:
    """A refusal of ``batch_coefficients`` without its batch position (meaningless here)."""
    match = _FOURIER_REFUSAL.match(message)
    if match is None:
        return f"Fourier coefficients: {message}"
    return f"Fourier coefficients refused ({match['formula']}): {match['why']}"


def _one_blas_thread() -> AbstractContextManager[Any]:
    """BLAS limited to one thread, where threadpoolctl is installed.

    The coefficients are many small batched matrix products; with OpenBLAS's threads they took
    3.1 s instead of 0.27 s for the 2,433 structures of a snapshot (2 busy cores).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _fourier(
    structures: Sequence[Structure], config: FourierConfig
) -> tuple[np.ndarray, dict[int, str]]:
    """Coefficients of ``structures`` and the refusals by position."""
    with _one_blas_thread():
        values, errors = batch_coefficients(structures, config)
    return values, {index: _fourier_reason(message) for index, message in errors.items()}


def _numerical(
    structures: Sequence[Structure],
    space_groups: Sequence[int],
    config: CompositionDescriptorConfig,
    progress: bool,
) -> tuple[np.ndarray, dict[int, str], dict[str, int], int]:
    """The 175 descriptors in chunks under a progress bar: values, errors, imputed counts."""
    from tqdm import tqdm

    parts: list[np.ndarray] = []
    errors: dict[int, str] = {}
    imputed: dict[str, int] = {}
    imputed_structures = 0
    with tqdm(
        total=len(structures),
        desc="numerical descriptors",
        unit="structure",
        disable=None if progress else True,  # None: a bar on a terminal only
    ) as bar:
        for start in range(0, len(structures), NUMERICAL_CHUNK):
            stop = start + NUMERICAL_CHUNK
            batch = numerical_matrix(
                structures[start:stop], space_groups=space_groups[start:stop], config=config
            )
            parts.append(batch.X)
            for index, message in batch.errors.items():
                errors[start + index] = f"numerical descriptors: {message}"
            for prop, count in batch.imputed.items():
                imputed[prop] = imputed.get(prop, 0) + count
            imputed_structures += batch.imputed_rows
            bar.update(len(batch.X))
    values = np.concatenate(parts) if parts else np.empty((0, len(NUMERICAL_LABELS)))
    return values, errors, imputed, imputed_structures


def _add_errors(target: dict[int, str], errors: dict[int, str], positions: Sequence[int]) -> None:
    """Merge errors keyed by position in a subset into errors keyed by distinct index."""
    for position, reason in errors.items():
        index = positions[position]
        target[index] = f"{target[index]}; {reason}" if index in target else reason


def compute_features(
    structures: Sequence[Structure],
    space_groups: Sequence[int],
    config: FeatureConfig,
    *,
    progress: bool = False,
    timings: dict[str, float] | None = None,
    standard_cells: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[int, str], dict[str, int], int]:
    """Both feature kinds of parsed structures, without a cache.

    Each structure is first reduced to its standard cell when the configuration says so,
    unless the caller already did (``standard_cells``: morph runs reduce one candidate per
    substitution and scale it).

    Returns the Fourier array (NaN rows where refused), the numerical matrix (NaN rows where
    refused), the reasons by position (a structure refused by either kind is NaN in both), the
    imputed-value counts and the number of structures with imputed values. Predictions of new
    structures and morphisms call this directly; snapshots go through ``structure_features``.
    """
    timings = timings if timings is not None else {}
    errors: dict[int, str] = {}
    if config.cell.standardise and not standard_cells:
        with _timed(timings, "standard cell"):
            structures, errors = _standard_cells(structures, config.cell)
    with _timed(timings, "fourier"):
        fourier, fourier_errors = _fourier(structures, config.fourier)
    _merge_errors(errors, fourier_errors)
    with _timed(timings, "numerical"):
        numerical, numerical_errors, imputed, imputed_structures = _numerical(
            structures, list(space_groups), config.composition, progress
        )
    _merge_errors(errors, numerical_errors)
    failed = sorted(errors)
    fourier[failed] = np.nan
    numerical[failed] = np.nan
    return fourier, numerical, dict(sorted(errors.items())), imputed, imputed_structures


def _merge_errors(target: dict[int, str], more: dict[int, str]) -> None:
    """Add reasons by position; a structure refused twice keeps both reasons."""
    for index, reason in more.items():
        target[index] = f"{target[index]}; {reason}" if index in target else reason


def _compute(
    texts: Sequence[Any],
    space_groups: Sequence[Any],
    hashes: np.ndarray,
    config: FeatureConfig,
    timings: dict[str, float],
    progress: bool,
) -> _Distinct:
    """Parse each distinct structure once and compute both feature kinds from it."""
    d = len(texts)
    with _timed(timings, "parsing"):
        structures, errors = _parse(texts)
    numbers = [_space_group(value) for value in space_groups]
    for index, number in enumerate(numbers):
        if number is None and index not in errors:
            errors[index] = (
                f"no space-group number in 1-{MAX_SPACE_GROUP} ({space_groups[index]!r})"
            )
    usable = [i for i in range(d) if i not in errors]
    values, rows, feature_errors, imputed, imputed_structures = compute_features(
        [structures[i] for i in usable],
        [numbers[i] for i in usable],
        config,
        progress=progress,
        timings=timings,
    )
    if len(usable) == d:
        fourier, numerical = values, rows
    else:
        fourier = np.full((d, *config.fourier.shape), np.nan, dtype=config.fourier.dtype)
        fourier[usable] = values
        numerical = np.full((d, len(NUMERICAL_LABELS)), np.nan)
        numerical[usable] = rows
    del values, rows
    _add_errors(errors, feature_errors, usable)
    failed = sorted(errors)
    fourier[failed] = np.nan
    numerical[failed] = np.nan
    return _Distinct(
        hashes, fourier, numerical, dict(sorted(errors.items())), imputed, imputed_structures
    )


# --- the cache ------------------------------------------------------------------------------


def _cache_arrays(distinct: _Distinct, config_json: str) -> dict[str, np.ndarray]:
    """Everything a cache file holds, as arrays that load without pickling."""
    meta = {
        "format_version": FORMAT_VERSION,
        "config": config_json,
        "imputed_values": distinct.imputed_values,
        "imputed_structures": distinct.imputed_structures,
    }
    return {
        "meta": np.array(json.dumps(meta, sort_keys=True)),
        "hashes": distinct.hashes.astype("U64"),
        "fourier": distinct.fourier,
        "numerical": distinct.numerical,
        "error_index": np.fromiter(distinct.errors, dtype=np.int64, count=len(distinct.errors)),
        "error_text": np.array(list(distinct.errors.values()), dtype=str).reshape(-1),
    }


def _save(path: Path, distinct: _Distinct, config_json: str) -> None:
    """Write the cache file under a temporary name, then rename it into place."""
    arrays = _cache_arrays(distinct, config_json)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed before the rename below
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    temporary = Path(handle.name)
    try:
        with handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as err:
        log.warning("could not write the feature cache %s (%s); continuing without", path, err)
        temporary.unlink(missing_ok=True)


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(what)


def _read_cache(path: Path, hashes: np.ndarray, config: FeatureConfig) -> _Distinct:
    """The cached features of the sorted ``hashes``; raises if unreadable or not matching."""
    # Headers checked before numpy allocates (a crafted one could claim terabytes), then each
    # array read and CRC-checked; a FIFO or a device in its place is refused, not read.
    arrays = npz_arrays(path, f"the feature cache {path}")
    meta = json.loads(str(arrays["meta"][()]))
    _check(meta.get("format_version") == FORMAT_VERSION, "another format version")
    _check(meta.get("config") == config.to_json(), "another configuration")
    stored = arrays["hashes"]
    _check(np.array_equal(np.sort(stored), hashes), "other structures")
    fourier, numerical = arrays["fourier"], arrays["numerical"]
    _check(fourier.shape == (len(hashes), *config.fourier.shape), "Fourier array of wrong shape")
    _check(fourier.dtype == np.dtype(config.fourier.dtype), "Fourier array of wrong dtype")
    _check(
        numerical.shape == (len(hashes), len(NUMERICAL_LABELS)), "numerical array of wrong shape"
    )
    index, text = arrays["error_index"], arrays["error_text"]
    _check(index.shape == text.shape, "error arrays of different lengths")
    errors = {int(i): str(t) for i, t in zip(index, text, strict=True)}
    return _Distinct(
        stored,
        fourier,
        numerical,
        errors,
        {str(k): int(v) for k, v in meta["imputed_values"].items()},
        int(meta["imputed_structures"]),
    )


def _load(path: Path, hashes: np.ndarray, config: FeatureConfig) -> _Distinct | None:
    """The cached features, or None (with a warning if a file was there but unusable)."""
    if not path.is_file():
        return None
    try:
        return _read_cache(path, hashes, config)
    except Exception as err:  # whatever is wrong with the file, recomputing fixes it
        log.warning(
            "ignoring the feature cache %s (%s: %s); recomputing", path, type(err).__name__, err
        )
        return None


# --- public API -----------------------------------------------------------------------------


def _check_frame(frame: pd.DataFrame) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"the structures frame lacks the column(s) {', '.join(missing)}")


def _row_errors(
    distinct_errors: dict[int, str], inverse: np.ndarray, structure_ids: Sequence[Any]
) -> dict[int, str]:
    """Errors of the rows whose structure failed, each naming the row's structure id."""
    if not distinct_errors:
        return {}
    failed = np.flatnonzero(np.isin(inverse, list(distinct_errors)))
    return {
        int(row): f"structure {structure_ids[row]}: {distinct_errors[int(inverse[row])]}"
        for row in failed
    }


def _distinct_rows(row_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct hashes, and the distinct hashes with their first rows in row order."""
    hashes, first = np.unique(row_hashes, return_index=True)
    order = np.argsort(first)
    return hashes, hashes[order], first[order]


def _positions(stored: np.ndarray, row_hashes: np.ndarray) -> np.ndarray | None:
    """Index into ``stored`` of every row's hash; None when that is the identity."""
    if len(stored) == len(row_hashes) and np.array_equal(stored, row_hashes):
        return None
    sorter = np.argsort(stored)
    return sorter[np.searchsorted(stored, row_hashes, sorter=sorter)]


def _take(values: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
    """The rows of ``values`` at ``positions`` (all of them, uncopied, for None)."""
    return values if positions is None else values[positions]


def structure_features(
    frame: pd.DataFrame,
    config: FeatureConfig | None = None,
    cache_dir: Path | None = None,
    *,
    progress: bool = True,
) -> StructureFeatures:
    """Fourier coefficients and numerical descriptors of every row of a structures frame.

    ``frame`` needs ``structure_id``, ``structure_json`` and ``spacegroup_number``. Each
    distinct structure is computed once; with ``cache_dir`` the distinct set's features are
    read from, or written to, ``cache_dir/<key>/features.npz``.
    """
    config = config if config is not None else FeatureConfig()
    _check_frame(frame)
    timings: dict[str, float] = {}
    with _timed(timings, "hashing"):
        by_row = row_hashes(frame)
        hashes, in_row_order, first = _distinct_rows(by_row)
        key = cache_key(hashes.tolist(), config)
    path = Path(cache_dir) / key / CACHE_FILE if cache_dir is not None else None

    distinct = None
    if path is not None:
        with _timed(timings, "cache_read"):
            distinct = _load(path, hashes, config)
    cache_hit = distinct is not None
    if distinct is None:
        log.info("computing features of %d distinct structures (%d rows)", len(hashes), len(frame))
        distinct = _compute(
            frame["structure_json"].iloc[first].tolist(),
            frame["spacegroup_number"].iloc[first].tolist(),
            in_row_order,
            config,
            timings,
            progress,
        )
        if path is not None:
            with _timed(timings, "cache_write"):
                _save(path, distinct, config.to_json())
    else:
        log.info("features of %d distinct structures read from %s", len(hashes), path)

    with _timed(timings, "expanding"):
        positions = _positions(distinct.hashes, by_row)
        fourier = _take(distinct.fourier, positions)
        numerical = _take(distinct.numerical, positions)
        inverse = np.arange(len(frame)) if positions is None else positions
        errors = _row_errors(distinct.errors, inverse, frame["structure_id"].tolist())
    valid = np.ones(len(frame), dtype=bool)
    valid[list(errors)] = False
    return StructureFeatures(
        fourier=fourier,
        numerical=numerical,
        labels=NUMERICAL_LABELS,
        valid=valid,
        errors=errors,
        config=config,
        structure_hashes=by_row,
        n_distinct=len(hashes),
        n_computed=0 if cache_hit else len(hashes),
        cache_hit=cache_hit,
        cache_path=path,
        imputed_values=distinct.imputed_values,
        imputed_structures=distinct.imputed_structures,
        timings=timings,
    )


def recorded_features(run) -> FeatureConfig:
    """The feature configuration a structure-model run (``store.model_runs.VerifiedRun``)
    recorded; a run whose features this version computes differently is refused, since its
    model would read other inputs than it was trained on."""
    from tcdb.store.model_runs import RunError

    features = FeatureConfig.matching(run.manifest["config"].get("features"))
    if features is None:
        raise RunError(
            f"Run {run.id} was trained on features this version computes differently; "
            f"retrain it with 'tcdb train {run.model}'."
        )
    return features
