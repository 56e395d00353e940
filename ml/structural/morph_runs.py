"""Predicting morph families with a structural model and storing them in the database.

Each morph becomes a ``morph_candidate`` row (reference structure, substitution, scales,
lattice lengths, formula) and a ``prediction`` of the chosen ``cvcnn`` run (subject kind
``morph``, the spread over an ensemble run's members in ``tc_std_K``); each distinct
composition gets a ``composition`` prediction of the composition baseline when a loaded
composition run is handed in (the papers' "T_c chem" column; ``ml.contract.FormulaPredictor``).
Every member predicts every morph, so an ensemble of n networks costs about n times the
forward passes of one; the features, standard cells and space groups are computed once. The
views ``morph_prediction``, ``morph_summary`` and ``morph_top_candidates`` read them back.

Morphs are built, featurised and predicted in batches under a progress bar, so the ~100,000
structures of an X/Y map with its lattice scans never sit in memory at once. The space group
(a numerical descriptor) is searched once per substitution for uniform scans, which keep the
symmetry, and once per structure on the (a, c) grid, which changes it. The standard cell the
model reads is found the same way: once per substitution and scaled for uniform scans, once per
structure on the grid; a uniformly scaled morph of a substitution already seen is not even
built, since its standard cell, space group, formula and lattice lengths all follow from the
substitution and the scale. For the Fig. 5 and Fig. 6 families the outcome also says whether T_c
has an interior maximum over the scan (``core.scan_shapes``) and where.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from tcdb.core.cells import scaled, standard_cell
from tcdb.core.morph_geometry import scaled_lattice
from tcdb.core.parameters import DOME, INGEST, DomeParameters
from tcdb.core.scan_shapes import grid_shape, scan_shape
from tcdb.core.structures import space_group
from tcdb.core.timestamps import utcnow
from tcdb.ml.contract import FormulaPredictor
from tcdb.ml.screening_engine import JobOutcome, Screening
from tcdb.ml.structural.morphs import Builder, Family, Morph, MorphError, Reference, generate
from tcdb.ml.structural.parameters import MORPH, MorphParameters
from tcdb.ml.structural.predictor import ModelPackage, StructuralModel, featurise, finite_or_none
from tcdb.ml.structure_features import CellConfig, FeatureConfig
from tcdb.schema.database import Target, insert_new_rows, storing
from tcdb.store.model_runs import prediction_table, write_predictions
from tcdb.store.screening_jobs import REJECTIONS, prediction_schema, shard_tables

log = logging.getLogger(__name__)


@dataclass
class MorphOutcome:
    """What one family over one reference gave."""

    family: str
    reference_id: str
    candidates: int
    predicted: int
    failures: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    composition_predictions: int = 0
    shape: str = ""  # for the Fig. 5 and Fig. 6 families: what T_c does over the scan
    job: JobOutcome | None = None  # on Ray: the job and what this run of it did
    out_of_domain: int | None = None  # predicted morphs outside the run's domain (None: no domain)


@dataclass
class MorphPredictions:
    """What the model said of each morph of one family over one reference, by index."""

    tc: np.ndarray  # mean over the run's members (K)
    tc_std: np.ndarray  # spread over members (K); NaN for a one-member run
    spacegroups: list[int | None]
    formulas: list[str]
    lengths: list[tuple[float, float]]  # (a, c) in Å
    # the run's verdict per morph where its model has an applicability domain (``assess``)
    in_domain: np.ndarray | None = None  # bool
    domain_reason: list[str | None] | None = None
    # the same morphs predicted by the other runs given (the papers' network), by run id
    others: dict[str, MorphPredictions] = field(default_factory=dict)


class _SpaceGroups:
    """Space groups by substitution (uniform scaling keeps symmetry) or by structure."""

    def __init__(self, per_structure: bool) -> None:
        self.per_structure = per_structure
        self.cache: dict[tuple, int | None] = {}

    def _key(self, morph: Morph) -> tuple:
        if self.per_structure:
            return (morph.substitution, morph.scale_ab, morph.scale_c)
        return (morph.substitution, morph.scale_c / morph.scale_ab)

    def known(self, morph: Morph) -> bool:
        """Whether this morph's space group was already searched (then no structure is needed)."""
        return self._key(morph) in self.cache

    def __call__(self, morph: Morph, structure) -> int | None:
        key = self._key(morph)
        if key not in self.cache:
            self.cache[key] = space_group(structure, INGEST, [])[0]
        return self.cache[key]


class _StandardCells:
    """The standard cell of each morph: for a uniform scale, the cell of the substitution at
    the reference's size, scaled (its fractional coordinates and angles do not change); for
    the (a, c) grid, searched per structure. Ideal morphs keep their symmetry exactly, so the
    absolute tolerance of the search does not depend on the scale."""

    def __init__(self, builder: Builder, config: CellConfig) -> None:
        self.builder = builder
        self.config = config
        self.cache: dict[tuple, object] = {}

    def _search(self, structure):
        return standard_cell(structure, self.config.symprec, self.config.angle_tolerance_deg)

    @staticmethod
    def derived(morph: Morph) -> bool:
        """Whether the morph's standard cell is its substitution's, scaled (no search)."""
        return morph.scale_ab == morph.scale_c

    def __call__(self, morph: Morph, structure):
        if not self.derived(morph):
            return self._search(structure).structure
        if morph.substitution not in self.cache:
            unit = Morph(morph.substitution, morph.x, morph.y, 1.0, 1.0)
            self.cache[morph.substitution] = self._search(self.builder.build(unit)).structure
        return scaled(self.cache[morph.substitution], morph.scale_ab)


def scan_summary(
    family: Family,
    tc: np.ndarray,
    lengths: Sequence[tuple[float, float]],
    params: DomeParameters = DOME,
) -> str:
    """For a uniform scan (``dome``) or an (a, c) grid (``ac-grid``) of one reference: whether
    T_c has an interior maximum and where, or how it runs; '' for the other families."""
    if family.kind not in ("dome", "grid"):
        return ""
    if not np.isfinite(tc).any():
        return "no T_c predicted"
    a = np.array([length[0] for length in lengths], dtype=float)
    c = np.array([length[1] for length in lengths], dtype=float)
    if family.kind == "dome":
        shape = scan_shape(a, tc, params)
        return f"{shape.shape}, highest {shape.peak_tc_K:.0f} K at a = {shape.peak_x:.2f} Å"
    grid = grid_shape(a, c, tc, params)
    return (
        f"{grid.where}, {grid.peak_tc_K:.0f} K at a = {grid.peak_a:.2f} Å, c = {grid.peak_c:.2f} Å"
    )


def _reason_code(reason: str) -> str:
    """A short countable form of a feature refusal."""
    return reason.split(":")[0].split("(")[0].strip()


@dataclass
class MorphBatch:
    """One batch of morphs built: the structures the model reads (standard cells when the run
    uses them) with their space groups, and per morph its formula, (a, c) and refusal."""

    structures: list = field(default_factory=list)
    usable: list[int] = field(default_factory=list)  # positions in the batch of `structures`
    space_groups: list[int] = field(default_factory=list)
    numbers: list[int | None] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    lengths: list[tuple[float, float]] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # by position in the batch


class MorphBuilder:
    """Builds batches of one reference's morphs, with the space groups, standard cells and
    formulas found once per substitution kept between batches."""

    def __init__(self, reference: Reference, cell: CellConfig, per_structure_space_group: bool):
        self.builder = Builder(reference)
        self.groups = _SpaceGroups(per_structure_space_group)
        self.cells = _StandardCells(self.builder, cell) if cell.standardise else None
        self.formulas: dict[tuple, str] = {}
        self.matrix = reference.structure.lattice.matrix

    def _needs_structure(self, morph: Morph) -> bool:
        """Whether the morph's own structure must be built: the model reads it (no standard
        cells, or a cell searched per structure), or its space group or formula is not known
        yet. Otherwise everything comes from its substitution, found once (a uniform scan)."""
        if self.cells is None or not self.cells.derived(morph):
            return True
        return not self.groups.known(morph) or morph.substitution not in self.formulas

    def _lengths(self, morph: Morph) -> tuple[float, float]:
        """(a, c) in Å of the morph's lattice, as its built structure has them."""
        a, _, c = scaled_lattice(self.matrix, morph.scale_ab, morph.scale_c).abc
        return float(a), float(c)

    def build(self, morphs: Sequence[Morph]) -> MorphBatch:
        batch = MorphBatch()
        for offset, morph in enumerate(morphs):
            structure = self.builder.build(morph) if self._needs_structure(morph) else None
            number = self.groups(morph, structure)
            if morph.substitution not in self.formulas:
                self.formulas[morph.substitution] = structure.composition.reduced_formula
            batch.names.append(self.formulas[morph.substitution])
            batch.numbers.append(number)
            batch.lengths.append(self._lengths(morph))
            if number is None:
                batch.errors[offset] = "space group: the symmetry search failed"
                continue
            try:
                batch.structures.append(self.cells(morph, structure) if self.cells else structure)
            except Exception as err:  # one odd morph must not stop the family
                batch.errors[offset] = f"standard cell: {type(err).__name__}: {err}"
                continue
            batch.usable.append(offset)
            batch.space_groups.append(number)
        return batch


def featurise_batch(
    builder: MorphBuilder, features: FeatureConfig, morphs: Sequence[Morph]
) -> tuple[MorphBatch, np.ndarray, np.ndarray, dict[int, str]]:
    """One batch of morphs built and featurised: the batch (without its structures, which
    only the features needed), the Fourier and numerical arrays of its usable structures, and
    the featurisation's refusals by position among them."""
    batch = builder.build(morphs)
    fourier, numerical, failed = featurise(
        features, batch.structures, batch.space_groups, builder.cells is not None
    )
    batch.structures = []
    return batch, fourier, numerical, failed


def predict_batch(
    model: StructuralModel,
    batch: MorphBatch,
    fourier: np.ndarray,
    numerical: np.ndarray,
    failed: dict[int, str],
    verdicts: tuple[np.ndarray, list, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """T_c and spread of each morph of a featurised batch (NaN where refused) and every
    refusal, building or featurising, by position in the batch: what both engines store.

    ``verdicts``, for a model with an applicability domain (``judges``): the batch's slice of
    the in-domain flags and the family's reasons with the batch's first position, filled from
    the same pass (``assess``), which finds each morph's expert and distance once."""
    tc = np.full(len(batch.names), np.nan)
    spread = np.full(len(batch.names), np.nan)
    errors = dict(batch.errors)
    errors.update({batch.usable[i]: reason for i, reason in failed.items()})
    ok = [i for i in range(len(batch.usable)) if i not in failed]
    if ok:
        positions = [batch.usable[i] for i in ok]
        if verdicts is None:
            values, spreads = model.predict_features(fourier[ok], numerical[ok])
        else:
            values, spreads, verdict, why, _ = model.assess(numerical[ok])
            inside, reasons, start = verdicts
            for position, keep, reason in zip(positions, verdict, why, strict=True):
                inside[position] = bool(keep)
                reasons[start + position] = reason
        tc[positions], spread[positions] = values, spreads
    return tc, spread, errors


def _featurised_ahead(
    model: StructuralModel, builder: MorphBuilder, morphs: list[Morph], batch_size: int
) -> Iterator[tuple[int, MorphBatch, np.ndarray, np.ndarray, dict[int, str]]]:
    """Each batch (first position, batch, features, refusals) built and featurised one batch
    ahead, in a thread.

    Why: building and featurising is Python and numpy on one core, while the network's
    forward pass runs in TensorFlow's own threads, which release the interpreter; so the next
    batch is prepared while this one is predicted. Each batch is featurised exactly as
    without the thread, so the predictions are the same."""
    from concurrent.futures import ThreadPoolExecutor

    starts = list(range(0, len(morphs), batch_size))

    def prepare(start: int):
        chunk = morphs[start : start + batch_size]
        return (start, *featurise_batch(builder, model.features, chunk))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="morph-features") as pool:
        ahead = pool.submit(prepare, starts[0]) if starts else None
        for k in range(len(starts)):
            current = ahead.result()
            if k + 1 < len(starts):
                ahead = pool.submit(prepare, starts[k + 1])
            yield current


def predict_morphs(
    model: StructuralModel,
    reference: Reference,
    morphs: list[Morph],
    per_structure_space_group: bool = False,
    batch_size: int = MORPH.batch_size,
    progress: bool = True,
    also: Sequence[StructuralModel] = (),
) -> tuple[MorphPredictions, dict[int, str]]:
    """T_c of every morph and its spread over the run's members, with its space group,
    formula, (a, c) in Å, the run's domain verdict where its model has one, and refusals by
    index. Each run of ``also`` (on the same features) predicts the same batches: its
    predictions are in ``others``."""
    from tqdm import tqdm

    builder = MorphBuilder(reference, model.features.cell, per_structure_space_group)
    models = [model, *also]
    tc = {m.run_id: np.full(len(morphs), np.nan) for m in models}
    spread = {m.run_id: np.full(len(morphs), np.nan) for m in models}
    inside = {m.run_id: np.ones(len(morphs), dtype=bool) for m in models if judges(m)}
    reasons = {m.run_id: [None] * len(morphs) for m in models if judges(m)}
    numbers: list[int | None] = []
    names: list[str] = []
    lengths: list[tuple[float, float]] = []
    errors: dict[int, str] = {}
    bar = tqdm(total=len(morphs), desc=f"morphs of {reference.name}", unit="structure",
               disable=None if progress else True)  # fmt: skip
    with bar:
        for start, batch, fourier, numerical, failed in _featurised_ahead(
            model, builder, morphs, batch_size
        ):
            numbers += batch.numbers
            names += batch.names
            lengths += batch.lengths
            stop = start + len(batch.names)
            for m in models:
                verdicts = ((inside[m.run_id][start:stop], reasons[m.run_id], start)
                            if judges(m) else None)  # fmt: skip
                tc[m.run_id][start:stop], spread[m.run_id][start:stop], refused = predict_batch(
                    m, batch, fourier, numerical, failed, verdicts
                )
            errors.update({start + i: reason for i, reason in refused.items()})
            bar.update(len(batch.names))

    def predictions(m) -> MorphPredictions:
        return MorphPredictions(tc[m.run_id], spread[m.run_id], numbers, names, lengths,
                                inside.get(m.run_id), reasons.get(m.run_id))  # fmt: skip

    first = predictions(model)
    first.others = {m.run_id: predictions(m) for m in also}
    return first, errors


def judges(model) -> bool:
    """Whether the model says which inputs lie in its applicability domain (and predicts
    with its verdict in one pass, ``assess``)."""
    return callable(getattr(model, "assess", None))


def _candidate_table(
    family: Family, reference: Reference, morphs: list[Morph], ids: list[str],
    names: list[str], lengths: list[tuple[float, float]],
) -> pa.Table:  # fmt: skip
    now = utcnow()
    return pa.table(
        {
            "id": ids,
            "parent_structure_id": [reference.id] * len(morphs),
            "family": [family.name] * len(morphs),
            "substitution_json": [m.substitution_json for m in morphs],
            "x_element": [m.x for m in morphs],
            "y_element": [m.y for m in morphs],
            "lattice_scale": [m.scale_ab for m in morphs],
            "lattice_scale_c": [m.scale_c for m in morphs],
            "a_A": [a for a, _ in lengths],
            "c_A": [c for _, c in lengths],
            "formula": names,
            "created_at": pa.array([now] * len(morphs), pa.timestamp("us")),
        }
    )


def _check_references(family: Family, references: Sequence[Reference]) -> None:
    if len(references) != len(family.references):
        raise MorphError(
            f"{family.name} morphs {len(family.references)} reference structures "
            f"({', '.join(family.references)}), not {len(references)}."
        )


def run_family(
    db: Target,
    model: StructuralModel,
    family: Family,
    composition: FormulaPredictor | None = None,
    params: MorphParameters = MORPH,
    only: list[str] | None = None,
    progress: bool = True,
    *,
    references: Sequence[Reference],
    also: Sequence[StructuralModel] = (),
) -> list[MorphOutcome]:
    """Generate, predict and store one family for each of its reference structures (read by
    the caller, one per ``family.references``); ``db`` is opened only to store each
    reference's results, not while morphs are predicted. The runs of ``also`` (the papers'
    network beside the model that ranks) predict and store the same morphs, featurised once;
    the outcome is the first model's."""
    _check_references(family, references)
    outcomes = []
    for reference in references:
        start = time.perf_counter()
        morphs = generate(family, reference, params, only)
        predicted, errors = predict_morphs(
            model, reference, morphs, family.kind == "grid", params.batch_size, progress, also
        )
        names = predicted.formulas
        ids = [m.candidate_id(family.name, reference.id) for m in morphs]
        candidates = _candidate_table(family, reference, morphs, ids, names, predicted.lengths)
        rows = _prediction_rows(model.run_id, family, ids, predicted, errors)
        others = [
            row
            for run_id, other in predicted.others.items()
            for row in _prediction_rows(run_id, family, ids, other, errors, ranks=False)
        ]
        beside = composition.prediction_rows(names) if composition is not None else []
        with storing(db, f"the {family.name} morphs of {reference.id}") as conn:
            insert_new_rows(conn, "morph_candidate", candidates)
            write_predictions(conn, rows + others)
            stored_compositions = write_predictions(conn, beside)
        outcome = _outcome(family, reference, len(morphs), len(rows), errors.values(),
                           stored_compositions, predicted.tc, predicted.lengths, start,
                           predicted.in_domain)  # fmt: skip
        outcomes.append(outcome)
    return outcomes


def _outcome(
    family: Family, reference: Reference, morphs: int, predicted: int, reasons: Iterable[str],
    compositions: int, tc: np.ndarray, lengths: list[tuple[float, float]], start: float,
    in_domain: np.ndarray | None = None,
) -> MorphOutcome:  # fmt: skip
    """What one family over one reference gave, reported alike by both engines: refusals by
    reason, composition predictions stored, the scan's shape (and whether its highest T_c is
    inside the run's domain, where the run has one), the morphs outside the domain and the
    seconds since ``start``."""
    shape = scan_summary(family, tc, lengths)
    outside = None
    if in_domain is not None:
        predicted_rows = np.isfinite(tc)
        outside = int((predicted_rows & ~in_domain).sum())
        if shape and predicted_rows.any():
            peak = int(np.nanargmax(tc))
            shape += " (inside the domain)" if in_domain[peak] else " (outside the domain)"
    outcome = MorphOutcome(
        family.name, reference.id, morphs, predicted,
        failures=Counter(_reason_code(reason) for reason in reasons),
        seconds=time.perf_counter() - start, composition_predictions=compositions,
        shape=shape, out_of_domain=outside,
    )  # fmt: skip
    log.info("%s on %s: %d morphs, %d predicted in %.1f s",
             family.name, reference.name, morphs, predicted, outcome.seconds)  # fmt: skip
    return outcome


_CANDIDATE_COLUMNS = [
    ("id", pa.string()), ("parent_structure_id", pa.string()), ("family", pa.string()),
    ("substitution_json", pa.string()), ("x_element", pa.string()), ("y_element", pa.string()),
    ("lattice_scale", pa.float64()), ("lattice_scale_c", pa.float64()), ("a_A", pa.float64()),
    ("c_A", pa.float64()), ("formula", pa.string()), ("created_at", pa.timestamp("us")),
]  # fmt: skip
# what each shard of a morph job holds, exactly (store.screening_jobs checks it on reading)
MORPH_TABLES = {
    "morph_candidate": pa.schema(_CANDIDATE_COLUMNS),
    "prediction": prediction_schema("formula", "tc_K", "tc_std_K", "extra_json"),
    REJECTIONS: pa.schema(
        [("position", pa.int64()), ("subject_id", pa.string()), ("reason", pa.string())]
    ),
}


@dataclass(frozen=True)
class MorphShards:
    """A family over one reference cut into shards of morphs, for ``--engine ray``: a task
    builds and featurises a shard exactly as ``predict_morphs`` does a batch, an actor
    predicts it. With shards as long as the local batches the predictions are the same."""

    family: Family
    reference: Reference
    features: FeatureConfig

    def featurise(self, payload: tuple[int, list[Morph]]) -> dict:
        start, morphs = payload
        builder = MorphBuilder(self.reference, self.features.cell, self.family.kind == "grid")
        batch, fourier, numerical, failed = featurise_batch(builder, self.features, morphs)
        return {"start": start, "morphs": morphs, "batch": batch, "fourier": fourier,
                "numerical": numerical, "failed": failed}  # fmt: skip

    def predict(self, model: StructuralModel, featurised: dict) -> dict[str, pa.Table]:
        morphs, batch = featurised["morphs"], featurised["batch"]
        tc, spread, errors = predict_batch(
            model, batch, featurised["fourier"], featurised["numerical"], featurised["failed"]
        )
        ids = [m.candidate_id(self.family.name, self.reference.id) for m in morphs]
        predicted = MorphPredictions(tc, spread, batch.numbers, batch.names, batch.lengths)
        start = featurised["start"]
        return {
            "morph_candidate": _candidate_table(
                self.family, self.reference, morphs, ids, batch.names, batch.lengths
            ),
            "prediction": prediction_table(
                _prediction_rows(model.run_id, self.family, ids, predicted, errors)
            ),
            REJECTIONS: pa.table(
                {
                    "position": pa.array(sorted(start + i for i in errors), pa.int64()),
                    "subject_id": [ids[i] for i in sorted(errors)],
                    "reason": [errors[i] for i in sorted(errors)],
                }
            ),
        }


def _prediction_rows(
    run_id: str, family: Family, ids: list[str], predicted: MorphPredictions, errors: dict,
    ranks: bool = True,
) -> list[dict]:  # fmt: skip
    """One row per predicted morph; ``ranks`` says the run is the one that ranks the family
    (the views prefer it), False for the runs predicted beside it."""
    judged = predicted.in_domain is not None
    extra = {"family": family.name} | ({"ranks": True} if ranks else {})
    return [
        {
            "model_run_id": run_id,
            "subject_kind": "morph",
            "subject_id": ids[i],
            "formula": predicted.formulas[i],
            "tc_K": float(predicted.tc[i]),
            "tc_std_K": finite_or_none(predicted.tc_std[i]),
            "extra_json": json.dumps(extra | {"spacegroup_number": predicted.spacegroups[i]}),
        }
        | (
            {"in_domain": bool(predicted.in_domain[i]), "domain_reason": predicted.domain_reason[i]}
            if judged
            else {}
        )
        for i in range(len(ids))
        if i not in errors
    ]


def _slices(morphs: list[Morph], size: int) -> Callable[[int], tuple[int, list[Morph]]]:
    """The payload of shard s: its first position and its morphs."""
    return lambda s: (s * size, morphs[s * size : (s + 1) * size])


def run_family_sharded(
    db: Target,
    screening: Screening,
    package: ModelPackage,
    family: Family,
    composition: FormulaPredictor | None = None,
    params: MorphParameters = MORPH,
    only: list[str] | None = None,
    *,
    references: Sequence[Reference],
    on_loaded: Callable[[int], None] | None = None,
) -> list[MorphOutcome]:
    """``run_family`` on Ray: one resumable job per reference structure, its shards
    featurised in tasks and predicted by the session's actors; the outcome is read back from
    the job's Parquet shards."""
    _check_references(family, references)
    size = screening.size
    work_outcomes = []
    for reference in references:
        start = time.perf_counter()
        morphs = generate(family, reference, params, only)
        shards = max(1, -(-len(morphs) // size))
        inputs = {
            "family": family.name, "reference": reference.id, "params": params.as_dict(),
            "only": only, "shard_size": size, "morphs": len(morphs),
        }  # fmt: skip
        part = f"{family.name}-{reference.name}"
        job = screening.job("morph", package.run_id, inputs, shards, part, MORPH_TABLES)
        work = MorphShards(family, reference, package.features)
        ran = screening.run(db, job, work, _slices(morphs, size), on_loaded)
        candidates = shard_tables(db, job, "morph_candidate")
        predictions = shard_tables(db, job, "prediction")
        rejections = shard_tables(db, job, REJECTIONS)
        names = candidates.column("formula").to_pylist()
        lengths = list(zip(candidates.column("a_A").to_pylist(),
                           candidates.column("c_A").to_pylist(), strict=True))  # fmt: skip
        by_id: dict[str, float] = {}  # empty when every morph of the reference was refused
        if "subject_id" in predictions.column_names:
            subjects = predictions.column("subject_id").to_pylist()
            by_id = dict(zip(subjects, predictions.column("tc_K").to_pylist(), strict=True))
        tc = np.array([by_id.get(i, np.nan) for i in candidates.column("id").to_pylist()])
        beside = composition.prediction_rows(names) if composition is not None else []
        with storing(db, f"the composition predictions of the {family.name} morphs") as conn:
            stored_compositions = write_predictions(conn, beside)
        reasons = rejections.column("reason").to_pylist() if rejections is not None else []
        outcome = _outcome(family, reference, len(morphs), predictions.num_rows, reasons,
                           stored_compositions, tc, lengths, start)  # fmt: skip
        outcome.job = ran
        work_outcomes.append(outcome)
    return work_outcomes
