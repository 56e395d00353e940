"""The ``tcdb`` command: one entry point whose groups mirror the layers of the platform.

Heavy libraries (SQLAlchemy, Alembic, pymatgen, TensorFlow) are imported inside the commands
that need them, so ``tcdb --help`` starts quickly.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli_context import database as _database
from tcdb.cli_context import profile_settings as _profile
from tcdb.cli_context import reader as _reader
from tcdb.cli_context import settings_of
from tcdb.cli_context import writer as _writer
from tcdb.cli_discovery import morph_app, predict
from tcdb.cli_sql import sql
from tcdb.errors import TcdbError
from tcdb.settings import environment_settings

log = logging.getLogger("tcdb")

app = typer.Typer(
    name="tcdb",
    help="Superconductor data and machine learning on an embedded DuckDB database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create, migrate and inspect the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


ingest_app = typer.Typer(
    help="Load the sources (SuperCon, Materials Project, literature) into the database.",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")
curate_app = typer.Typer(
    help="Group measurements, match structures, add and deprecate entries.",
    no_args_is_help=True,
)
app.add_typer(curate_app, name="curate")
snapshot_app = typer.Typer(
    help="Freeze, list, compare and verify the training sets models read.",
    no_args_is_help=True,
)
app.add_typer(snapshot_app, name="snapshot")
train_app = typer.Typer(help="Train a model on a frozen snapshot (never the live database).",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(train_app, name="train")
screen_app = typer.Typer(help="Screen candidates with a trained model; predictions go to the "
                         "database.", no_args_is_help=True)  # fmt: skip
app.add_typer(screen_app, name="screen")
app.command("predict")(predict)
app.add_typer(morph_app, name="morph")
app.command("sql")(sql)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None, typer.Option(help="DuckDB database file (env TCDB_DB).", show_default=False)
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(help="Folder of the raw source files (env TCDB_SOURCES).", show_default=False),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (env TCDB_LOG_LEVEL).")
    ] = None,
) -> None:
    """Command-line flags override the environment (TCDB_DB, TCDB_SOURCES, MP_API_KEY)."""
    overrides = {
        k: v for k, v in {"db": db, "sources": sources, "log_level": log_level}.items() if v
    }
    settings = environment_settings().model_copy(update=overrides)
    ctx.obj = settings
    from tcdb.logs import configure

    configure(settings.log_level)


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Show the settings in effect (the API key only as set / not set)."""
    for name, value in settings_of(ctx).describe().items():
        typer.echo(f"{name:<11} {value}")


YesOption = Annotated[
    bool,
    typer.Option(
        "--yes", help="Allow a migration that deletes rows or column values (they are listed)."
    ),
]


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    yes: YesOption = False,
) -> None:
    """Create the database if needed and apply pending migrations (tried on a copy first,
    refused if they would delete data unless --yes; the file is backed up first)."""
    from schema import migrate

    path = settings_of(ctx).db
    before = migrate.status(path)
    if before.exists and not before.pending and revision == "head":
        typer.echo(f"{path} is at revision {before.current} (head); nothing to do.")
        return
    migrate.upgrade(path, revision, allow_loss=yes)
    after = migrate.status(path)
    typer.echo(f"{path} upgraded from {before.current or 'base (empty)'} to {after.current}.")


@db_app.command("downgrade", context_settings={"ignore_unknown_options": True})
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base.")],
    yes: YesOption = False,
) -> None:
    """Revert migrations down to REVISION (tried on a copy first, refused if they would delete
    data unless --yes; the file is backed up first)."""
    from schema import migrate

    path = settings_of(ctx).db
    before = migrate.status(path)
    migrate.downgrade(path, revision, allow_loss=yes)
    after = migrate.status(path)
    typer.echo(f"{path} downgraded from {before.current} to {after.current or 'base'}.")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Current revision, pending migrations, the row count of every table and the backups."""
    from schema import migrate

    status = migrate.status(settings_of(ctx).db)
    typer.echo(f"database  {status.path}{'' if status.exists else ' (does not exist yet)'}")
    typer.echo(f"revision  {status.current or 'none'} (head {status.head})")
    if status.pending:
        typer.echo(f"pending   {len(status.pending)} migration(s):")
        for rev in status.pending:
            typer.echo(f"  {rev.revision}  {rev.message}")
    else:
        typer.echo("pending   none")
    if status.row_counts:
        typer.echo("tables")
        width = max(len(name) for name in status.row_counts)
        for name, count in status.row_counts.items():
            typer.echo(f"  {name:<{width}}  {count:>9,}")
    if status.views:
        typer.echo(f"views     {', '.join(status.views)}")
    if status.backups:
        typer.echo(f"backups   {len(status.backups)}, oldest first:")
        for backup in status.backups:
            typer.echo(f"  {backup}")
    else:
        typer.echo("backups   none")


@db_app.command("check")
def db_check(ctx: typer.Context) -> None:
    """Check that the schema matches the models and that keys and references hold."""
    from schema import integrity, migrate
    from schema.database import connect

    path = settings_of(ctx).db
    problems = [f"schema drift: {diff}" for diff in migrate.drift(path)]
    conn = connect(path, read_only=True)
    try:
        problems += [str(v) for v in integrity.find_violations(conn)]
    finally:
        conn.close()
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: schema matches the models; keys unique and references resolve.")


def _ingest(
    ctx: typer.Context, group: str, force: bool, report: bool, accept_retirements: bool = False
) -> None:
    from ingest.pipeline import ingest
    from ingest.report import format_reports, latest_reports
    from ingest.runs import SourcesRefusedError
    from schema.database import connect
    from schema.migrate import require_head

    settings = settings_of(ctx)
    require_head(settings.db)
    key = settings.mp_api_key.get_secret_value() if settings.mp_api_key else None
    conn = connect(settings.db)
    try:
        outcomes = ingest(
            conn,
            group,
            settings.sources,
            force=force,
            mp_api_key=key,
            curated_root=settings.curated,
            accept_retirements=accept_retirements,
        )
        for outcome in outcomes:
            typer.echo(f"{outcome.source_id:<22} {outcome.message}")
        if report:
            typer.echo("")
            typer.echo(format_reports(latest_reports(conn)))
    finally:
        conn.close()
    refused = [o.source_id for o in outcomes if o.status == "refused"]
    if refused:
        one = len(refused) == 1
        raise SourcesRefusedError(
            f"Refused {', '.join(refused)}: nothing of {'it' if one else 'them'} was written and "
            f"the other sources were ingested; the {'reason is' if one else 'reasons are'} "
            "printed above."
        )


ForceOption = Annotated[
    bool, typer.Option("--force", help="Ingest again even if the file is unchanged.")
]
ReportOption = Annotated[
    bool,
    typer.Option("--report", help="Print counts per source and rejection reasons afterwards."),
]
AcceptRetirementsOption = Annotated[
    bool,
    typer.Option(
        "--accept-retirements",
        help="Load a file even if it retires more than 20% of its source's active records "
        "(max_retired_share; a truncated or header-only file is refused without this).",
    ),
]


INGEST_GROUPS = {
    "supercon": "The NIMS SuperCon export and Stanev et al.'s cleaned table.",
    "materials-project": "Materials Project structures: live through mp-api when MP_API_KEY is "
    "set and the network answers, otherwise the offline mirror.",
    "literature": "Literature hydrides and the CIFs of literature/structures.",
    "all": "Every source, in an order that lets links resolve; a refused file does not stop the "
    "others (exit code 4 when one was refused).",
}


def _ingest_command(group: str, help_text: str) -> None:
    """Register ``tcdb ingest GROUP``: every group takes the same options."""

    def command(
        ctx: typer.Context,
        force: ForceOption = False,
        report: ReportOption = False,
        accept_retirements: AcceptRetirementsOption = False,
    ) -> None:
        _ingest(ctx, group, force, report, accept_retirements)

    command.__name__ = f"ingest_{group.replace('-', '_')}"
    ingest_app.command(group, help=help_text)(command)


for _group, _help in INGEST_GROUPS.items():
    _ingest_command(_group, _help)


@curate_app.command("run")
def curate_run(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Curate again even if nothing changed.")
    ] = False,
) -> None:
    """Apply every curation step: replay deprecations, group measurements by composition
    (mean and population variance), flag high-variance groups, match structures. Skipped
    when nothing changed since the latest pass."""
    from curate.entries import replay_deprecations
    from curate.run import run_curation

    conn = _writer(ctx)
    try:
        replayed = replay_deprecations(conn, settings_of(ctx).curated)
        if replayed:
            typer.echo(f"replayed {replayed} deprecation(s) from the curated folder")
        outcome = run_curation(conn, force=force)
        if isinstance(outcome, str):
            typer.echo(f"nothing changed since curation run {outcome}; nothing to do.")
        else:
            typer.echo(outcome.summary())
    finally:
        conn.close()


@curate_app.command("groups")
def curate_groups(
    ctx: typer.Context,
    min_variance: Annotated[
        float, typer.Option(help="List groups with a population variance (K²) at least this.")
    ] = 2.0,
    limit: Annotated[int, typer.Option(help="At most this many, most variable first.", min=0)] = 50,
    formula: Annotated[str | None, typer.Option(help="Only the group of this composition.")] = None,
) -> None:
    """Composition groups of the latest curation run, with their T_c values."""
    from curate.report import format_groups, groups_table

    conn = _reader(ctx)
    try:
        typer.echo(format_groups(groups_table(conn, min_variance, limit, formula)))
    finally:
        conn.close()


@curate_app.command("match")
def curate_match(
    ctx: typer.Context,
    report: Annotated[bool, typer.Option("--report", help="Counts by method.")] = True,
    unmatched: Annotated[
        int,
        typer.Option(help="Also list this many SuperCon compositions with no structure.", min=0),
    ] = 0,
) -> None:
    """How many compositions and structures matched, by method (latest curation run)."""
    from curate.report import format_matches, match_counts, unmatched_compositions

    conn = _reader(ctx)
    try:
        if report:
            typer.echo(format_matches(match_counts(conn)))
        if unmatched:
            for formula, n in unmatched_compositions(conn, unmatched):
                typer.echo(f"  unmatched  {formula:<30} {n} measurement(s)")
    finally:
        conn.close()


@curate_app.command("add-entry")
def curate_add_entry(
    ctx: typer.Context,
    formula: Annotated[str | None, typer.Option(help="e.g. LaH10")] = None,
    tc: Annotated[
        str | None, typer.Option("--tc", help="T_c, e.g. '250', '250 K', or a range '230-250 K'")
    ] = None,
    pressure: Annotated[
        str | None,
        typer.Option(help="Pressure, e.g. '170', '170 GPa', '1.7 Mbar', or a range '160-190'"),
    ] = None,
    mu_star: Annotated[str | None, typer.Option(help="μ*, or two values '0.10;0.13'")] = None,
    space_group: Annotated[str | None, typer.Option(help="e.g. Fm-3m")] = None,
    method: Annotated[
        str | None,
        typer.Option(help="experiment | dft_harmonic | dft_anharmonic | ml_prediction | unknown"),
    ] = None,
    reference: Annotated[str | None, typer.Option(help="Authors, journal, year")] = None,
    doi: Annotated[str | None, typer.Option(help="10.NNNN/...")] = None,
    flags: Annotated[str | None, typer.Option(help="';'-separated caveats")] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    cif: Annotated[Path | None, typer.Option(help="A CIF of the structure")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="A CSV with the literature columns: add every row."),
    ] = None,
) -> None:
    """Add hydride data points by hand. They go to the database and to
    <TCDB_CURATED>/literature_entries.csv (both or neither), which 'tcdb ingest' replays. A
    point with the composition, pressure and T_c of an existing one from the same paper (or
    one without a DOI) is refused as a duplicate (docs/curation.md)."""
    from curate.entries import EntryError, add_entries, read_entries_file

    settings = settings_of(ctx)
    if from_file is not None:
        rows, cifs = read_entries_file(from_file), None
    else:
        if not formula:
            raise EntryError("give --formula (and --tc, --pressure, --method, --reference)")
        rows = [
            {
                "formula": formula,
                "tc_K": tc if tc and "-" not in tc else "",
                "tc_low_K": tc.split("-")[0] if tc and "-" in tc else "",
                "tc_high_K": tc.split("-")[1] if tc and "-" in tc else "",
                "pressure_GPa": pressure or "",
                "mu_star": mu_star or "",
                "space_group": space_group or "",
                "method": method or "",
                "reference": reference or "",
                "doi": doi or "",
                "flags": flags or "",
                "notes": notes or "",
                "read_in": "tcdb curate add-entry",
            }
        ]
        cifs = [cif]
    conn = _writer(ctx)
    try:
        added = add_entries(conn, settings.curated, settings.sources, rows, cifs)
    finally:
        conn.close()
    for entry in added:
        typer.echo(
            f"added {entry.id}  {entry.formula}  (literature_entries.csv line {entry.line_number})"
        )


@curate_app.command("deprecate")
def curate_deprecate(
    ctx: typer.Context,
    subject_id: Annotated[
        str, typer.Argument(help="A literature entry, measurement or structure id")
    ],
    reason: Annotated[str, typer.Option(help="Why it must not be used")],
) -> None:
    """Mark an entry, measurement or structure unusable, with the reason (kept in the ledger and
    in <TCDB_CURATED>/deprecations.csv)."""
    from curate.entries import deprecate

    conn = _writer(ctx)
    try:
        table = deprecate(conn, settings_of(ctx).curated, subject_id, reason)
    finally:
        conn.close()
    typer.echo(f"deprecated {table} {subject_id}: {reason}")


@snapshot_app.command("create")
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
) -> None:
    """Freeze a training set from the latest curation run into <db folder>/snapshots/<id>/."""
    from curate.snapshots import create_snapshot, read_exclude_formulas
    from tcdb.parameters import SnapshotParameters

    methods = ("exact_reduced", "literature_file") + (("near_composition",) if near_matches else ())
    try:
        params = SnapshotParameters(
            kind=kind,
            variance_cutoff_K2=variance_cutoff,
            high_variance_policy=high_variance,
            match_methods=methods,
            include_flagged=include_flagged,
            exclude_formulas=read_exclude_formulas(exclude_formulas) if exclude_formulas else (),
        )
    except ValueError as exc:
        raise TcdbError(str(exc)) from None
    conn = _writer(ctx)
    try:
        snapshot = create_snapshot(conn, name, params, settings_of(ctx).snapshots)
    finally:
        conn.close()
    counts = snapshot.manifest["counts"]
    typer.echo(
        f"snapshot {snapshot.id} ({kind}, {name}): {counts['entries']:,} entries, "
        f"{counts['structures']:,} structures, {counts['materials']:,} compositions "
        f"→ {snapshot.path}"
    )


@snapshot_app.command("list")
def snapshot_list(ctx: typer.Context) -> None:
    """Every snapshot on disk, oldest first."""
    from curate.snapshots import list_snapshots

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


@snapshot_app.command("show")
def snapshot_show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Id or name")]):
    """A snapshot's manifest (after verifying its files)."""
    import json

    from curate.snapshots import load_snapshot

    settings = settings_of(ctx)
    snapshot = load_snapshot(settings.snapshots, ref, db=settings.db)
    typer.echo(json.dumps(snapshot.manifest, indent=2, sort_keys=True))


@snapshot_app.command("verify")
def snapshot_verify(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="Id or name")]):
    """Check that a snapshot's files still match its manifest, its id and the manifest hash
    the database recorded (exit 1 when they do not)."""
    from curate.snapshots import recorded_manifest_sha256, resolve, verify_snapshot

    settings = settings_of(ctx)
    path = resolve(settings.snapshots, ref)
    problems = verify_snapshot(path, recorded_manifest_sha256(settings.db, path.name))
    if problems:
        for problem in problems:
            typer.echo(f"{path.name}: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{path.name}: intact")


@snapshot_app.command("diff")
def snapshot_diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Id or name")],
    b: Annotated[str, typer.Argument(help="Id or name")],
) -> None:
    """What differs between two snapshots: parameters, counts, entries."""
    from curate.snapshots import diff_snapshots, load_snapshot

    root, db = settings_of(ctx).snapshots, settings_of(ctx).db
    diff = diff_snapshots(load_snapshot(root, a, db=db), load_snapshot(root, b, db=db))
    for key, (va, vb) in diff["parameters"].items():
        typer.echo(f"parameter {key}: {va} → {vb}")
    typer.echo(f"counts: {diff['counts'][0]} → {diff['counts'][1]}")
    for label in ("added", "removed", "relabelled"):
        items = diff[label]
        shown = ", ".join(items[:10]) + (" …" if len(items) > 10 else "")
        typer.echo(f"{label}: {len(items)}{'  ' + shown if items else ''}")


@train_app.command("hydride-mlp")
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
    from curate.snapshots import load_snapshot
    from ml.hydride_ensemble import HydrideMLPConfig
    from ml.hydride_training import train
    from tcdb.parameters import HYDRIDE_PROFILES

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


@train_app.command("composition")
def train_composition(
    ctx: typer.Context,
    snapshot: Annotated[str, typer.Option(help="A structures snapshot: id, id prefix or name")],
    seed: Annotated[int, typer.Option(help="Seed of the folds and the trees")] = 0,
    profile: Annotated[str, typer.Option(help="paper | quick | smoke (a tiny test run)")] = "quick",
) -> None:
    """The composition-only baseline ("T_c chem"): gradient-boosted trees on the 81
    composition descriptors (Hamidieh 2018), 10-fold cross-validation grouped by composition."""
    from curate.snapshots import load_snapshot
    from ml.composition_model import CompositionModelConfig, train
    from tcdb.parameters import COMPOSITION_PROFILES

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


@train_app.command("cvcnn")
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
    from curate.snapshots import load_snapshot
    from ml.cvcnn import CVCNNConfig
    from ml.cvcnn_training import train
    from tcdb.parameters import CVCNN_PROFILES

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


@screen_app.command("hydrides")
def screen_hydrides(
    ctx: typer.Context,
    run: Annotated[str, typer.Option(help="A hydride-mlp run id, or 'latest'")] = "latest",
    top: Annotated[
        int, typer.Option(help="Show this many elements closest to ambient", min=0)
    ] = 10,
) -> None:
    """Predict every EH_n (each element with descriptors, n = 1 … 31) with all members; the
    views hydride_best_per_element and hydride_closest_decile summarise them."""
    from ml.hydride_training import MODEL, screen
    from ml.runs import resolve_run

    db = _database(ctx, write=True)
    with db.reading() as conn:
        verified = resolve_run(settings_of(ctx).runs, conn, run, MODEL)
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


@app.command("report")
def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default reports/out in this repository)"),
    ] = None,
) -> None:
    """Rebuild the papers' tables and figures from the database and model runs, beside the
    papers' numbers: CSV, Markdown and PNG files and an index.html."""
    from reports.build import build_report
    from tcdb.settings import project_root

    settings = settings_of(ctx)
    folder = out or project_root() / "reports" / "out"
    outcome = build_report(_database(ctx), settings.sources / "reference", folder)
    typer.echo(f"{len(outcome.tables)} tables and {len(outcome.figures)} figures in {folder}")
    for name, why in outcome.missing.items():
        typer.echo(f"not in the report: {name}: {why}")
    typer.echo(f"open {outcome.index}")


def main() -> None:
    """Entry point: user errors become one sentence on stderr, never a traceback."""
    try:
        app()  # handles usage errors, --help and exit codes itself
    except TcdbError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
