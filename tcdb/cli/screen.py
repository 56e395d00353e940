"""``tcdb screen``: candidates screened with a trained model into the database."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of
from tcdb.cli.engines import AddressOption, EngineOption, JobOption, describe, engine_choice
from tcdb.core.errors import TcdbError

app = typer.Typer(help="Screen candidates with a trained model; predictions go to the "
                         "database.", no_args_is_help=True)  # fmt: skip


ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="default (the model the run's rule chose to rank with) | network (the paper's, "
        "the reproduction) | forest",
    ),
]


@app.command("hydrides")
def screen_hydrides(
    ctx: typer.Context,
    run: Annotated[str, typer.Option(help="A hydride-mlp run id, or 'latest'")] = "latest",
    top: Annotated[
        int, typer.Option(help="Show this many elements closest to ambient", min=0)
    ] = 10,
    all_rows: Annotated[
        bool,
        typer.Option(
            "--all", help="Rank every EH_n, in the applicability domain or not, with its flag"
        ),
    ] = False,
    model: ModelOption = "default",
    engine: EngineOption = "local",
    address: AddressOption = None,
    job: JobOption = None,
) -> None:
    """Predict every EH_n (each element with descriptors, n = 1 … 31) with each model the run
    holds (the network's members; the forest's trees) and judge each against the run's
    applicability domain (no noble gas unless one was trained, trained n range, distance to the
    nearest trained element, spread); every model's rows are stored. Prints the model that
    ranks (--model; by default the one the run's rule chose from its grouped out-of-fold
    scores), its thresholds, how many EH_n each check flags, and each element's best n in the
    domain (view hydride_best_per_element; --all: over every EH_n, view
    hydride_best_per_element_all; the network's rows: view hydride_screening_network). With
    --engine ray the grid is one resumable job of shards (docs/scaling.md)."""
    from tcdb.ml.hydride.screening import MODEL_CHOICES, screen
    from tcdb.ml.model_names import HYDRIDE_MLP
    from tcdb.store.model_runs import resolve_run

    if model not in MODEL_CHOICES:
        raise TcdbError(f"Unknown model {model!r}; use {', '.join(MODEL_CHOICES)}.")
    choice = engine_choice(engine, address, job)
    db = database(ctx, write=True)
    with db.reading() as conn:
        verified = resolve_run(settings_of(ctx).runs, conn, run, HYDRIDE_MLP)
    if choice.is_ray:
        from tcdb.ml.hydride.screening import HydridePackage, screen_sharded
        from tcdb.ml.screening_engine import Screening, ray_session
        from tcdb.store.screening_jobs import jobs_folder

        with ray_session(choice, HydridePackage(verified)) as session:
            screened = screen_sharded(db, Screening(session, jobs_folder(db.path), choice.job),
                                      verified, model=model)  # fmt: skip
    else:
        screened = screen(db, verified, model=model)
    typer.echo(f"screened {len(screened.frame):,} EH_n with run {verified.name} "
               f"(stored: {', '.join(screened.stored)})")  # fmt: skip
    if screened.job is not None:
        typer.echo(describe(screened.job))
    typer.echo(ranking_line(screened.model, screened.chosen, verified.manifest))
    typer.echo(screened.domain.describe())
    counts = screened.counts()
    out = counts.pop("out of domain")
    flagged = ", ".join(f"{check} {n:,}" for check, n in counts.items())
    typer.echo(f"flagged: {flagged}; out of domain {out:,} of {len(screened.frame):,}")
    best = screened.best_per_element(every=all_rows).head(top)
    scope = "every EH_n" if all_rows else "in the domain"
    typer.echo(f"{'best n per element, ' + scope:<32} {'T_c K':>11} {'P GPa':>11} "
               f"{'D':>10}")  # fmt: skip
    for r in best.itertuples(index=False):
        line = (
            f"{r.formula:<32} {r.tc_K:>5.0f} ± {r.tc_std_K:<3.0f} {r.pressure_GPa:>5.0f} ± "
            f"{r.pressure_std_GPa:<3.0f} {r.distance_to_ambient:>4.0f} ± {r.distance_std:<3.0f}"
        )
        if all_rows:
            line += "  in domain" if r.in_domain else f"  out: {r.domain_reason}"
        typer.echo(line)


def ranking_line(model: str, chosen: str, manifest: dict) -> str:
    """Which model ranks, and why: the run's rule and the scores it chose from."""
    from tcdb.ml.hydride.selection import RECORD_KEY

    recorded = manifest.get("metrics", {}).get(RECORD_KEY)
    if not isinstance(recorded, dict):
        return f"ranked by the {model} (a run recorded before the choice: the network only)"
    from tcdb.ml.hydride.parameters import METRIC_WORDS

    unit = "K" if recorded["metric"].startswith("tc") else "GPa"
    scores = ", ".join(f"{m} {v:.1f} {unit}" for m, v in recorded["scores"].items())
    words = METRIC_WORDS.get(recorded["metric"], recorded["metric"])
    why = f"the run's rule: {recorded['rule']} ({words}: {scores})"
    if model == chosen:
        return f"ranked by the {model}; {why}"
    return f"ranked by the {model} as asked; {why} chose the {chosen}"
