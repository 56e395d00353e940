"""EH_n predicted by a hydride-mlp run: the screen of every E × n = 1 … 31 and hydrides a user
names (``tcdb predict hydride LaH10 La4H23``), each with its applicability domain.

Why here and not in the training module: predicting is what a loaded run does, whoever trained
it. Every prediction carries the ensemble mean and the spread over members of T_c and P, the
distance to ambient D = |P/GPa| + |T_c/K − 293| at the mean with ``distance_std`` (the spread
of each member's own D) and ``distance_upper`` = D + distance_std, and the verdict of
``ml.hydride.domain`` (``in_domain``, ``domain_reason``, ``element_distance``,
``nearest_trained_element``). The thresholds and the domain parameters go into each stored
row's ``extra_json``.
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
from tcdb.ml.hydride.parameters import HYDRIDE_DOMAIN, HydrideDomainParameters
from tcdb.ml.hydride.training import HydridePredictor, distance_to_ambient, load
from tcdb.ml.screening_engine import JobOutcome, Screening
from tcdb.schema.database import Target, storing
from tcdb.store.model_runs import VerifiedRun, write_predictions

log = logging.getLogger(__name__)

SCREEN_KIND = "hydride"  # one row per E × n of the screen (views hydride_screening, …)
QUERY_KIND = "hydride_query"  # hydrides named by a user (view hydride_prediction)
COLUMNS = ("formula", "element", "n", "tc_K", "tc_std_K", "pressure_GPa", "pressure_std_GPa",
           "distance_to_ambient", "distance_std", "distance_upper", "in_domain",
           "domain_reason", "element_distance", "nearest_trained_element")  # fmt: skip


@dataclass(frozen=True)
class Predicted:
    """Predictions with the domain they were judged by, and inputs that could not be used."""

    run_id: str
    frame: pd.DataFrame  # COLUMNS plus linear_tc_K, linear_pressure_GPa
    domain: HydrideDomain
    failures: list[tuple[str, str]]  # (formula, a sentence naming it and why it was refused)
    job: JobOutcome | None = None  # on Ray: the job and what this run of it did

    def counts(self) -> dict[str, int]:
        """How many rows each domain check flags."""
        return check_counts(self.frame)


def predict_hydrides(
    model: HydridePredictor, domain: HydrideDomain, elements: Sequence[str], ns: np.ndarray
) -> pd.DataFrame:
    """Every member's (T_c, P) for the EH_n ``elements[i]`` H_``ns[i]``, summarised."""
    X, _ = hydride_matrix(list(elements), np.asarray(ns, dtype=float), model.descriptors)
    members = model.ensemble.predict_members(X)
    mean, spread = members.mean(axis=0), members.std(axis=0)
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
    return pd.concat([frame, domain.assess(elements, X, spread)], axis=1)


def screen(
    db: Target, run: VerifiedRun, parameters: HydrideDomainParameters = HYDRIDE_DOMAIN
) -> Predicted:
    """Predict every screenable EH_n (n = 1 … 31) with all members, judge each against the
    run's domain and store them (``db`` is opened for writing only once they are computed)."""
    model = load(run)
    domain = domain_of(model.ensemble, parameters)
    _, elements, ns = screening_grid(model.descriptors)
    frame = predict_hydrides(model, domain, elements, ns)
    frame.insert(0, "formula", [f"{e}H{int(n)}" for e, n in zip(elements, ns, strict=True)])
    store(db, run.id, frame, SCREEN_KIND, domain)
    return Predicted(run.id, frame, domain, [])


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
) -> Predicted:
    """Predict the hydrides named by ``formulas``; those that are no binary hydride, or whose
    element lacks a descriptor, are listed in ``failures`` and the rest predicted. Stored
    (kind ``hydride_query``) unless ``db`` is None."""
    model = load(run)
    domain = domain_of(model.ensemble, parameters)
    usable: list[tuple[str, str, float]] = []
    failures: list[tuple[str, str]] = []
    for formula in formulas:
        try:
            element, n = parse_hydride(formula)
        except TcdbError as exc:
            failures.append((formula, str(exc)))
            continue
        lacking = missing_descriptors(element, model.descriptors)
        if lacking:
            failures.append(
                (formula, f"{formula!r}: {element} lacks the descriptor(s) {', '.join(lacking)}.")
            )
            continue
        usable.append((formula, element, n))
    if not usable:
        return Predicted(run.id, pd.DataFrame(columns=list(COLUMNS)), domain, failures)
    elements, ns = [u[1] for u in usable], np.array([u[2] for u in usable])
    frame = predict_hydrides(model, domain, elements, ns)
    frame.insert(0, "formula", [u[0] for u in usable])
    if db is not None:
        store(db, run.id, frame, QUERY_KIND, domain)
    return Predicted(run.id, frame, domain, failures)


def store(db: Target, run_id: str, frame: pd.DataFrame, kind: str, domain: HydrideDomain) -> None:
    """Write the predictions with their domain verdict, and the materials they name."""
    from tcdb.core.composition import normalise
    from tcdb.core.timestamps import utcnow
    from tcdb.ml.element_data import atomic_number
    from tcdb.schema.bulk import insert_new_materials

    thresholds = domain.thresholds()
    compositions = {}
    rows = []
    for r in frame.itertuples(index=False):
        composition = normalise({r.element: 1.0, "H": float(r.n)})
        compositions[composition.material_id] = composition
        subject = r.formula if kind == SCREEN_KIND else f"{r.element}H{r.n:g}"
        rows.append(
            {
                "model_run_id": run_id,
                "subject_kind": kind,
                "subject_id": subject,
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
    with storing(db, f"the {kind} predictions of run {run_id}") as conn:
        insert_new_materials(conn, compositions, utcnow())
        write_predictions(conn, rows, refresh=True)
    log.info("stored %d %s predictions of run %s", len(rows), kind, run_id)


FRAME = "hydride_frame"  # a shard's predictions as ``predict_hydrides`` gives them


def _frame_schema():
    """What each shard of a hydride job holds, exactly (``store.screening_jobs`` checks it)."""
    import pyarrow as pa

    text, real = pa.string(), pa.float64()
    columns = [("formula", text), ("element", text), ("n", real), ("tc_K", real),
               ("tc_std_K", real), ("pressure_GPa", real), ("pressure_std_GPa", real),
               ("distance_to_ambient", real), ("distance_std", real), ("distance_upper", real),
               ("linear_tc_K", real), ("linear_pressure_GPa", real), ("in_domain", pa.bool_()),
               ("domain_reason", text), ("element_distance", real),
               ("nearest_trained_element", text)]  # fmt: skip
    return {FRAME: pa.schema(columns)}


@dataclass(frozen=True)
class HydridePackage:
    """What each actor loads for a hydride screen on Ray: the run and the domain parameters
    (the run folder must be readable where the actors run)."""

    run: VerifiedRun
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN

    def load(self) -> tuple[HydridePredictor, HydrideDomain]:
        model = load(self.run)
        return model, domain_of(model.ensemble, self.parameters)


@dataclass(frozen=True)
class HydrideShards:
    """The screen of every EH_n cut into shards of (element, n): the descriptors are looked
    up by the actor with the model, so the task only hands the shard on."""

    def featurise(self, payload: tuple[list[str], np.ndarray]) -> tuple[list[str], np.ndarray]:
        return payload

    def predict(self, model: tuple[HydridePredictor, HydrideDomain], featurised) -> dict:
        import pyarrow as pa

        predictor, domain = model
        elements, ns = featurised
        frame = predict_hydrides(predictor, domain, elements, ns)
        frame.insert(0, "formula", [f"{e}H{int(n)}" for e, n in zip(elements, ns, strict=True)])
        return {FRAME: pa.Table.from_pandas(frame, preserve_index=False)}


def screen_sharded(
    db: Target,
    screening: Screening,
    run: VerifiedRun,
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN,
) -> Predicted:
    """``screen`` on Ray: the grid in shards predicted by the session's actors (which hold a
    ``HydridePackage`` of the same run), stored once every shard is written."""
    from tcdb.store.screening_jobs import shard_tables

    model = load(run)
    domain = domain_of(model.ensemble, parameters)
    _, elements, ns = screening_grid(model.descriptors)
    size = screening.size
    shards = max(1, -(-len(elements) // size))
    inputs = {"parameters": parameters.as_dict(), "rows": len(elements), "shard_size": size}
    job = screening.job("hydride", run.id, inputs, shards, tables=_frame_schema())
    ran = screening.run(
        db, job, HydrideShards(), _grid_slices(list(elements), np.asarray(ns), size)
    )
    frame = shard_tables(db, job, FRAME).to_pandas()
    store(db, run.id, frame, SCREEN_KIND, domain)
    return Predicted(run.id, frame, domain, [], ran)


def _grid_slices(elements: list[str], ns: np.ndarray, size: int):
    return lambda s: (elements[s * size : (s + 1) * size], ns[s * size : (s + 1) * size])
