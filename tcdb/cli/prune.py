"""``tcdb prune``: remove failed, unfinished and old model runs and unused feature caches."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import reader, settings_of, writer


def _size(size: int) -> str:
    """Bytes in the largest binary unit that keeps a digit before the point."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} B"


def _cache_keys_in_use(plan, snapshots) -> set[str] | None:
    """The feature cache keys of the runs that stay; None when one cannot be worked out (its
    snapshot is gone or damaged), in which case every cache stays."""
    from tcdb.ml.structural.feature_cache_keys import feature_cache_key
    from tcdb.store.artifacts import ArtifactError
    from tcdb.store.snapshots import load_snapshot

    keys: set[str] = set()
    for run in plan.kept_runs:
        features = run.config.get("features")
        if features is None:
            continue  # a model that reads no structure features
        try:
            structures = load_snapshot(snapshots, run.snapshot_id).structures
        except ArtifactError as exc:
            plan.notes.append(
                f"every feature cache stays: the snapshot of {run.id} cannot be read ({exc})"
            )
            return None
        key = feature_cache_key(structures, features)
        if key:
            keys.add(key)
    return keys


def prune(
    ctx: typer.Context,
    keep: Annotated[
        int, typer.Option(help="Succeeded runs kept per model, newest first (at least 1)", min=1)
    ] = 3,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed and free nothing")
    ] = False,
) -> None:
    """Remove model runs that failed or never finished, runs older than the --keep newest of
    their model (never one that predictions refer to, never the newest), and feature caches no
    kept run uses. Snapshots are never removed."""
    from tcdb.store.prune import apply, plan_caches, plan_runs

    settings = settings_of(ctx)
    with reader(ctx) if dry_run else writer(ctx) as conn:
        plan = plan_runs(conn, settings.runs, keep)
        keys = _cache_keys_in_use(plan, settings.snapshots)
        if keys is not None:
            plan.removals += plan_caches(settings.cache, keys)
        for note in plan.notes:
            typer.echo(f"kept: {note}")
        if not plan.removals:
            typer.echo("Nothing to prune.")
            return
        verb = "would remove" if dry_run else "removing"
        for removal in plan.removals:
            typer.echo(f"{verb} {removal.path} ({_size(removal.size)}): {removal.reason}")
        if dry_run:
            typer.echo(
                f"would free {_size(plan.size)} ({plan.size:,} bytes) "
                f"in {len(plan.removals)} folder(s)"
            )
            return
        deleted, freed = apply(conn, plan.removals, [settings.runs, settings.cache])
    typer.echo(f"freed {_size(freed)} ({freed:,} bytes) in {deleted} folder(s)")
