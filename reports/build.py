"""Write the report: every table as CSV and Markdown, every figure as PNG, and ``index.html``.

A table or figure whose inputs are missing (a model not trained yet, no morph results) gets a
note in ``index.html`` saying what to run; the others are still written. The page lists the
snapshots, model runs and source files everything came from.
"""

from __future__ import annotations

import html
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.timestamps import utcnow
from reports import figures, tables
from reports.inputs import MissingInput, ReportInputs
from schema.database import Target

log = logging.getLogger(__name__)


@dataclass
class ReportOutcome:
    out_dir: Path
    tables: list[tables.Table] = field(default_factory=list)
    figures: list[figures.Figure] = field(default_factory=list)
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


def _write_table(table: tables.Table, out_dir: Path) -> None:
    table.frame.to_csv(out_dir / f"{table.name}.csv", index=False)
    provenance = "".join(f"- {k}: {v}\n" for k, v in table.inputs.items())
    (out_dir / f"{table.name}.md").write_text(
        f"# {table.title}\n\n{table.caption}\n\n{provenance}\n{_markdown(table.frame)}"
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
        _write_table(table, out_dir)
        outcome.tables.append(table)
    for draw in figures.BUILDERS:
        try:
            outcome.figures.append(draw(inputs, out_dir / f"{draw.__name__}.png"))
        except MissingInput as exc:
            outcome.missing[draw.__name__] = str(exc)
    outcome.index.write_text(_index_html(outcome, inputs))
    log.info(
        "report: %d tables, %d figures, %d missing, in %s",
        len(outcome.tables),
        len(outcome.figures),
        len(outcome.missing),
        out_dir,
    )
    return outcome


def _provenance(inputs: ReportInputs) -> str:
    snapshots = inputs.frame(
        "SELECT id, name, kind, n_entries, created_at FROM snapshot ORDER BY created_at"
    )
    runs = inputs.frame(
        "SELECT id, model, snapshot_id, profile, finished_at FROM model_run ORDER BY finished_at"
    )
    sources = inputs.frame(
        "SELECT s.id, s.citation, s.licence, r.file_path, r.file_sha256 FROM source AS s "
        "LEFT JOIN ingest_run AS r ON r.source_id = s.id "
        "QUALIFY row_number() OVER (PARTITION BY s.id ORDER BY r.finished_at DESC) = 1 "
        "ORDER BY s.id"
    )
    return (
        "<h2>Where this came from</h2><h3>Snapshots</h3>"
        + _html_table(snapshots)
        + "<h3>Model runs</h3>"
        + _html_table(runs)
        + "<h3>Sources</h3>"
        + _html_table(sources)
    )


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(
        index=False, na_rep="", float_format=lambda v: f"{v:.2f}", border=0, classes="data"
    )


def _inputs_line(items: dict[str, str]) -> str:
    return "".join(
        f"<br><small>{html.escape(k)}: {html.escape(v)}</small>" for k, v in items.items()
    )


def _index_html(outcome: ReportOutcome, inputs: ReportInputs) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>tcdb report</title><style>"
        "body{font-family:sans-serif;max-width:1200px;margin:auto}"
        "table.data{border-collapse:collapse;font-size:12px}"
        "table.data td,table.data th{padding:2px 6px;border-bottom:1px solid #ddd}"
        ".missing{color:#a33}</style></head><body>",
        f"<h1>tcdb report</h1><p>Written {utcnow():%Y-%m-%d %H:%M} UTC from the database and "
        "the model runs. Each table has a CSV and a Markdown file beside this page; where the "
        "papers give a number, theirs and ours stand side by side with the difference "
        "(ours − theirs).</p>",
    ]
    if outcome.missing:
        parts.append("<h2>Not in this report</h2><ul>")
        parts += [
            f"<li class='missing'>{html.escape(name)}: {html.escape(why)}</li>"
            for name, why in outcome.missing.items()
        ]
        parts.append("</ul>")
    parts.append("<h2>Tables</h2>")
    for table in outcome.tables:
        parts.append(
            f"<h3 id='{table.name}'>{html.escape(table.title)}</h3><p>{html.escape(table.caption)}"
            f"{_inputs_line(table.inputs)}<br><a href='{table.name}.csv'>CSV</a> · "
            f"<a href='{table.name}.md'>Markdown</a></p>{_html_table(table.frame)}"
        )
    parts.append("<h2>Figures</h2>")
    for figure in outcome.figures:
        parts.append(
            f"<h3 id='{figure.name}'>{html.escape(figure.title)}</h3>"
            f"<p>{html.escape(figure.caption)}{_inputs_line(figure.inputs)}</p>"
            f"<img src='{figure.name}.png' style='max-width:100%'>"
        )
    parts.append(_provenance(inputs))
    parts.append("</body></html>")
    return "\n".join(parts)
