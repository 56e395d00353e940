"""``tcdb ingest``: load the sources into the database, one group or all.

One command per group of ``ingest/registry.py`` (``all`` included), with its help text."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import settings_of
from tcdb.ingest.registry import REGISTRY

app = typer.Typer(
    help="Load the sources (SuperCon, Materials Project, literature) into the database.",
    no_args_is_help=True,
)


def _ingest(
    ctx: typer.Context, group: str, force: bool, report: bool, accept_retirements: bool = False
) -> None:
    from tcdb.ingest.pipeline import ingest
    from tcdb.ingest.report import format_reports, latest_reports
    from tcdb.ingest.runs import SourcesRefusedError
    from tcdb.schema.database import Database, connect
    from tcdb.schema.migrate import require_head

    settings = settings_of(ctx)
    require_head(settings.db)
    key = settings.mp_api_key.get_secret_value() if settings.mp_api_key else None
    # A Database, not a connection: the file is held only for each source's check and load,
    # never while a source is read or parsed.
    outcomes = ingest(
        Database(settings.db),
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
        with connect(settings.db, read_only=True) as conn:
            typer.echo(format_reports(latest_reports(conn)))
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
        help="Load a file even if it retires more than 20% of its source's active records, "
        "or leaves fewer than 80% of the most it has had active since retirements were last "
        "accepted (max_retired_share; a truncated or header-only file is refused without "
        "this). Accepting resets that high-water mark.",
    ),
]


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
    app.command(group, help=help_text)(command)


for _group, _help in REGISTRY.help_texts().items():
    _ingest_command(_group, _help)
