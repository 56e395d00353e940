"""``tcdb curate``: group measurements, match structures, add and deprecate entries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tcdb.cli.context import reader, settings_of, writer

app = typer.Typer(
    help="Group measurements, match structures, add and deprecate entries.",
    no_args_is_help=True,
)


@app.command("run")
def curate_run(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Curate again even if nothing changed.")
    ] = False,
) -> None:
    """Apply every curation step: replay deprecations, group measurements by composition in
    each SuperCon table apart (mean and population variance), flag high-variance groups, match
    structures to the compositions of every table. Skipped when nothing changed since the
    latest pass."""
    from tcdb.curate.run import run_curation
    from tcdb.ingest.hand_entries import replay_deprecations

    with writer(ctx) as conn:
        replayed = replay_deprecations(conn, settings_of(ctx).curated)
        if replayed:
            typer.echo(f"replayed {replayed} deprecation(s) from the curated folder")
        outcome = run_curation(conn, force=force)
        if isinstance(outcome, str):
            typer.echo(f"nothing changed since curation run {outcome}; nothing to do.")
        else:
            typer.echo(outcome.summary())


@app.command("groups")
def curate_groups(
    ctx: typer.Context,
    min_variance: Annotated[
        float, typer.Option(help="List groups with a population variance (K²) at least this.")
    ] = 2.0,
    limit: Annotated[int, typer.Option(help="At most this many, most variable first.", min=0)] = 50,
    formula: Annotated[str | None, typer.Option(help="Only the group of this composition.")] = None,
) -> None:
    """Composition groups of the latest curation run, with their T_c values."""
    from tcdb.reports.curation import format_groups, groups_table

    with reader(ctx) as conn:
        typer.echo(format_groups(groups_table(conn, min_variance, limit, formula)))


@app.command("match")
def curate_match(
    ctx: typer.Context,
    report: Annotated[bool, typer.Option("--report", help="Counts by method.")] = True,
    unmatched: Annotated[
        int,
        typer.Option(help="Also list this many SuperCon compositions with no structure.", min=0),
    ] = 0,
) -> None:
    """How many compositions and structures matched, by method (latest curation run)."""
    from tcdb.reports.curation import format_matches, match_counts, unmatched_compositions

    with reader(ctx) as conn:
        if report:
            typer.echo(format_matches(match_counts(conn)))
        if unmatched:
            for formula, n in unmatched_compositions(conn, unmatched):
                typer.echo(f"  unmatched  {formula:<30} {n} measurement(s)")


@app.command("add-entry")
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
    space_group: Annotated[
        str | None,
        typer.Option(
            help="A Hermann-Mauguin symbol (Fm-3m, P6_3/mmc) or a number 1-230, a note in "
            "parentheses after it if needed; leave it out when unknown"
        ),
    ] = None,
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
    one without a DOI) is refused as a duplicate unless it names another space group
    (docs/curation.md)."""
    from tcdb.ingest.hand_entries import EntryError, add_entries, read_entries_file

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
    with writer(ctx) as conn:
        added = add_entries(conn, settings.curated, settings.sources, rows, cifs)
    for entry in added:
        typer.echo(
            f"added {entry.id}  {entry.formula}  (literature_entries.csv line {entry.line_number})"
        )


@app.command("deprecate")
def curate_deprecate(
    ctx: typer.Context,
    subject_id: Annotated[
        str, typer.Argument(help="A literature entry, measurement or structure id")
    ],
    reason: Annotated[str, typer.Option(help="Why it must not be used")],
) -> None:
    """Mark an entry, measurement or structure unusable, with the reason (kept in the ledger and
    in <TCDB_CURATED>/deprecations.csv)."""
    from tcdb.ingest.hand_entries import deprecate

    with writer(ctx) as conn:
        table = deprecate(conn, settings_of(ctx).curated, subject_id, reason)
    typer.echo(f"deprecated {table} {subject_id}: {reason}")
