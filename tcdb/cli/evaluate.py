"""``tcdb evaluate``: a cvcnn run scored on a labelled set of structures (protocol external)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of
from tcdb.core.errors import TcdbError

FORMATS = ("table", "csv", "json")


def evaluate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="CIF or POSCAR files or folders with a labels CSV (columns: file name, tc_K; "
            "a CSV argument or any CSV in a given folder), or JSON files whose items carry "
            "tc_K",
            show_default=False,
        ),
    ],
    run: Annotated[
        str,
        typer.Option(
            "--run",
            help="A cvcnn or structure-experts run id or id prefix, 'latest' (the latest "
            "cvcnn run) or 'default' (the structure model the selection rule chooses)",
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
) -> None:
    """Score a structure-model run on labelled structures it was not trained on: r², RMSE and
    MAE over all and per T_c band (< 10, 10-30, 30-77, ≥ 77 K) with n, a parity plot beside the
    database (evaluations/<id>/parity.png), and the result stored (table evaluation; each
    prediction a prediction row with its label). Inputs, rows or items that cannot be used
    are listed with the reason (file and line or item) and the rest are scored."""
    from tcdb.cli.discovery import structure_model
    from tcdb.ml.labelled_structures import read_labelled_structures
    from tcdb.ml.structural.external_evaluation import evaluate_run

    if fmt not in FORMATS:
        raise TcdbError(f"Unknown format {fmt!r}; use {', '.join(FORMATS)}.")
    settings = settings_of(ctx)
    labelled, rejected = read_labelled_structures(paths)  # before the model: a bad set is quick
    for failure in rejected:
        typer.echo(f"rejected: {failure.reason}", err=True)
    if not labelled:
        raise TcdbError(
            f"No labelled structure could be read from {', '.join(map(str, paths))}; "
            + ("the reasons are listed above." if rejected else "no input was found.")
        )
    db = database(ctx, write=True)
    with db.reading() as conn:  # only to find the run; predicting holds no connection
        model = structure_model(ctx, conn, run)
    result = evaluate_run(db, model, labelled, rejected, list(paths), settings.evaluations,
                          Path.cwd())  # fmt: skip
    for failure in result.rejected[len(rejected) :]:  # those the model refused
        typer.echo(f"rejected: {failure.reason}", err=True)
    _print(result, fmt)


def _band_rows(metrics: dict) -> list[dict]:
    overall = {"band": "all", **{k: v for k, v in metrics["overall"].items() if k != "protocol"}}
    return [overall, *metrics["bands"]]


def _number(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print(result, fmt: str) -> None:
    import pandas as pd

    rows = _band_rows(result.metrics)
    if fmt == "json":
        typer.echo(json.dumps({
            "evaluation_id": result.id, "run_id": result.run_id, "protocol": "external",
            "inputs_sha256": result.inputs_sha256, "metrics": result.metrics,
            "items": result.items, "rejected": [f.reason for f in result.rejected],
            "plot_path": str(result.plot_path),
        }, indent=2))  # fmt: skip
        return
    frame = pd.DataFrame(rows)[["band", "n", "r2", "rmse_K", "mae_K"]]
    if fmt == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    spread = result.metrics.get("spread_mean_K")
    typer.echo(
        f"evaluation {result.id}: run {result.run_id} on {len(result.items)} labelled "
        f"structures (protocol external, {len(result.rejected)} rejected)"
        + (f"; mean spread over members {spread:.2f} K" if spread is not None else "")
    )
    typer.echo(f"{'band':<10} {'n':>5} {'r²':>8} {'RMSE K':>8} {'MAE K':>8}")
    for row in rows:
        typer.echo(f"{row['band']:<10} {row['n']:>5} {_number(row['r2'], 4):>8} "
                   f"{_number(row['rmse_K'], 2):>8} {_number(row['mae_K'], 2):>8}")  # fmt: skip
    typer.echo(f"parity plot: {result.plot_path}")
