"""``tcdb screen``: candidates screened with a trained model into the database."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of
from tcdb.cli.engines import AddressOption, EngineOption, JobOption, describe, engine_choice

app = typer.Typer(help="Screen candidates with a trained model; predictions go to the "
                         "database.", no_args_is_help=True)  # fmt: skip


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
    engine: EngineOption = "local",
    address: AddressOption = None,
    job: JobOption = None,
) -> None:
    """Predict every EH_n (each element with descriptors, n = 1 … 31) with all members and
    judge each against the run's applicability domain (trained n range, distance to the
    nearest trained element, spread over members). Prints the thresholds, how many EH_n each
    check flags, and each element's best n in the domain (view hydride_best_per_element;
    --all: over every EH_n, view hydride_best_per_element_all). With --engine ray the grid is
    one resumable job of shards (docs/scaling.md)."""
    from tcdb.ml.hydride.screening import screen
    from tcdb.ml.model_names import HYDRIDE_MLP
    from tcdb.store.model_runs import resolve_run

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
                                      verified)  # fmt: skip
    else:
        screened = screen(db, verified)
    typer.echo(f"screened {len(screened.frame):,} EH_n with run {verified.name}")
    if screened.job is not None:
        typer.echo(describe(screened.job))
    typer.echo(screened.domain.describe())
    counts = screened.counts()
    out = counts.pop("out of domain")
    flagged = ", ".join(f"{check} {n:,}" for check, n in counts.items())
    typer.echo(f"flagged: {flagged}; out of domain {out:,} of {len(screened.frame):,}")
    view = "hydride_best_per_element_all" if all_rows else "hydride_best_per_element"
    with db.reading() as conn:
        best = conn.execute(
            "SELECT formula, tc_K, tc_std_K, pressure_GPa, pressure_std_GPa, "
            f"distance_to_ambient, coalesce(distance_std, 'NaN'), in_domain, domain_reason "
            f"FROM {view} "
            f"LIMIT {int(top)}"
        ).fetchall()
    scope = "every EH_n" if all_rows else "in the domain"
    typer.echo(f"{'best n per element, ' + scope:<32} {'T_c K':>11} {'P GPa':>11} "
               f"{'D':>10}")  # fmt: skip
    for formula, tc, tc_std, p, p_std, d, d_std, inside, reason in best:
        line = (
            f"{formula:<32} {tc:>5.0f} ± {tc_std:<3.0f} {p:>5.0f} ± {p_std:<3.0f} "
            f"{d:>4.0f} ± {d_std:<3.0f}"
        )
        if all_rows:
            line += "  in domain" if inside else f"  out: {reason}"
        typer.echo(line)
