"""``tcdb pipeline``: the main job (``make run``) step by step, ending with a table of each
step's wall time and its headline figure.

Why one command: the steps are the commands a user would type, in the order the README gives
them, but run in this process one after another, so TensorFlow, pymatgen and the rest load once
instead of once per step, and the table says where the time went. Each step's figure is read
back from the database it wrote (the runs, snapshots and predictions it added), not from what
it printed. A step that fails stops the job with its exit status, after the table of the steps
that ran.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from tcdb.cli.context import settings_of

log = logging.getLogger(__name__)

PROFILES = ("quick", "paper", "smoke")


@dataclass(frozen=True)
class DatabaseState:
    """What the headline figures are read from, before and after a step."""

    revision: str = "-"
    ingest_runs: frozenset[str] = frozenset()
    model_runs: frozenset[str] = frozenset()
    predictions: dict[str, int] = field(default_factory=dict)  # by subject kind
    morphs: int = 0


@dataclass(frozen=True)
class Step:
    """One command of the main job and how its headline figure is read."""

    name: str
    args: tuple[str, ...]
    headline: Callable[[Any, DatabaseState, DatabaseState], str]


@dataclass
class StepOutcome:
    name: str
    command: str
    seconds: float
    status: int
    headline: str


def _read_state(conn) -> DatabaseState:
    def ids(table: str) -> frozenset[str]:
        return frozenset(r[0] for r in conn.execute(f"SELECT id FROM {table}").fetchall())

    revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    kinds = conn.execute("SELECT subject_kind, count(*) FROM prediction GROUP BY 1").fetchall()
    return DatabaseState(
        revision=revision[0] if revision else "-",
        ingest_runs=ids("ingest_run"),
        model_runs=ids("model_run"),
        predictions=dict(kinds),
        morphs=conn.execute("SELECT count(*) FROM morph_candidate").fetchone()[0],
    )


def _state(db: Path) -> DatabaseState:
    """The state of a migrated database; an empty one where there is none yet."""
    import duckdb

    if not db.is_file():
        return DatabaseState()
    try:
        with duckdb.connect(str(db), read_only=True) as conn:
            return _read_state(conn)
    except duckdb.Error:  # not migrated yet: nothing to count
        return DatabaseState()


def _upgrade(conn, before: DatabaseState, after: DatabaseState) -> str:
    return f"schema at revision {after.revision}"


def _ingest(conn, before: DatabaseState, after: DatabaseState) -> str:
    new = sorted(after.ingest_runs - before.ingest_runs)
    if not new:
        return "no source ingested"
    marks = ",".join("?" * len(new))
    loaded, rejected, unchanged, sources = conn.execute(
        "SELECT sum(n_loaded), sum(n_rejected), sum(n_unchanged), count(DISTINCT source_id) "
        f"FROM ingest_run WHERE id IN ({marks})",
        new,
    ).fetchone()
    return (
        f"{sources} sources: {loaded or 0:,} records loaded, {rejected or 0:,} rejected, "
        f"{unchanged or 0:,} unchanged"
    )


def _curate(conn, before: DatabaseState, after: DatabaseState) -> str:
    row = conn.execute(
        "SELECT summary_json FROM curation_run WHERE status = 'succeeded' "
        "ORDER BY finished_at DESC LIMIT 1"
    ).fetchone()
    if row is None or not row[0]:
        return "no curation run"
    summary = json.loads(row[0])
    tables = ", ".join(
        f"{name} {table.get('labelled', 0):,} labelled"
        for name, table in summary.get("tables", {}).items()
    )
    return f"{summary.get('n_compositions', 0):,} compositions ({tables})"


def _snapshot(name: str) -> Callable[[Any, DatabaseState, DatabaseState], str]:
    def headline(conn, before: DatabaseState, after: DatabaseState) -> str:
        row = conn.execute(
            "SELECT id, n_entries, n_structures FROM snapshot WHERE name = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [name],
        ).fetchone()
        if row is None:
            return f"no snapshot {name}"
        return f"{name} {row[0]}: {row[1]:,} entries, {row[2]:,} structures"

    return headline


def _rmse(metric: dict) -> str:
    return f"{metric['tc_rmse']:.1f} K"


def _hydride_run(metrics: dict) -> str:
    protocol = "grouped-by-composition"
    scores = {m: metrics.get(f"{m} {protocol}") for m in ("network", "forest", "linear")}
    scores = {m: s for m, s in scores.items() if s}
    if not scores:
        return "no grouped scores"
    n = next(iter(scores.values()))["n"]
    shown = ", ".join(f"{m} {_rmse(s)}" for m, s in scores.items())
    return f"T_c RMSE grouped by formula (n={n:,}): {shown}"


def _composition_run(metrics: dict) -> str:
    cv = metrics.get("cross_validation") or {}
    if not cv:
        return "no cross-validation"
    return (
        f"RMSE {cv['rmse_K']:.2f} K, r² {cv['r2']:.3f} ({cv.get('folds', '?')}-fold "
        f"{cv.get('protocol', '')}, n={cv['n']:,})"
    )


def _structural_run(metrics: dict, model: str = "cvcnn") -> str:
    scored = metrics.get("test") or metrics.get("validation")
    if not scored:
        return "no scores"
    part, protocol = scored.get("part", "?"), scored.get("protocol", "?")
    text = (
        f"{part} ({protocol}, n={scored['n']:,}): {model} RMSE {scored['rmse_K']:.1f} K, "
        f"r² {scored['r2']:.2f}"
    )
    baselines = {
        name: score
        for name, score in (metrics.get("baselines") or {}).items()
        if isinstance(score, dict) and "rmse_K" in score
    }
    if baselines:
        name, best = min(baselines.items(), key=lambda item: item[1]["rmse_K"])
        text += f"; best baseline {name} {best['rmse_K']:.1f} K, r² {best['r2']:.2f}"
    return text


_RUN_HEADLINES = {
    "hydride-mlp": _hydride_run,
    "composition": _composition_run,
    "cvcnn": _structural_run,
    "structure-experts": lambda metrics: _structural_run(metrics, "experts"),
}


def _training(conn, before: DatabaseState, after: DatabaseState) -> str:
    new = sorted(after.model_runs - before.model_runs)
    if not new:
        return "no run recorded"
    run_id, model, metrics = conn.execute(
        "SELECT id, model, metrics_json FROM model_run WHERE id = ?", [new[-1]]
    ).fetchone()
    describe = _RUN_HEADLINES.get(model)
    figure = describe(json.loads(metrics or "{}")) if describe else ""
    return f"{run_id}: {figure}" if figure else run_id


def _predictions(kinds: tuple[str, ...], noun: str) -> Callable:
    def headline(conn, before: DatabaseState, after: DatabaseState) -> str:
        added = sum(after.predictions.get(k, 0) - before.predictions.get(k, 0) for k in kinds)
        stored = sum(after.predictions.get(k, 0) for k in kinds)
        return f"{added:,} {noun} predicted and stored ({stored:,} in the database)"

    return headline


def _morphs(conn, before: DatabaseState, after: DatabaseState) -> str:
    added = after.predictions.get("morph", 0) - before.predictions.get("morph", 0)
    return f"{after.morphs - before.morphs:,} morphs built, {added:,} predicted and stored"


def _report(conn, before: DatabaseState, after: DatabaseState) -> str:
    from tcdb.core.settings import project_root

    site = project_root() / "reports" / "out"
    figures = [p for p in site.rglob("*") if p.suffix in (".svg", ".png")]
    return f"{len(figures)} figure files under {site}"


def main_job(profile: str, sources: Path) -> list[Step]:
    """The commands of ``make run``, in order (the README describes each)."""
    structures, hydrides = "default-structures", "default-hydrides"
    return [
        Step("db upgrade", ("db", "upgrade"), _upgrade),
        Step("ingest", ("ingest", "all", "--report"), _ingest),
        Step("curate", ("curate", "run"), _curate),
        Step(
            "snapshot structures",
            ("snapshot", "create", "--name", structures, "--kind", "structures"),
            _snapshot(structures),
        ),
        Step(
            "snapshot hydrides",
            ("snapshot", "create", "--name", hydrides, "--kind", "hydrides"),
            _snapshot(hydrides),
        ),
        Step(
            "train hydride-mlp",
            ("train", "hydride-mlp", "--snapshot", hydrides, "--profile", profile),
            _training,
        ),
        Step(
            "screen hydrides",
            ("screen", "hydrides", "--run", "latest"),
            _predictions(("hydride", "hydride_forest"), "EH_n rows (network and forest)"),
        ),
        Step(
            "train composition",
            ("train", "composition", "--snapshot", structures, "--profile", profile),
            _training,
        ),
        Step(
            "train cvcnn grouped",
            (
                "train",
                "cvcnn",
                "--snapshot",
                structures,
                "--profile",
                profile,
                "--protocol",
                "grouped",
            ),
            _training,
        ),
        Step(
            "train cvcnn paper",
            ("train", "cvcnn", "--snapshot", structures, "--profile", profile),
            _training,
        ),
        Step(
            "train structure-experts",
            ("train", "structure-experts", "--snapshot", structures, "--profile", profile),
            _training,
        ),
        Step(
            "predict",
            (
                "predict",
                str(sources / "reference" / "structures"),
                str(sources / "literature" / "structures"),
            ),
            _predictions(("input_structure", "composition"), "structures and formulas"),
        ),
        Step("morph", ("morph", "run", "--all", "--profile", profile), _morphs),
        Step("report", ("report",), _report),
    ]


def _run_step(args: list[str]) -> int:
    """One ``tcdb`` command in this process: its exit status (a refusal is printed as the
    command line prints it)."""
    from tcdb.cli import run_command

    return run_command(args)


def _table(outcomes: list[StepOutcome]) -> str:
    width = max(len(o.name) for o in outcomes)
    lines = [f"{'step':<{width}}  {'seconds':>8}  result"]
    for o in outcomes:
        result = o.headline if o.status == 0 else f"failed (exit {o.status})"
        lines.append(f"{o.name:<{width}}  {o.seconds:>8.1f}  {result}")
    total = sum(o.seconds for o in outcomes)
    lines.append(f"{'total':<{width}}  {total:>8.1f}  {total / 60:.1f} min")
    return "\n".join(lines)


def pipeline(
    ctx: typer.Context,
    profile: Annotated[
        str, typer.Option(help="quick (the default of make run) | paper (the papers' settings)")
    ] = "quick",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the commands, one per line, and stop")
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(help="Also write the table as JSON to this file", show_default=False),
    ] = None,
) -> None:
    """Run the main job (make run): migrate, ingest, curate, freeze the two snapshots, train
    and screen the hydride model, train the composition model, the structural network
    (grouped, then as the paper did) and the structure experts, predict the reference
    structures, run every morph family and build the report; then print each step's wall
    time and headline figure."""
    from tcdb.core.errors import TcdbError
    from tcdb.core.output_paths import protected_paths

    if profile not in PROFILES:
        raise TcdbError(f"Unknown profile {profile!r}; choose {', '.join(PROFILES)}.")
    settings = settings_of(ctx)
    steps = main_job(profile, settings.sources)
    if dry_run:
        for step in steps:
            typer.echo(" ".join(["tcdb", *step.args]))
        return
    if record is not None:  # checked before any work: a refusal costs nothing
        record = protected_paths(settings).check_file(record)
    root = ["--db", str(settings.db), "--sources", str(settings.sources),
            "--log-level", settings.log_level]  # fmt: skip
    outcomes = _run(steps, root, settings.db)
    typer.echo("\n" + _table(outcomes))
    if record is not None:
        _record(record, profile, outcomes)
    failed = next((o for o in outcomes if o.status != 0), None)
    if failed is not None:
        raise typer.Exit(failed.status)


def _run(steps: list[Step], root: list[str], db: Path) -> list[StepOutcome]:
    outcomes = []
    before = _state(db)
    for step in steps:
        log.info("step %s: tcdb %s", step.name, " ".join(step.args))
        start = time.perf_counter()
        status = _run_step([*root, *step.args])
        seconds = time.perf_counter() - start
        headline = ""
        if status == 0:
            before, headline = _after(step, before, db)  # the next step starts from it
        outcomes.append(StepOutcome(step.name, " ".join(step.args), seconds, status, headline))
        if status != 0:
            break
    return outcomes


def _after(step: Step, before: DatabaseState, db: Path) -> tuple[DatabaseState, str]:
    """The database's state after a step and the step's headline figure, read in one
    connection."""
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as conn:
            after = _read_state(conn)
            return after, step.headline(conn, before, after)
    except duckdb.Error as exc:  # the figure is a summary: the step itself succeeded
        return _state(db), f"(figure not read: {exc})"


def _record(path: Path, profile: str, outcomes: list[StepOutcome]) -> None:
    from tcdb.core.atomic_files import write_text_atomically

    payload = {
        "profile": profile,
        "total_seconds": sum(o.seconds for o in outcomes),
        "steps": [o.__dict__ for o in outcomes],
    }
    write_text_atomically(path, json.dumps(payload, indent=2) + "\n")
