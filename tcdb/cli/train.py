"""``tcdb train``: a model trained on a frozen snapshot, never on the live database."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from tcdb.cli.context import database as _database
from tcdb.cli.context import profile_settings as _profile
from tcdb.cli.context import settings_of

log = logging.getLogger("tcdb")

app = typer.Typer(help="Train a model on a frozen snapshot (never the live database).",
                        no_args_is_help=True)  # fmt: skip


@app.command("hydride-mlp")
def train_hydride_mlp(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Option(help="A hydrides snapshot: id, id prefix or name")],
    seed: Annotated[int, typer.Option(help="Seed of the splits and initial weights")] = 0,
    profile: Annotated[str, typer.Option(help="paper | quick | smoke (a tiny test run)")] = "quick",
    members: Annotated[
        int | None, typer.Option(help="Ensemble members (validation splits); overrides profile")
    ] = None,
    max_epochs: Annotated[
        int | None, typer.Option(help="Epochs (each member keeps its best); overrides profile")
    ] = None,
) -> None:
    """The (T_c, P) network of Hutcheon et al. (2020): 64 members, each on its own random 25 %
    validation split; out-of-fold metrics beside a linear baseline."""
    from core.parameters import HYDRIDE_PROFILES
    from ml.hydride_ensemble import HydrideMLPConfig
    from ml.hydride_training import train
    from store.snapshots import load_snapshot

    chosen = _profile(HYDRIDE_PROFILES, profile, members=members, max_epochs=max_epochs)
    settings = settings_of(ctx)
    frozen = load_snapshot(settings.snapshots, snapshot, db=settings.db)
    config = HydrideMLPConfig(seed=seed, **chosen)
    run = train(_database(ctx, write=True), frozen, settings.runs, config, profile=profile)
    mlp, linear = run.metrics["mlp_ensemble"], run.metrics["linear_baseline"]
    typer.echo(
        f"model run {run.id} on snapshot {frozen.id} ({run.metrics['n_points']} points, "
        f"profile {profile}: {config.members} members, up to {config.max_epochs} epochs)"
    )
    typer.echo(f"{'out of fold':<16} {'T_c RMSE K':>10} {'T_c MAE K':>10} {'T_c R²':>7} "
               f"{'P RMSE GPa':>11} {'P R²':>6}")  # fmt: skip
    for label, m in (("MLP ensemble", mlp), ("linear baseline", linear)):
        typer.echo(
            f"{label:<16} {m['tc_rmse']:>10.1f} {m['tc_mae']:>10.1f} {m['tc_r2']:>7.3f} "
            f"{m['pressure_rmse']:>11.1f} {m['pressure_r2']:>6.3f}"
        )
    typer.echo(f"artefacts: {run.path}")


@app.command("composition")
def train_composition(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Option(help="A structures snapshot: id, id prefix or name")],
    seed: Annotated[int, typer.Option(help="Seed of the folds and the trees")] = 0,
    profile: Annotated[str, typer.Option(help="paper | quick | smoke (a tiny test run)")] = "quick",
) -> None:
    """The composition-only baseline ("T_c chem"): gradient-boosted trees on the 81
    composition descriptors (Hamidieh 2018), 10-fold cross-validation grouped by composition."""
    from core.parameters import COMPOSITION_PROFILES
    from ml.composition_model import CompositionModelConfig, train
    from store.snapshots import load_snapshot

    chosen = _profile(COMPOSITION_PROFILES, profile)
    settings = settings_of(ctx)
    frozen = load_snapshot(settings.snapshots, snapshot, db=settings.db)
    config = CompositionModelConfig(seed=seed, **chosen)
    run = train(_database(ctx, write=True), frozen, settings.runs, config, profile=profile)
    cv = run.metrics["cross_validation"]
    typer.echo(f"model run {run.id} on snapshot {frozen.id} (profile {profile})")
    typer.echo(
        f"{config.folds}-fold CV grouped by composition, {cv['n']:,} labels: RMSE "
        f"{cv['rmse_K']:.2f} K, MAE {cv['mae_K']:.2f} K, R² {cv['r2']:.3f} "
        f"(Hamidieh 2018: RMSE 9.5 K, R² 0.92)"
    )
    typer.echo(f"artefacts: {run.path}")


@app.command("cvcnn")
def train_cvcnn_command(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Option(help="A structures snapshot: id, id prefix or name")],
    seed: Annotated[int, typer.Option(help="Seed of the split and the weights")] = 0,
    profile: Annotated[
        str, typer.Option(help="paper (300 epochs) | quick (40) | smoke (2)")
    ] = "quick",
    epochs: Annotated[int | None, typer.Option(help="Overrides the profile's epochs")] = None,
) -> None:
    """The complex-valued CNN on Fourier densities + 175 descriptors (Novakovic et al. 2023);
    validation r², RMSE and MAE on a seeded 80/20 split."""
    from core.parameters import CVCNN_PROFILES
    from ml.cvcnn import CVCNNConfig
    from ml.cvcnn_training import train
    from store.snapshots import load_snapshot

    chosen = _profile(CVCNN_PROFILES, profile, epochs=epochs)
    settings = settings_of(ctx)
    frozen = load_snapshot(settings.snapshots, snapshot, db=settings.db)
    config = CVCNNConfig(seed=seed, **chosen)
    db = _database(ctx, write=True)
    run = train(db, frozen, settings.runs, config, settings.cache, profile)
    v = run.metrics["validation"]
    typer.echo(
        f"model run {run.id} on snapshot {frozen.id} (profile {profile}: {config.epochs} epochs, "
        f"best {run.metrics['best_epoch'] + 1}, {run.metrics['training_seconds']:.0f} s)"
    )
    typer.echo(
        f"validation ({v['n']} structures): r² {v['r2']:.4f}, RMSE {v['rmse_K']:.2f} K, "
        f"MAE {v['mae_K']:.2f} K (paper: r² 0.9429 after 300 epochs)"
    )
    typer.echo(f"artefacts: {run.path}")
