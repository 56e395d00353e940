"""EH_n predicted by a hydride-mlp run: the screen of every E × n = 1 … 31 and hydrides a user
names (``tcdb predict hydride LaH10 La4H23``), each with its applicability domain.

Why here and not in the training module: predicting is what a loaded run does, whoever trained
it. Every prediction carries the mean and the spread of T_c and P over the model's members (the
network's ensemble members, or the forest's trees), the distance to ambient D = |P/GPa| +
|T_c/K − 293| at the mean with ``distance_std`` (the spread of each member's own D) and
``distance_upper`` = D + distance_std, and the verdict of ``ml.hydride.domain``
(``in_domain``, ``domain_reason``, ``element_distance``, ``nearest_trained_element``).

Each model a run holds predicts (the network, and the forest of runs that kept one) and every
model's rows are stored, each row naming its model and the model the run's rule chose to rank
with (``extra_json`` ``model`` and ``chosen_model``; the forest's rows under their own subject
kinds, ``SCREEN_KINDS`` and ``QUERY_KINDS``): the views rank with the chosen model, and the
network's rows stay as the paper's reproduction. The thresholds and the domain parameters go
into each stored row's ``extra_json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tcdb.core.errors import TcdbError
from tcdb.ml.hydride.descriptors import hydride_matrix, missing_descriptors, screening_grid
from tcdb.ml.hydride.domain import HydrideDomain, check_counts, domain_of
from tcdb.ml.hydride.parameters import HYDRIDE_DOMAIN, SCREENING_MODELS, HydrideDomainParameters
from tcdb.ml.hydride.training import HydridePredictor, distance_to_ambient, load
from tcdb.ml.screening_engine import JobOutcome, Screening
from tcdb.schema.database import Target, storing
from tcdb.store.model_runs import VerifiedRun, write_predictions

log = logging.getLogger(__name__)

SCREEN_KIND = "hydride"  # the network's row per E × n of the screen (views hydride_screening…)
QUERY_KIND = "hydride_query"  # the network's row per hydride named by a user (hydride_prediction)
SCREEN_KINDS = {"network": SCREEN_KIND, "forest": "hydride_forest"}
QUERY_KINDS = {"network": QUERY_KIND, "forest": "hydride_query_forest"}
DEFAULT = "default"  # the model the run's rule chose
MODEL_CHOICES = (DEFAULT, *SCREENING_MODELS)
COLUMNS = ("formula", "element", "n", "tc_K", "tc_std_K", "pressure_GPa", "pressure_std_GPa",
           "distance_to_ambient", "distance_std", "distance_upper", "in_domain",
           "domain_reason", "element_distance", "nearest_trained_element", "model")  # fmt: skip


@dataclass(frozen=True)
class Predicted:
    """One model's predictions with the domain they were judged by, the model the run ranks
    with, every model whose rows were stored, and inputs that could not be used."""

    run_id: str
    model: str  # the model of ``frame`` and ``domain``
    chosen: str  # the model the run's rule chose to rank with
    frame: pd.DataFrame  # COLUMNS plus linear_tc_K, linear_pressure_GPa
    domain: HydrideDomain
    failures: list[tuple[str, str]]  # (formula, a sentence naming it and why it was refused)
    job: JobOutcome | None = None  # on Ray: the job and what this run of it did
    stored: tuple[str, ...] = ()  # the models whose rows were written to the database

    def counts(self) -> dict[str, int]:
        """How many rows each domain check flags."""
        return check_counts(self.frame)

    def best_per_element(self, every: bool = False) -> pd.DataFrame:
        """Each element's EH_n with the lowest D (then lowest n) among its rows in the domain
        (``every``: among all its rows), closest to ambient first (equal D by element): the
        views ``hydride_best_per_element`` and ``_all`` for this model's rows."""
        rows = self.frame if every else self.frame[self.frame.in_domain.astype(bool)]
        best = rows.sort_values(["distance_to_ambient", "n"]).drop_duplicates("element")
        return best.sort_values(["distance_to_ambient", "element"]).reset_index(drop=True)


def resolve_model(model: HydridePredictor, asked: str) -> str:
    """The model ``asked`` for ("default": the one the run's rule chose), refused in one
    sentence when the run does not hold it."""
    if asked == DEFAULT:
        return model.chosen
    if asked not in SCREENING_MODELS:
        raise TcdbError(f"Unknown model {asked!r}; use {', '.join(MODEL_CHOICES)}.")
    if asked not in model.models:
        raise TcdbError(
            f"Run {model.run_id} holds no {asked} (it was trained before forests were kept); "
            f"it predicts with {', '.join(model.models)}."
        )
    return asked


def domains_of(
    model: HydridePredictor, parameters: HydrideDomainParameters = HYDRIDE_DOMAIN
) -> dict[str, HydrideDomain]:
    """The domain of each model the run holds, from the run's own training points."""
    return {
        name: domain_of(model.ensemble, parameters, model.forest if name == "forest" else None)
        for name in model.models
    }


def predict_hydrides(
    model: HydridePredictor,
    domain: HydrideDomain,
    elements: Sequence[str],
    ns: np.ndarray,
    which: str = "network",
) -> pd.DataFrame:
    """Every member's (T_c, P) by model ``which`` for the EH_n ``elements[i]`` H_``ns[i]``,
    summarised and judged against ``domain`` (that model's)."""
    X, _ = hydride_matrix(list(elements), np.asarray(ns, dtype=float), model.descriptors)
    members = model.members(X, which)
    mean, spread = model.mean(members, which), members.std(axis=0)
    distance = distance_to_ambient(mean[:, 0], mean[:, 1])
    distance_std = distance_to_ambient(members[..., 0], members[..., 1]).std(axis=0)
    linear = model.linear(X)
    frame = pd.DataFrame(
        {
            "element": list(elements),
            "n": X[:, 0],
            "tc_K": mean[:, 0],
            "tc_std_K": spread[:, 0],
            "pressure_GPa": mean[:, 1],
            "pressure_std_GPa": spread[:, 1],
            "distance_to_ambient": distance,
            "distance_std": distance_std,
            "distance_upper": distance + distance_std,
            "linear_tc_K": linear[:, 0],
            "linear_pressure_GPa": linear[:, 1],
        }
    )
    frame = pd.concat([frame, domain.assess(elements, X, spread)], axis=1)
    return frame.assign(model=which)


def _every_model(
    model: HydridePredictor,
    domains: dict[str, HydrideDomain],
    elements: Sequence[str],
    ns: np.ndarray,
    formulas: Sequence[str],
) -> dict[str, pd.DataFrame]:
    """Each model's predictions of the same EH_n, with their formulas."""
    frames = {}
    for which, domain in domains.items():
        frame = predict_hydrides(model, domain, elements, ns, which)
        frame.insert(0, "formula", list(formulas))
        frames[which] = frame
    return frames


def screen(
    db: Target,
    run: VerifiedRun,
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN,
    model: str = DEFAULT,
) -> Predicted:
    """Predict every screenable EH_n (n = 1 … 31) with every model the run holds, judge each
    against that model's domain and store them all (``db`` is opened for writing only once
    they are computed); the predictions of ``model`` (default: the run's choice) are
    returned."""
    predictor = load(run)
    shown = resolve_model(predictor, model)
    domains = domains_of(predictor, parameters)
    _, elements, ns = screening_grid(predictor.descriptors)
    formulas = [f"{e}H{int(n)}" for e, n in zip(elements, ns, strict=True)]
    frames = _every_model(predictor, domains, elements, ns, formulas)
    store(db, run.id, frames, domains, SCREEN_KINDS, predictor.chosen)
    return Predicted(run.id, shown, predictor.chosen, frames[shown], domains[shown], [],
                     stored=tuple(frames))  # fmt: skip


def parse_hydride(formula: str) -> tuple[str, float]:
    """(E, n) of a binary hydride formula such as LaH10 or La4H23 (n = 23/4); a
    ``TcdbError`` naming the formula otherwise."""
    import warnings

    from pymatgen.core import Composition

    from tcdb.core.composition import element_symbols

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            amounts = Composition(formula).get_el_amt_dict()
    except (ValueError, KeyError, TypeError) as exc:
        raise TcdbError(f"{formula!r} is not a formula: {exc}.") from None
    unknown = sorted(s for s in amounts if s not in element_symbols())
    if unknown:
        raise TcdbError(f"{formula!r} names no element {', '.join(unknown)}.")
    others = sorted(s for s, amount in amounts.items() if s != "H" and amount > 0)
    if amounts.get("H", 0.0) <= 0 or len(others) != 1:
        raise TcdbError(
            f"{formula!r} is not a binary hydride EH_n: it needs H and exactly one other "
            f"element, it has {', '.join(sorted(amounts)) or 'none'}."
        )
    element = others[0]
    return element, amounts["H"] / amounts[element]


def predict_formulas(
    db: Target | None,
    run: VerifiedRun,
    formulas: Sequence[str],
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN,
    model: str = DEFAULT,
) -> Predicted:
    """Predict the hydrides named by ``formulas`` with every model the run holds; those that
    are no binary hydride, or whose element lacks a descriptor, are listed in ``failures`` and
    the rest predicted. Every model's rows are stored (kinds ``QUERY_KINDS``) unless ``db`` is
    None; the predictions of ``model`` (default: the run's choice) are returned."""
    predictor = load(run)
    shown = resolve_model(predictor, model)
    domains = domains_of(predictor, parameters)
    usable: list[tuple[str, str, float]] = []
    failures: list[tuple[str, str]] = []
    for formula in formulas:
        try:
            element, n = parse_hydride(formula)
        except TcdbError as exc:
            failures.append((formula, str(exc)))
            continue
        lacking = missing_descriptors(element, predictor.descriptors)
        if lacking:
            failures.append(
                (formula, f"{formula!r}: {element} lacks the descriptor(s) {', '.join(lacking)}.")
            )
            continue
        usable.append((formula, element, n))
    if not usable:
        empty = pd.DataFrame(columns=list(COLUMNS))
        return Predicted(run.id, shown, predictor.chosen, empty, domains[shown], failures)
    elements, ns = [u[1] for u in usable], np.array([u[2] for u in usable])
    frames = _every_model(predictor, domains, elements, ns, [u[0] for u in usable])
    if db is not None:
        store(db, run.id, frames, domains, QUERY_KINDS, predictor.chosen)
    return Predicted(run.id, shown, predictor.chosen, frames[shown], domains[shown], failures,
                     stored=tuple(frames) if db is not None else ())  # fmt: skip


def store(
    db: Target,
    run_id: str,
    frames: dict[str, pd.DataFrame],
    domains: dict[str, HydrideDomain],
    kinds: dict[str, str],
    chosen: str,
) -> None:
    """Write every model's predictions with their domain verdict, each row naming its model
    and the model the run ranks with, and the materials they name, in one transaction."""
    from tcdb.core.composition import normalise
    from tcdb.core.timestamps import utcnow
    from tcdb.ml.element_data import atomic_number
    from tcdb.schema.bulk import insert_new_materials

    compositions = {}
    rows = []
    for which, frame in frames.items():
        kind, thresholds = kinds[which], domains[which].thresholds()
        screen = kind == SCREEN_KINDS[which]
        for r in frame.itertuples(index=False):
            composition = normalise({r.element: 1.0, "H": float(r.n)})
            compositions[composition.material_id] = composition
            rows.append(
                {
                    "model_run_id": run_id,
                    "subject_kind": kind,
                    "subject_id": r.formula if screen else f"{r.element}H{r.n:g}",
                    "material_id": composition.material_id,
                    "formula": r.formula,
                    "tc_K": float(r.tc_K),
                    "tc_std_K": float(r.tc_std_K),
                    "pressure_GPa": float(r.pressure_GPa),
                    "pressure_std_GPa": float(r.pressure_std_GPa),
                    "distance_to_ambient": float(r.distance_to_ambient),
                    "distance_std": float(r.distance_std),
                    "in_domain": bool(r.in_domain),
                    "domain_reason": r.domain_reason if isinstance(r.domain_reason, str) else None,
                    "extra_json": json.dumps(
                        {
                            "model": which,
                            "chosen_model": chosen,
                            "element": r.element,
                            "n": float(r.n),
                            "Z": atomic_number(r.element),
                            "linear_tc_K": float(r.linear_tc_K),
                            "linear_pressure_GPa": float(r.linear_pressure_GPa),
                            "element_distance": float(r.element_distance),
                            "nearest_trained_element": r.nearest_trained_element,
                            "domain": thresholds,
                        }
                    ),
                }
            )
    what = ", ".join(sorted({kinds[which] for which in frames}))
    with storing(db, f"the {what} predictions of run {run_id}") as conn:
        insert_new_materials(conn, compositions, utcnow())
        write_predictions(conn, rows, refresh=True)
    log.info("stored %d %s predictions of run %s", len(rows), what, run_id)


FRAME = "hydride_frame"  # a shard's predictions by every model, as ``predict_hydrides`` gives


def _frame_schema():
    """What each shard of a hydride job holds, exactly (``store.screening_jobs`` checks it)."""
    import pyarrow as pa

    text, real = pa.string(), pa.float64()
    columns = [("formula", text), ("element", text), ("n", real), ("tc_K", real),
               ("tc_std_K", real), ("pressure_GPa", real), ("pressure_std_GPa", real),
               ("distance_to_ambient", real), ("distance_std", real), ("distance_upper", real),
               ("linear_tc_K", real), ("linear_pressure_GPa", real), ("in_domain", pa.bool_()),
               ("domain_reason", text), ("element_distance", real),
               ("nearest_trained_element", text), ("model", text)]  # fmt: skip
    return {FRAME: pa.schema(columns)}


@dataclass(frozen=True)
class HydridePackage:
    """What each actor loads for a hydride screen on Ray: the run and the domain parameters
    (the run folder must be readable where the actors run)."""

    run: VerifiedRun
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN

    def load(self) -> tuple[HydridePredictor, dict[str, HydrideDomain]]:
        model = load(self.run)
        return model, domains_of(model, self.parameters)


@dataclass(frozen=True)
class HydrideShards:
    """The screen of every EH_n cut into shards of (element, n): the descriptors are looked
    up by the actor with the model, so the task only hands the shard on."""

    def featurise(self, payload: tuple[list[str], np.ndarray]) -> tuple[list[str], np.ndarray]:
        return payload

    def predict(self, model: tuple[HydridePredictor, dict[str, HydrideDomain]], featurised) -> dict:
        import pyarrow as pa

        predictor, domains = model
        elements, ns = featurised
        formulas = [f"{e}H{int(n)}" for e, n in zip(elements, ns, strict=True)]
        frames = _every_model(predictor, domains, elements, ns, formulas)
        frame = pd.concat(list(frames.values()), ignore_index=True)
        return {FRAME: pa.Table.from_pandas(frame, preserve_index=False)}


def screen_sharded(
    db: Target,
    screening: Screening,
    run: VerifiedRun,
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN,
    model: str = DEFAULT,
) -> Predicted:
    """``screen`` on Ray: the grid in shards predicted by every model the run holds on the
    session's actors (which hold a ``HydridePackage`` of the same run), stored once every
    shard is written."""
    from tcdb.store.screening_jobs import shard_tables

    predictor = load(run)
    shown = resolve_model(predictor, model)
    domains = domains_of(predictor, parameters)
    _, elements, ns = screening_grid(predictor.descriptors)
    size = screening.size
    shards = max(1, -(-len(elements) // size))
    inputs = {"parameters": parameters.as_dict(), "rows": len(elements), "shard_size": size,
              "models": list(domains)}  # fmt: skip
    job = screening.job("hydride", run.id, inputs, shards, tables=_frame_schema())
    ran = screening.run(
        db, job, HydrideShards(), _grid_slices(list(elements), np.asarray(ns), size)
    )
    every = shard_tables(db, job, FRAME).to_pandas()
    frames = {which: every[every.model == which].reset_index(drop=True) for which in domains}
    store(db, run.id, frames, domains, SCREEN_KINDS, predictor.chosen)
    return Predicted(run.id, shown, predictor.chosen, frames[shown], domains[shown], [], ran,
                     tuple(frames))  # fmt: skip


def _grid_slices(elements: list[str], ns: np.ndarray, size: int):
    return lambda s: (elements[s * size : (s + 1) * size], ns[s * size : (s + 1) * size])
