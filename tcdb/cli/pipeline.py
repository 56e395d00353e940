"""``tcdb pipeline``: the main job (``make run``) step by step, ending with a table of each
step's wall time and its headline figure.

Why one command: the steps are the commands a user would type, in the order the README gives
them, but run in this process one after another, so TensorFlow, pymatgen and the rest load once
instead of once per step, and the table says where the time went. Steps that read nothing
the other writes run side by side, each in its own process (``Step.beside``): the hydride
members beside the composition trees, and the morph families in two halves; each leaves part
of the two cores idle alone. Each step's figure is read
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
    morphs: dict[str, int] = field(default_factory=dict)  # candidates by family
    morph_predictions: dict[str, int] = field(default_factory=dict)  # by family


@dataclass(frozen=True)
class Step:
    """One command of the main job and how its headline figure is read. ``beside``: it runs
    at the same time as the step before it (neither reads what the other writes)."""

    name: str
    args: tuple[str, ...]
    headline: Callable[[Any, DatabaseState, DatabaseState], str]
    beside: bool = False


@dataclass
class StepOutcome:
    name: str
    command: str
    seconds: float
    status: int
    headline: str
    beside: str = ""  # the steps it ran at the same time as


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
        morphs=dict(
            conn.execute("SELECT family, count(*) FROM morph_candidate GROUP BY 1").fetchall()
        ),
        morph_predictions=dict(
            conn.execute(
                "SELECT m.family, count(*) FROM prediction p JOIN morph_candidate m "
                "ON p.subject_id = m.id WHERE p.subject_kind = 'morph' GROUP BY 1"
            ).fetchall()
        ),
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
        f"r² {scored['r2']:.3f}"
    )
    baselines = {
        name: score
        for name, score in (metrics.get("baselines") or {}).items()
        if isinstance(score, dict) and "rmse_K" in score
    }
    if baselines:
        name, best = min(baselines.items(), key=lambda item: item[1]["rmse_K"])
        text += f"; best baseline {name} {best['rmse_K']:.1f} K, r² {best['r2']:.3f}"
    return text


_RUN_HEADLINES = {
    "hydride-mlp": _hydride_run,
    "composition": _composition_run,
    "cvcnn": _structural_run,
    "structure-experts": lambda metrics: _structural_run(metrics, "experts"),
}


def _training(conn, before: DatabaseState, after: DatabaseState, run: str | None = None) -> str:
    new = sorted(after.model_runs - before.model_runs)
    if not new:
        return "no run recorded"
    run_id, model, metrics = conn.execute(
        "SELECT id, model, metrics_json FROM model_run WHERE id = ?",
        [run if run in new else new[-1]],
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


def _morphs(families: tuple[str, ...]) -> Callable[[Any, DatabaseState, DatabaseState], str]:
    """Morphs built and predictions stored for these families (another morph step may run
    beside, so the counts are by family)."""

    def headline(conn, before: DatabaseState, after: DatabaseState) -> str:
        def added(kind: str) -> int:
            now, then = getattr(after, kind), getattr(before, kind)
            return sum(now.get(f, 0) - then.get(f, 0) for f in families)

        return (
            f"{', '.join(families)}: {added('morphs'):,} morphs built, "
            f"{added('morph_predictions'):,} predicted and stored"
        )

    return headline


# The morph families in two steps of about equal work (quick profile, 2026-12-07, each alone:
# the XYH36 map 74 s and the Li2MgH16 random search 6 s; every other family 75 s, the MgH13
# map 49 s and the (a, c) grids 24 s of it). Each step alone keeps about
# 1.2 of the two cores busy (featurising in one thread while the networks and trees predict),
# so side by side they share them.
MORPH_STEPS = (("xyh36", "li2mgh16-random"), None)  # None: every family not named before


def morph_steps(profile: str, side_by_side: bool) -> list[Step]:
    """``tcdb morph run`` over every family, as ``MORPH_STEPS`` splits them."""
    from tcdb.ml.structural.morphs import FAMILIES

    named = {name for part in MORPH_STEPS if part for name in part}
    parts = [part or tuple(f for f in FAMILIES if f not in named) for part in MORPH_STEPS]
    return [
        Step(
            f"morph {' '.join(part)}" if len(part) <= 2 else "morph the other families",
            ("morph", "run", *part, "--profile", profile),
            _morphs(part),
            beside=side_by_side and k > 0,
        )
        for k, part in enumerate(parts)
    ]


def _report(conn, before: DatabaseState, after: DatabaseState) -> str:
    from tcdb.core.settings import environment_settings

    site = environment_settings().reports
    figures = [p for p in site.rglob("*") if p.suffix in (".svg", ".png")]
    return f"{len(figures)} figure files under {site}"


def main_job(profile: str, sources: Path) -> list[Step]:
    """The commands of ``make run``, in order (the README describes each)."""
    # Side by side only where the trainings outlast starting a process (TensorFlow and the
    # rest load in each): the smoke profile's take seconds. The two networks stay in turn:
    # side by side they shared two cores worse (298 s against 232 s one after the other,
    # measured 2026-12-07) and computed the features twice.
    side_by_side = profile != "smoke"
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
            "train composition",
            ("train", "composition", "--snapshot", structures, "--profile", profile),
            _training,
            beside=side_by_side,
        ),
        Step(
            "screen hydrides",
            ("screen", "hydrides", "--run", "latest"),
            _predictions(("hydride", "hydride_forest"), "EH_n rows (network and forest)"),
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
        *morph_steps(profile, side_by_side),
        Step("report", ("report",), _report),
    ]


def _run_step(args: list[str]) -> int:
    """One ``tcdb`` command in this process: its exit status (a refusal is printed as the
    command line prints it)."""
    from tcdb.cli import run_command

    return run_command(args)


def _table(outcomes: list[StepOutcome], total: float) -> str:
    """Each step's wall time and figure; steps that ran side by side are marked ``∥`` (their
    seconds overlap, so the total is the job's wall time, not their sum)."""
    width = max(len(o.name) for o in outcomes) + 2
    lines = [f"{'step':<{width}}  {'seconds':>8}  result"]
    for o in outcomes:
        result = o.headline if o.status == 0 else f"failed (exit {o.status})"
        name = f"{o.name} ∥" if o.beside else o.name
        lines.append(f"{name:<{width}}  {o.seconds:>8.1f}  {result}")
    lines.append(f"{'total':<{width}}  {total:>8.1f}  {total / 60:.1f} min (wall time; "
                 "∥: ran beside the step next to it)")  # fmt: skip
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
    start = time.perf_counter()
    outcomes = _run(steps, root, settings.db)
    total = time.perf_counter() - start
    typer.echo("\n" + _table(outcomes, total))
    if record is not None:
        _record(record, profile, outcomes, total)
    failed = next((o for o in outcomes if o.status != 0), None)
    if failed is not None:
        raise typer.Exit(failed.status)


def _groups(steps: list[Step]) -> list[list[Step]]:
    """The steps in the order they run: a step ``beside`` the one before runs with it."""
    groups: list[list[Step]] = []
    for step in steps:
        if step.beside and groups:
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def _run(steps: list[Step], root: list[str], db: Path) -> list[StepOutcome]:
    """Each group of steps in turn: one step in this process, several at once in their own
    processes; a failing step stops the job after its group."""
    outcomes = []
    before = _state(db)
    for group in _groups(steps):
        for step in group:
            log.info("step %s: tcdb %s", step.name, " ".join(step.args))
        if len(group) == 1:
            start = time.perf_counter()
            status = _run_step([*root, *group[0].args])
            finished = [(group[0], status, time.perf_counter() - start, None)]
        else:
            finished = _run_beside(group, root, db)
        after = None
        for step, status, seconds, run_id in finished:
            headline = ""
            if status == 0:
                after, headline = _after(step, before, db, run_id)
            others = ", ".join(other.name for other in group if other is not step)
            outcomes.append(StepOutcome(step.name, " ".join(step.args), seconds, status,
                                        headline, others))  # fmt: skip
        if after is not None:
            before = after  # the next group starts from the state after this one
        if any(status != 0 for _, status, _, _ in finished):
            break
    return outcomes


def _run_beside(group: list[Step], root: list[str], db: Path) -> list[tuple]:
    """The group's steps at once, each in its own ``tcdb`` process with its output in a log
    beside the database (printed when it ends, so two trainings do not interleave): (step,
    exit status, seconds, the model run it recorded).

    Why: the composition trees and the hydride members, or two morph runs, each leave part of
    the two cores idle; run side by side they share them. Each computes what it would alone
    (seeded, deterministic operations), so the results are the same; their writes wait for
    each other's (``schema.database.storing``)."""
    import re
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    folder = db.parent / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    running = []
    for step in group:
        path = folder / f"pipeline-{re.sub(r'[^a-z0-9]+', '-', step.name.lower())}.log"
        output = path.open("w")
        command = [sys.executable, "-m", "tcdb.cli", *root, *step.args]
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        running.append((step, path, output, time.perf_counter(), process))
    # each process is waited for in its own thread, so each step's seconds end when it ends
    # (waiting in turn gave a step that ended first the time of the one before it)
    with ThreadPoolExecutor(max_workers=len(running)) as pool:
        ended = [pool.submit(_waited, process, start) for _, _, _, start, process in running]
    finished = []
    for (step, path, output, _, _), waited in zip(running, ended, strict=True):
        status, seconds = waited.result()
        output.close()
        text = path.read_text(errors="replace")
        others = ", ".join(other.name for other in group if other is not step)
        typer.echo(f"--- {step.name} (ran beside {others}; its output, also in {path}) ---")
        typer.echo(text.rstrip())
        found = re.search(r"model run (\S+) on snapshot", text)
        finished.append((step, status, seconds, found.group(1) if found else None))
    return finished


def _waited(process, start: float) -> tuple[int, float]:
    """A process's exit status and its seconds from ``start`` to its end."""
    status = process.wait()
    return status, time.perf_counter() - start


def _after(
    step: Step, before: DatabaseState, db: Path, run_id: str | None = None
) -> tuple[DatabaseState, str]:
    """The database's state after a step and the step's headline figure, read in one
    connection (a training that ran beside another is read by the run it printed)."""
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as conn:
            after = _read_state(conn)
            if run_id is not None and step.headline is _training:
                return after, _training(conn, before, after, run_id)
            return after, step.headline(conn, before, after)
    except duckdb.Error as exc:  # the figure is a summary: the step itself succeeded
        return _state(db), f"(figure not read: {exc})"


def _record(path: Path, profile: str, outcomes: list[StepOutcome], total: float) -> None:
    from tcdb.core.atomic_files import write_text_atomically

    payload = {
        "profile": profile,
        "total_seconds": total,
        "steps": [o.__dict__ for o in outcomes],
    }
    write_text_atomically(path, json.dumps(payload, indent=2) + "\n")
