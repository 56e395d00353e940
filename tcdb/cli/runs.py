"""``tcdb runs``: list the registered model runs, show one, and verify one's files."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tcdb.cli.context import reader, settings_of

app = typer.Typer(
    help="List, show and verify the model runs the database registers.", no_args_is_help=True
)

RefArgument = Annotated[
    str, typer.Argument(help="A run id, an id prefix, a model (its newest run) or 'latest'")
]


@app.command("list")
def runs_list(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only the runs of this model")] = None,
) -> None:
    """Every registered run, oldest first, with its status, snapshot and profile."""
    with reader(ctx) as conn:
        rows = conn.execute(
            "SELECT id, model, status, snapshot_id, profile, finished_at FROM model_run "
            "WHERE ? IS NULL OR model = ? ORDER BY finished_at, id",
            [model, model],
        ).fetchall()
    if not rows:
        typer.echo("No model runs yet; 'tcdb train' makes one.")
    for run_id, run_model, status, snapshot_id, profile, finished in rows:
        when = finished.isoformat(timespec="seconds") if finished else "-"
        typer.echo(
            f"{run_id}  {run_model:<14} {status:<9} snapshot {snapshot_id}  "
            f"{profile or '-':<6} {when}"
        )


def _verified(ctx: typer.Context, ref: str):
    from tcdb.store.model_runs import find_run, verify_run

    with reader(ctx) as conn:
        run_id, model = find_run(conn, ref)
        return verify_run(conn, run_id, model, settings_of(ctx).runs)


@app.command("show")
def runs_show(ctx: typer.Context, ref: RefArgument) -> None:
    """A run's manifest, after checking it and every file against the database."""
    typer.echo(json.dumps(_verified(ctx, ref).manifest, indent=2, sort_keys=True))


@app.command("verify")
def runs_verify(ctx: typer.Context, ref: RefArgument) -> None:
    """Check a run's manifest against the hash the database recorded and every file against
    the manifest (exit 1 with the reason when they differ)."""
    run = _verified(ctx, ref)
    typer.echo(f"{run.id}: intact")
