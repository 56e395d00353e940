"""``tcdb snapshot``: freeze, list, compare and verify the training sets models read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import settings_of, writer
from tcdb.core.errors import TcdbError

app = typer.Typer(
    help="Freeze, list, compare and verify the training sets models read.",
    no_args_is_help=True,
)


@app.command("create")
def snapshot_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A label for people; the id is the content hash")],
    kind: Annotated[str, typer.Option(help="structures | hydrides")],
    variance_cutoff: Annotated[float, typer.Option(help="σ² cutoff in K² (≥ 0)", min=0.0)] = 2.0,
    high_variance: Annotated[str, typer.Option(help="average | exclude | keep-all")] = "average",
    exclude_formulas: Annotated[
        Path | None, typer.Option(help="A file of compositions to hold out entirely")
    ] = None,
    include_flagged: Annotated[
        bool, typer.Option("--include-flagged", help="Keep rows flagged for exclusion")
    ] = False,
    near_matches: Annotated[
        bool, typer.Option("--near-matches", help="Also label structures matched approximately")
    ] = False,
    labels: Annotated[
        str | None,
        typer.Option(
            help="SuperCon table(s) that label, in order of precedence: nims, stanev or "
            "stanev,nims (the first table with any record of a composition decides) "
            "[default: nims]"
        ),
    ] = None,
) -> None:
    """Freeze a training set from the latest curation run into <db folder>/snapshots/<id>/."""
    from tcdb.curate.parameters import DEFAULT_LABEL_TABLES, SnapshotParameters, label_tables_of
    from tcdb.curate.snapshots import create_snapshot, read_exclude_formulas

    try:
        label_tables = label_tables_of(labels) if labels else DEFAULT_LABEL_TABLES
    except ValueError as exc:
        raise TcdbError(f"--labels {labels}: {exc}") from None
    methods = ("exact_reduced", "literature_file") + (("near_composition",) if near_matches else ())
    try:
        params = SnapshotParameters(
            kind=kind,
            variance_cutoff_K2=variance_cutoff,
            high_variance_policy=high_variance,
            match_methods=methods,
            include_flagged=include_flagged,
            exclude_formulas=read_exclude_formulas(exclude_formulas) if exclude_formulas else (),
            label_tables=label_tables,
        )
    except ValueError as exc:
        raise TcdbError(str(exc)) from None
    with writer(ctx) as conn:
        snapshot = create_snapshot(conn, name, params, settings_of(ctx).snapshots)
    counts = snapshot.manifest["counts"]
    typer.echo(
        f"snapshot {snapshot.id} ({kind}, {name}): {counts['entries']:,} entries, "
        f"{counts['structures']:,} structures, {counts['materials']:,} compositions "
        f"→ {snapshot.path}"
    )
    notes = snapshot.manifest.get("notes", {})
    for table, made in notes.get("label_tables", {}).items():
        links = ", ".join(f"{method} {n:,}" for method, n in made["links"].items())
        typer.echo(
            f"  {table:<16} labels {made['compositions']:>6,} compositions, "
            f"{made['structures']:>6,} structures ({links or 'no links'})"
        )
    if notes.get("years"):
        years = notes["years"]
        typer.echo(
            f"  {years['with_year']:,} of {years['supercon_labels']:,} SuperCon labels have the "
            "year their composition was first reported (the by-time protocol reads it)"
        )
    if notes.get("precedence_conflicts"):
        typer.echo(
            f"  {notes['precedence_conflicts']:,} composition(s) without a label: the first label "
            "table says only 'not superconducting' where a later one has a T_c (see the ledger)"
        )


@app.command("list")
def snapshot_list(ctx: typer.Context) -> None:
    """Every snapshot on disk, oldest first."""
    from tcdb.store.snapshots import list_snapshots

    manifests = list_snapshots(settings_of(ctx).snapshots)
    if not manifests:
        typer.echo("No snapshots yet; 'tcdb snapshot create' makes one.")
    for m in manifests:
        if m.get("damaged"):
            typer.echo(f"{m['id']}  damaged: {m['damaged']}")
            continue
        c = m["counts"]
        typer.echo(
            f"{m['id']}  {m['kind']:<10} {m['name']:<24} {c['entries']:>7,} entries "
            f"{c['structures']:>7,} structures  {m['created_at']}"
        )


@app.command("show")
def snapshot_show(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Id, id prefix, name or latest")]
):
    """A snapshot's manifest (after verifying its files)."""
    import json

    from tcdb.store.snapshots import load_snapshot

    settings = settings_of(ctx)
    snapshot = load_snapshot(settings.snapshots, ref, db=settings.db)
    typer.echo(json.dumps(snapshot.manifest, indent=2, sort_keys=True))


@app.command("verify")
def snapshot_verify(
    ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Id, id prefix, name or latest")]
):
    """Check that a snapshot's files still match its manifest, its id and the manifest hash
    the database recorded (exit 1 when they do not)."""
    from tcdb.store.snapshots import recorded_manifest_sha256, resolve, verify_snapshot

    settings = settings_of(ctx)
    path = resolve(settings.snapshots, ref)
    problems = verify_snapshot(path, recorded_manifest_sha256(settings.db, path.name))
    if problems:
        for problem in problems:
            typer.echo(f"{path.name}: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{path.name}: intact")


@app.command("diff")
def snapshot_diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Id, id prefix, name or latest")],
    b: Annotated[str, typer.Argument(help="Id, id prefix, name or latest")],
) -> None:
    """What differs between two snapshots: parameters, counts, entries."""
    from tcdb.store.snapshots import diff_snapshots, load_snapshot

    root, db = settings_of(ctx).snapshots, settings_of(ctx).db
    diff = diff_snapshots(load_snapshot(root, a, db=db), load_snapshot(root, b, db=db))
    for key, (va, vb) in diff["parameters"].items():
        typer.echo(f"parameter {key}: {va} → {vb}")
    typer.echo(f"counts: {diff['counts'][0]} → {diff['counts'][1]}")
    for label in ("added", "removed", "relabelled"):
        items = diff[label]
        shown = ", ".join(items[:10]) + (" …" if len(items) > 10 else "")
        typer.echo(f"{label}: {len(items)}{'  ' + shown if items else ''}")
