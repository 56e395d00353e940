"""Write the report: every table as CSV and Markdown, every figure as PNG, and the site
(``reports.site``: a page per topic, starting at ``index.html``).

A table or figure whose inputs are missing (a model not trained yet, no morph results) gets a
note saying what to run; the others are still written. The runs page lists the snapshots,
model runs and source files everything came from.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tcdb.core.atomic_files import replacing, write_text_atomically
from tcdb.core.csv_exports import write_csv
from tcdb.reports import figures, interactive, site, tables
from tcdb.reports.inputs import MissingInput, ReportInputs
from tcdb.schema.database import Target

log = logging.getLogger(__name__)


@dataclass
class ReportOutcome:
    out_dir: Path
    tables: list[tables.Table] = field(default_factory=list)
    figures: list[figures.Figure] = field(default_factory=list)
    interactive: list[interactive.Interactive] = field(default_factory=list)
    pages: list[Path] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # builder name -> what is missing

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"


def _markdown(frame: pd.DataFrame) -> str:
    """A GitHub Markdown table (no extra dependency); numbers rounded to 2 decimals."""

    def cell(value: object) -> str:
        if value is pd.NA or value is None:  # a whole-number column's empty cell
            return ""
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.2f}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


def write_table(table: tables.Table, out_dir: Path) -> None:
    """The table as CSV (safe to open in a spreadsheet) and Markdown, each replaced whole
    (not synced one by one: the site is rebuilt from the database, see ``site.DURABLE``)."""
    write_csv(table.frame, out_dir / f"{table.name}.csv", durable=site.DURABLE)
    provenance = "".join(f"- {k}: {v}\n" for k, v in table.inputs.items())
    write_text_atomically(
        out_dir / f"{table.name}.md",
        f"# {table.title}\n\n{table.caption}\n\n{provenance}\n{_markdown(table.frame)}",
        durable=site.DURABLE,
    )


def build_report(db: Target, reference_dir: Path, out_dir: Path) -> ReportOutcome:
    """Build every table and figure that its inputs allow; write them and the index page.
    ``db`` is opened read-only for each query only, not while figures are drawn."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = ReportInputs(db, Path(reference_dir))
    outcome = ReportOutcome(out_dir)
    for build in tables.BUILDERS:
        try:
            table = build(inputs)
        except MissingInput as exc:
            outcome.missing[build.__name__] = str(exc)
            continue
        write_table(table, out_dir)
        outcome.tables.append(table)
    for draw in figures.BUILDERS:
        try:
            with replacing(out_dir / f"{draw.__name__}.png", durable=site.DURABLE) as png:
                drawn = draw(inputs, png)
            outcome.figures.append(figures.with_paper(drawn))
        except MissingInput as exc:
            outcome.missing[draw.__name__] = str(exc)
    for plot in interactive.BUILDERS:
        try:
            outcome.interactive.append(plot(inputs))
        except MissingInput as exc:
            outcome.missing[plot.__name__] = str(exc)
    parts = site.SiteParts(
        {t.name: t for t in outcome.tables},
        {f.name: f for f in outcome.figures},
        outcome.interactive,
        outcome.missing,
    )
    outcome.pages = site.write_site(parts, inputs, out_dir)
    log.info(
        "report: %d tables, %d figures, %d interactive figures, %d missing, %d pages in %s",
        len(outcome.tables),
        len(outcome.figures),
        len(outcome.interactive),
        len(outcome.missing),
        len(outcome.pages),
        out_dir,
    )
    return outcome
