"""``tcdb screen``: candidates screened with a trained model into the database."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of

app = typer.Typer(help="Screen candidates with a trained model; predictions go to the "
                         "database.", no_args_is_help=True)  # fmt: skip


@app.command("hydrides")
def screen_hydrides(
    ctx: typer.Context,
    run: Annotated[str, typer.Option(help="A hydride-mlp run id, or 'latest'")] = "latest",
    top: Annotated[
        int, typer.Option(help="Show this many elements closest to ambient", min=0)
    ] = 10,
) -> None:
    """Predict every EH_n (each element with descriptors, n = 1 … 31) with all members; the
    views hydride_best_per_element and hydride_closest_decile summarise them."""
    from ml.hydride_training import screen
    from ml.model_names import HYDRIDE_MLP
    from store.model_runs import resolve_run

    db = database(ctx, write=True)
    with db.reading() as conn:
        verified = resolve_run(settings_of(ctx).runs, conn, run, HYDRIDE_MLP)
    predictions = screen(db, verified)
    with db.reading() as conn:
        best = conn.execute(
            f"SELECT formula, tc_K, tc_std_K, pressure_GPa, pressure_std_GPa, "
            f"distance_to_ambient FROM hydride_best_per_element LIMIT {int(top)}"
        ).fetchall()
    typer.echo(f"screened {len(predictions):,} EH_n with run {verified.name}")
    typer.echo(f"{'best n per element':<20} {'T_c K':>12} {'P GPa':>12} {'D':>7}")
    for formula, tc, tc_std, p, p_std, d in best:
        typer.echo(f"{formula:<20} {tc:>6.0f} ± {tc_std:<3.0f} {p:>6.0f} ± {p_std:<3.0f} {d:>7.0f}")
