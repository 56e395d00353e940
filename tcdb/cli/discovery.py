"""``tcdb predict`` and ``tcdb morph``: trained models applied to new inputs (structures with
the structure model the selection rule chooses, binary hydrides with a hydride-mlp run) and to
morphs of reference structures."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import database, profile_settings, reader, settings_of
from tcdb.cli.default_group import DefaultCommandGroup
from tcdb.cli.engines import AddressOption, EngineOption, JobOption, describe, engine_choice
from tcdb.core.csv_exports import write_csv
from tcdb.core.errors import TcdbError

predict_app = typer.Typer(
    cls=DefaultCommandGroup,
    help="Predict with a trained run: structure files with a structure model (the default: "
    "'tcdb predict PATH…' is 'tcdb predict structures PATH…'), or binary hydrides EH_n named "
    "by formula with a hydride-mlp run ('tcdb predict hydride LaH10').",
    no_args_is_help=True,
)

morph_app = typer.Typer(
    help="Morphisms of reference structures (Novakovic et al. 2023): species swaps and "
    "lattice scans predicted by the structure model the selection rule chooses, inside or "
    "outside its applicability domain, with the latest network beside it.",
    no_args_is_help=True,
)

RunOption = Annotated[
    str,
    typer.Option(
        "--run",
        help="'default' (the structure model the selection rule chooses: the best validation "
        "r² under the grouped protocol, docs/models.md), 'latest' (the latest cvcnn run), or "
        "a cvcnn or structure-experts run id",
    ),
]
CompositionOption = Annotated[
    str,
    typer.Option(help="A composition run id for the 'T_c chem' column, 'latest', or 'none'"),
]


def _composition_run(ctx: typer.Context, conn, ref: str):
    """The composition run to predict beside the structural model, loaded through the registry
    (an ``ml.contract.FormulaPredictor``); None when there is none."""
    from tcdb.ml.model_names import COMPOSITION
    from tcdb.ml.registry import get
    from tcdb.store.model_runs import RunNotFoundError, resolve_run

    if ref == "none":
        return None
    try:
        run = resolve_run(settings_of(ctx).runs, conn, ref, COMPOSITION)
    except RunNotFoundError as exc:  # a run that fails its checks is refused, never skipped
        if ref != "latest":
            raise
        typer.echo(f"note: {exc} The composition column stays empty.", err=True)
        return None
    return get(COMPOSITION).load(run)


def _ray_run(ref: str) -> str:
    """The run the Ray engine predicts with: it holds networks only, so ``default`` is the
    latest network there (said on stderr)."""
    if ref != "default":
        return ref
    typer.echo("note: the Ray engine predicts with cvcnn runs only; it uses the latest one.",
               err=True)  # fmt: skip
    return "latest"


def structure_model(ctx: typer.Context, conn, ref: str):
    """The structure model a command ranks with: ``default`` by the selection rule
    (``ml.structure_selection``, which it prints), ``latest`` the latest network, or the run
    an id names, whichever structure model it is."""
    from tcdb.ml.model_names import CVCNN
    from tcdb.ml.structure_selection import STRUCTURE_MODELS, choose, records

    if ref == "default":
        rows = conn.execute(
            "SELECT id, model, snapshot_id, metrics_json FROM model_run WHERE status = "
            "'succeeded' AND model IN (SELECT unnest(?)) ORDER BY finished_at, id",
            [list(STRUCTURE_MODELS)],
        ).fetchall()
        choice = choose(records(rows))
        typer.echo(choice.describe(), err=True)
        return _load_structure_run(ctx, conn, choice.run_id, choice.model)
    if ref == "latest":
        return _load_structure_run(ctx, conn, ref, CVCNN)
    known = conn.execute(
        "SELECT DISTINCT model FROM model_run WHERE (id = ? OR starts_with(id, ?)) AND model IN "
        "(SELECT unnest(?))",
        [ref, ref, list(STRUCTURE_MODELS)],
    ).fetchall()
    return _load_structure_run(ctx, conn, ref, known[0][0] if len(known) == 1 else CVCNN)


def _load_structure_run(ctx: typer.Context, conn, ref: str, model: str):
    from tcdb.ml.model_names import STRUCTURE_EXPERTS
    from tcdb.store.model_runs import resolve_run

    run = resolve_run(settings_of(ctx).runs, conn, ref, model)
    if model == STRUCTURE_EXPERTS:
        from tcdb.ml.structure_experts.predictor import load_experts

        return load_experts(run)
    from tcdb.ml.structural.predictor import StructuralModel

    return StructuralModel.load(run)


def _reproduction(ctx: typer.Context, conn, model) -> list:
    """The latest network beside a model that is not one: its rows are the papers'
    reproduction, predicted on the same features (none when it is the network, or none is
    trained)."""
    from tcdb.ml.model_names import CVCNN
    from tcdb.ml.structural.morph_runs import judges
    from tcdb.store.model_runs import RunNotFoundError

    if not judges(model):  # a model with a domain is not the network
        return []
    try:
        return [_load_structure_run(ctx, conn, "latest", CVCNN)]
    except RunNotFoundError:
        return []


FormatOption = Annotated[str, typer.Option("--format", help="table | csv | json")]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Also write the rows to this CSV file")
]


def _require_format(fmt: str) -> None:
    """Refuse a format the printers do not know, before any work is done."""
    if fmt not in ("table", "csv", "json"):
        raise TcdbError(f"Unknown format {fmt!r}; use table, csv or json.")


def _checked_output(ctx: typer.Context, output: Path | None) -> Path | None:
    """The ``-o`` file to write (links followed), checked before any work is done so that a
    refused path costs nothing: never the database, a file named after it or a file in a
    folder tcdb keeps (``core.output_paths``)."""
    from tcdb.core.output_paths import protected_paths

    return None if output is None else protected_paths(settings_of(ctx)).check_file(output)


@predict_app.command(
    "structures",
    no_args_is_help=True,
    short_help="T_c of structure files with a structure model (the default: 'tcdb predict PATH…').",
)
def predict(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="CIF or POSCAR files, folders of them, JSON lists of pymatgen structures, or "
            "JSON-lines and Parquet files of many (docs/scaling.md)",
            show_default=False,
        ),
    ],
    run: RunOption = "default",
    composition_run: CompositionOption = "latest",
    output: OutputOption = None,
    fmt: FormatOption = "table",
    store: Annotated[
        bool, typer.Option(help="Write the predictions to the database (view structure_prediction)")
    ] = True,
    engine: EngineOption = "local",
    address: AddressOption = None,
    job: JobOption = None,
) -> None:
    """Predict T_c of any structures with a structure-model run (--run default: the model
    the selection rule chooses, which is printed; a structure-experts run also says whether
    each structure lies in its applicability domain), the composition baseline beside it.
    An ensemble run (profile ensemble, --members) gives T_c ± the spread over its networks
    (column tc_std_K); a one-member run has no spread. The composition prediction carries
    its own spread (composition_tc_std_K) when its run has one. Inputs that cannot be read or
    featurised are listed with the reason; the rest are predicted. Exit status 1 when no
    input could be predicted. JSON-lines and Parquet files of many structures are read a
    slice at a time (docs/scaling.md); with --engine ray the inputs are one resumable job
    whose predictions go to the database and a summary is printed instead of every row."""
    _require_format(fmt)
    output = _checked_output(ctx, output)  # before the model's imports: a refusal costs nothing
    from tcdb.core.structure_files import read_structure_inputs
    from tcdb.ml.structural.predictions import predict_inputs

    choice = engine_choice(engine, address, job)
    if choice.is_ray:
        if not store:
            raise TcdbError("--engine ray stores every shard it predicts; drop --no-store.")
        _predict_on_ray(ctx, choice, paths, run, composition_run, output)
        return
    inputs, failures = read_structure_inputs(paths)
    if not inputs:
        _refuse_unusable(paths, failures)
    db = database(ctx, write=store)
    with db.reading() as conn:  # only to find the runs; predicting holds no connection
        model = structure_model(ctx, conn, run)
        composition = _composition_run(ctx, conn, composition_run)
    frame = predict_inputs(db if store else None, model, inputs, failures, composition)
    if output is not None:
        write_csv(frame, output)
    _print(frame, fmt, model.run_id)
    failed = frame[frame.status == "failed"]
    for reason in failed.reason:
        typer.echo(f"failed: {reason}", err=True)
    if len(failed) == len(frame):
        sys.exit(1)


def _predict_on_ray(ctx, choice, paths, run, composition_run, output) -> None:
    """The inputs as one job on Ray: a summary, every refusal on stderr, exit 1 if nothing
    was predicted."""
    from tcdb.ml.model_names import CVCNN
    from tcdb.ml.screening_engine import Screening, ray_session
    from tcdb.ml.structural.predictions import predict_paths_sharded
    from tcdb.ml.structural.predictor import ModelPackage
    from tcdb.store.model_runs import resolve_run
    from tcdb.store.screening_jobs import jobs_folder

    db = database(ctx, write=True)
    with db.reading() as conn:
        package = ModelPackage.of(resolve_run(settings_of(ctx).runs, conn, _ray_run(run), CVCNN))
        composition = _composition_run(ctx, conn, composition_run)
    with ray_session(choice, package) as session:
        screening = Screening(session, jobs_folder(db.path), choice.job)
        done = predict_paths_sharded(db, screening, package, list(paths), composition)
    table = done.table("prediction")
    if output is not None and table is not None:
        columns = ["subject_id", "formula", "tc_K", "tc_std_K", "input_path"]
        frame = table.select(columns).to_pandas()
        write_csv(frame.rename(columns={"subject_id": "structure_hash"}), output)
    for failure in done.failures:
        typer.echo(f"failed: {failure.reason}", err=True)
    typer.echo(f"predicted {done.predicted:,} structure(s), {len(done.failures):,} not "
               f"predicted (view structure_prediction)")  # fmt: skip
    typer.echo(describe(done.job))
    typer.echo(f"predicted with {done.run_id}")
    if done.predicted == 0:
        sys.exit(1)


@predict_app.command(
    "hydride",
    no_args_is_help=True,
    short_help="T_c, P and D of hydrides EH_n by formula with a hydride-mlp run, and its domain.",
)
def predict_hydride(
    ctx: typer.Context,
    formulas: Annotated[
        list[str],
        typer.Argument(
            help="Binary hydrides EH_n, e.g. LaH10 CaH6 La4H23 (n may be fractional)",
            show_default=False,
        ),
    ],
    run: Annotated[str, typer.Option("--run", help="A hydride-mlp run id, or 'latest'")] = "latest",
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="default (the model the run's rule chose to rank with) | network (the "
            "paper's) | forest",
        ),
    ] = "default",
    output: OutputOption = None,
    fmt: FormatOption = "table",
    store: Annotated[
        bool, typer.Option(help="Write the predictions to the database (view hydride_prediction)")
    ] = True,
) -> None:
    """Predict T_c and P of binary hydrides with a hydride-mlp run, by the model its rule chose
    (--model: the network or the forest): T_c ± σ and P ± σ over the members (or trees), D =
    |P/GPa| + |T_c/K − 293| ± the spread of the members' own D, and whether the run's
    applicability domain covers the hydride (no noble gas unless one was trained, trained n
    range, distance to the nearest trained element, spread), with every failed check. Every
    model's predictions are stored (the network's: view hydride_prediction_network). A formula
    that is not E H_n with exactly one element besides H is named with the reason; the rest are
    predicted. Exit status 1 when none could be."""
    _require_format(fmt)
    output = _checked_output(ctx, output)  # before the model's imports: a refusal costs nothing
    from tcdb.ml.hydride.screening import MODEL_CHOICES, predict_formulas
    from tcdb.ml.model_names import HYDRIDE_MLP
    from tcdb.store.model_runs import locate_run

    if model not in MODEL_CHOICES:
        raise TcdbError(f"Unknown model {model!r}; use {', '.join(MODEL_CHOICES)}.")
    db = database(ctx, write=store)
    with db.reading() as conn:  # only to find the run; reading its files holds no connection
        recorded = locate_run(settings_of(ctx).runs, conn, run, HYDRIDE_MLP)
    verified = recorded.verify()
    predicted = predict_formulas(db if store else None, verified, formulas, model=model)
    frame = _hydride_frame(predicted)
    if output is not None:
        write_csv(frame, output)
    if fmt == "table":
        which = "the run's choice" if predicted.model == predicted.chosen else "as asked"
        typer.echo(f"predicted with {predicted.run_id} by the {predicted.model} ({which}); "
                   f"{predicted.domain.describe()}")  # fmt: skip
        for r in predicted.frame.itertuples(index=False):
            verdict = "in domain" if r.in_domain else f"out of domain: {r.domain_reason}"
            typer.echo(
                f"{r.formula:<12} T_c {r.tc_K:6.1f} ± {r.tc_std_K:5.1f} K   "
                f"P {r.pressure_GPa:6.1f} ± {r.pressure_std_GPa:5.1f} GPa   "
                f"D {r.distance_to_ambient:6.1f} ± {r.distance_std:5.1f}   {verdict}"
            )
    else:
        _print(frame, fmt, predicted.run_id)
    for _, reason in predicted.failures:
        typer.echo(f"failed: {reason}", err=True)
    if predicted.frame.empty:
        raise TcdbError(
            f"None of the {len(formulas)} formula(s) is a binary hydride the run can predict; "
            "the reasons are listed above."
        )


def _hydride_frame(predicted):
    """The predictions (status 'predicted') and the formulas refused (status 'failed', with
    the reason in 'error'), as CSV and JSON give them."""
    import pandas as pd

    from tcdb.ml.hydride.screening import COLUMNS

    done = predicted.frame[list(COLUMNS)].assign(status="predicted", error=None)
    failed = pd.DataFrame(
        [
            {"formula": formula, "status": "failed", "error": reason}
            for formula, reason in predicted.failures
        ],
        columns=["formula", "status", "error"],
    )
    frames = [f for f in (done, failed) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else done


def _refuse_unusable(paths: list[Path], failures: list) -> None:
    """No input holds a structure: every input's reason, then one sentence (exit 1)."""
    for failure in failures:
        typer.echo(f"failed: {failure.reason}", err=True)
    named = ", ".join(str(p) for p in paths)
    raise TcdbError(
        f"None of the {len(failures)} input(s) could be read as a structure ({named}); "
        f"the reasons are listed above."
        if failures
        else f"No CIF, POSCAR or JSON structure file was found in {named}."
    )


def _print(frame, fmt: str, run_id: str) -> None:
    if fmt == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        typer.echo(frame.to_json(orient="records", indent=2))
    else:
        shown = frame[["name", "formula", "spacegroup_number", "status"]]
        spread = zip(frame.tc_K, frame.tc_std_K, strict=True)
        shown.insert(3, "tc", [_with_spread(t, s) for t, s in spread])
        chem = zip(frame.composition_tc_K, frame.composition_tc_std_K, strict=True)
        shown.insert(4, "chem", [_with_spread(t, s) for t, s in chem])
        shown = shown.rename(
            columns={
                "spacegroup_number": "space group",
                "tc": "T_c K (structure)",
                "chem": "T_c K (composition)",
            }
        )
        typer.echo(f"predicted with {run_id}")
        typer.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.1f}"))


def _with_spread(tc: float, spread: float) -> str:
    """'123.4 ± 5.6' with a spread, '123.4' without one (one network or one tree model),
    '' if failed."""
    if not math.isfinite(tc):
        return ""
    return f"{tc:.1f} ± {spread:.1f}" if math.isfinite(spread) else f"{tc:.1f}"


@morph_app.command("families")
def morph_families() -> None:
    """List the morph families with their reference structures."""
    from tcdb.ml.structural.morphs import FAMILIES

    for family in FAMILIES.values():
        typer.echo(f"{family.name:<16} {family.description}")
        typer.echo(f"{'':<16} references: {', '.join(family.references)}")


@morph_app.command("run")
def morph_run(
    ctx: typer.Context,
    families: Annotated[
        list[str] | None, typer.Argument(help="Families to run (see 'tcdb morph families')")
    ] = None,
    all_families: Annotated[bool, typer.Option("--all", help="Run every family")] = False,
    run: RunOption = "default",
    composition_run: CompositionOption = "latest",
    elements: Annotated[
        str | None, typer.Option(help="Comma-separated symbols instead of Z 1-86 (e.g. Li,Mg,H)")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="paper (16 scales, 2000 draws) | quick (8, 500) | smoke (Z ≤ 12)")
    ] = "paper",
    scan_points: Annotated[int | None, typer.Option(help="Lattice scales per morph")] = None,
    samples: Annotated[int | None, typer.Option(help="Draws of the random search")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the random search")] = None,
    top: Annotated[int, typer.Option(help="Show this many top morphs per family")] = 5,
    engine: EngineOption = "local",
    address: AddressOption = None,
    job: JobOption = None,
) -> None:
    """Generate, predict and store morph families; views morph_prediction, morph_summary and
    morph_top_candidates read them. For dome and ac-grid, say per reference structure whether
    T_c has an interior maximum over the scan and where. With --engine ray each reference
    structure's morphs are one resumable job of shards (docs/scaling.md)."""
    from tcdb.ml.structural.morph_runs import run_family
    from tcdb.ml.structural.morphs import FAMILIES, family
    from tcdb.ml.structural.parameters import MORPH, MORPH_PROFILES

    choice = engine_choice(engine, address, job)
    names = list(FAMILIES) if all_families else list(families or [])
    if not names:
        raise TcdbError("Name at least one family, or pass --all ('tcdb morph families').")
    chosen = [family(name) for name in names]
    chosen_profile = profile_settings(MORPH_PROFILES, profile, scan_points=scan_points,
                              random_samples=samples, random_seed=seed)  # fmt: skip
    params = dataclasses.replace(MORPH, **chosen_profile)
    only = [s.strip() for s in elements.split(",") if s.strip()] if elements else None
    db = database(ctx, write=True)
    if choice.is_ray:
        run_id = _morph_run_on_ray(ctx, db, choice, run, composition_run, chosen, params, only,
                                   top)  # fmt: skip
        typer.echo(f"predicted with {run_id}")
        return
    with db.reading() as conn:  # only to find the runs; predicting holds no connection
        model = structure_model(ctx, conn, run)
        composition = _composition_run(ctx, conn, composition_run)
        also = _reproduction(ctx, conn, model)
    for fam in chosen:
        references = read_references(db, fam)
        for outcome in run_family(db, model, fam, composition, params, only,
                                  references=references, also=also):  # fmt: skip
            _echo_outcome(fam.name, outcome)
        with db.reading() as conn:
            _show_top(conn, fam.name, top)
    typer.echo(f"predicted with {model.run_id}")


def _morph_run_on_ray(ctx, db, choice, run, composition_run, chosen, params, only, top) -> str:
    """The families on Ray: one session (the actors load the networks once) for them all."""
    from tcdb.ml.model_names import CVCNN
    from tcdb.ml.screening_engine import Screening, ray_session
    from tcdb.ml.structural.morph_runs import run_family_sharded
    from tcdb.ml.structural.predictor import ModelPackage
    from tcdb.store.model_runs import resolve_run
    from tcdb.store.screening_jobs import jobs_folder

    with db.reading() as conn:
        package = ModelPackage.of(resolve_run(settings_of(ctx).runs, conn, _ray_run(run), CVCNN))
        composition = _composition_run(ctx, conn, composition_run)
    with ray_session(choice, package) as session:
        screening = Screening(session, jobs_folder(db.path), choice.job)
        for fam in chosen:
            references = read_references(db, fam)
            for outcome in run_family_sharded(db, screening, package, fam, composition, params,
                                              only, references=references):  # fmt: skip
                _echo_outcome(fam.name, outcome)
                typer.echo(f"  {describe(outcome.job)}")
            with db.reading() as conn:
                _show_top(conn, fam.name, top)
    return package.run_id


def _echo_outcome(family: str, outcome) -> None:
    failed = ", ".join(f"{n} {why}" for why, n in outcome.failures.most_common())
    typer.echo(
        f"{family} on {outcome.reference_id}: {outcome.candidates:,} morphs, "
        f"{outcome.predicted:,} predicted in {outcome.seconds:.1f} s"
        + (f" (not predicted: {failed})" if failed else "")
        + (f"; T_c: {outcome.shape}" if outcome.shape else "")
        + (
            f"; {outcome.out_of_domain:,} outside the domain"
            if getattr(outcome, "out_of_domain", None) is not None
            else ""
        )
    )


def read_references(db, family) -> list:
    """The family's reference structures as ingested (``crystal_structure`` rows
    ``reference:<file stem>``), read here and handed to the model code, which never reads the
    live database."""
    from tcdb.ml.structural.morphs import reference_from_json, reference_id
    from tcdb.schema.database import reading
    from tcdb.schema.structures import active_structure_json

    with reading(db) as conn:
        stored = [active_structure_json(conn, reference_id(name)) for name in family.references]
    return [reference_from_json(n, text) for n, text in zip(family.references, stored, strict=True)]


def _show_top(conn, family: str, limit: int, every: bool = False) -> None:
    """The family's morphs by peak T_c: inside the ranking run's domain (morph_top_candidates),
    or with ``every`` all of them with the domain verdict at their peak (morph_summary_all)."""
    if every:
        rows = conn.execute(
            "SELECT row_number() OVER (ORDER BY tc_peak_K DESC, formula) AS rank, formula, "
            "tc_peak_K, tc_lowest_K, a_at_peak_A, composition_tc_K, peak_in_domain "
            "FROM morph_summary_all WHERE family = ? ORDER BY rank LIMIT ?",
            [family, int(limit)],
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT rank, formula, tc_peak_K, tc_lowest_K, a_at_peak_A, composition_tc_K, "
            "NULL FROM morph_top_candidates WHERE family = ? AND rank <= ? ORDER BY rank",
            [family, int(limit)],
        ).fetchall()
    if not rows:
        return
    typer.echo(f"  {'rank':>4} {'formula':<16} {'peak K':>7} {'lowest K':>8} {'a@peak Å':>8} "
               f"{'chem K':>7}" + ("  peak in domain" if every else ""))  # fmt: skip
    for rank, formula, peak, low, a, chem, inside in rows:
        chem_text = f"{chem:7.0f}" if chem is not None else f"{'-':>7}"
        flag = "" if not every else f"  {'-' if inside is None else ('yes' if inside else 'no')}"
        typer.echo(f"  {rank:>4} {formula:<16} {peak:7.0f} {low:8.0f} {a:8.2f} {chem_text}{flag}")


@morph_app.command("top")
def morph_top(
    ctx: typer.Context,
    family: Annotated[str | None, typer.Argument(help="One family; default every family")] = None,
    limit: Annotated[int, typer.Option(help="Morphs per family")] = 10,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every morph, inside the domain or not, with the verdict"),
    ] = False,
) -> None:
    """Show the morphs with the highest peak T_c inside the ranking run's applicability
    domain (view morph_top_candidates); --all ranks every morph and says whether its peak is
    inside (view morph_summary_all)."""
    from tcdb.ml.structural.morphs import FAMILIES

    names = [family] if family else list(FAMILIES)
    with reader(ctx) as conn:
        for name in names:
            if name not in FAMILIES:
                raise TcdbError(f"Unknown morph family {name!r}; choose {', '.join(FAMILIES)}.")
            typer.echo(name)
            _show_top(conn, name, limit, every)
