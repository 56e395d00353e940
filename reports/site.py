"""The report as a small site: one page per topic, a navigation bar, tables that sort and
filter, interactive figures beside the PNGs, and links from each morph or prediction to its
structure (a CIF in ``structures/``) and to its run and snapshot (``runs.html``).

Why plain files: the site is opened from ``file://`` or served by ``tcdb report --serve``, on
machines without a network, so everything it needs (its script, its style, ``plotly.min.js``)
is written beside the pages, and every link is relative.
"""

from __future__ import annotations

import html
import math
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from tcdb.core.atomic_files import replacing, write_bytes_atomically, write_text_atomically
from tcdb.core.timestamps import utcnow
from tcdb.reports import structure_files
from tcdb.reports.inputs import ReportInputs

ASSETS = ("site.js", "site.css")
PLOTLY_JS = "plotly.min.js"
# Every file of the site replaces the old one whole (a link planted in the folder is replaced,
# never written through) but is not synced to disk one by one: the site is rebuilt from the
# database, and an fsync per file cost about 10 ms each, seconds per report.
DURABLE = False


@dataclass(frozen=True)
class Page:
    file: str
    title: str
    intro: str
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()  # static figures; interactive ones follow their companion


PAGES = (
    Page("index.html", "Overview",
         "The papers' headline numbers beside ours; the pages above hold every table and "
         "figure, each with the snapshot, model runs and source files it came from.",
         ("headline_results",)),
    Page("data.html", "Data and curation",
         "What was read from each source, what was rejected and why, how compositions were "
         "matched to structures, and the composition groups the papers average.",
         ("data_sources", "data_rejections", "data_matches", "novakovic_table1",
          "most_variable_groups", "hutcheon_table1")),
    Page("hydride.html", "Hydride model",
         "The (T_c, P) network of Hutcheon et al. on the literature hydrides, its baselines, "
         "and the screening of every EH_n.",
         ("hydride_errors", "hutcheon_decile_share"),
         ("hutcheon_fig3", "hutcheon_training", "hutcheon_fig4", "hutcheon_fig5")),
    Page("structural.html", "Structural model",
         "The structural (cvcnn) model of Novakovic et al.: its protocols and baselines, and "
         "every structure it predicted, each linked to its CIF and its run.",
         ("structural_protocols", "novakovic_table2", "structure_predictions"),
         ("novakovic_fig3",)),
    Page("composition.html", "Composition model",
         "The composition baseline (Hamidieh's comparison) under each protocol, and how the "
         "by-time run does per family.",
         ("composition_protocols", "family_by_time")),
    Page("morphs.html", "Morphs",
         "Morphs of the reference hydrides: the paper's standouts, our best per family, the "
         "X × Y maps and the lattice scans; each morph links to the CIF at its peak.",
         ("novakovic_table3", "top_morphs", "novakovic_domes", "morph_scan_shapes"),
         ("novakovic_fig4", "novakovic_fig5", "novakovic_fig6")),
    Page("runs.html", "Runs and snapshots",
         "Every snapshot and model run the report cites (each an anchor the other pages link "
         "to), every metric with its protocol, and the source files with their hashes.",
         ("data_snapshots", "model_evaluations")),
)  # fmt: skip


def page_of(name: str) -> str:
    """The page a table or static figure is shown on."""
    for page in PAGES:
        if name in page.tables or name in page.figures:
            return page.file
    return "index.html"


# ------------------------------------------------------------------------- cells and links


def run_anchor(run_id: str) -> str:
    return f"runs.html#run-{run_id}"


def snapshot_anchor(snapshot_id: str) -> str:
    return f"runs.html#snapshot-{snapshot_id}"


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"


def _cell(value: object, links: dict[str, str]) -> str:
    """A cell's HTML: numbers to 2 decimals, run and snapshot ids (alone or in a list) as links."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        return _number(value)
    text = str(value)
    parts = text.split(", ")
    if text and all(p in links for p in parts):
        return ", ".join(f"<a href='{links[p]}'>{html.escape(p)}</a>" for p in parts)
    return html.escape(text)


def table_html(
    frame: pd.DataFrame,
    links: dict[str, str],
    row_ids: list[str] | None = None,
    files: dict[str, list[str]] | None = None,
) -> str:
    """A sortable, filterable table (``table.data``, enhanced by site.js). ``row_ids`` gives
    each row an anchor; ``files`` adds columns of links to files in the site (empty: none)."""
    files = files or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [*frame.columns, *files])
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        anchor = f" id='{html.escape(row_ids[i])}'" if row_ids else ""
        cells = "".join(f"<td>{_cell(v, links)}</td>" for v in row)
        for paths in files.values():
            path = paths[i]
            cells += (f"<td><a href='{html.escape(path)}' download>CIF</a></td>" if path
                      else "<td></td>")  # fmt: skip
        rows.append(f"<tr{anchor}>{cells}</tr>")
    return (
        "<div class='table-wrap'><table class='data'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _inputs_line(items: dict[str, str], links: dict[str, str]) -> str:
    return "".join(
        f"<br><small>{html.escape(k)}: {_cell(v, links)}</small>" for k, v in items.items()
    )


# ------------------------------------------------------------------------- the site


@dataclass
class SiteParts:
    """What the pages show: the built tables, figures and interactive figures by name, and
    what could not be built."""

    tables: dict
    figures: dict
    interactive: list
    missing: dict[str, str]


def write_site(parts: SiteParts, inputs: ReportInputs, out_dir: Path) -> list[Path]:
    """Write every page, the script, the style and (if a page has a plot) plotly.min.js,
    each replaced whole: a link planted in the folder is replaced, never written through."""
    for asset in ASSETS:
        data = resources.files("tcdb.reports.assets").joinpath(asset).read_bytes()
        write_bytes_atomically(out_dir / asset, data, durable=DURABLE)
    if parts.interactive:
        _copy_plotly(out_dir)
    links = _id_links(inputs)
    written = []
    for page in PAGES:
        body = _page_body(page, parts, inputs, out_dir, links)
        path = out_dir / page.file
        write_text_atomically(path, _page(page, body), durable=DURABLE)
        written.append(path)
    return written


def _copy_plotly(out_dir: Path) -> None:
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    with replacing(out_dir / PLOTLY_JS, durable=DURABLE) as target:
        shutil.copyfile(source, target)


def _id_links(inputs: ReportInputs) -> dict[str, str]:
    runs = inputs.frame("SELECT id FROM model_run")
    snapshots = inputs.frame("SELECT id FROM snapshot")
    return {**{i: snapshot_anchor(i) for i in snapshots.id}, **{i: run_anchor(i) for i in runs.id}}


def _plots_on(page: Page, parts: SiteParts) -> list:
    return [p for p in parts.interactive if p.companion in page.figures]


def _nav(current: Page) -> str:
    items = "".join(
        f"<a href='{p.file}'{' class=current' if p is current else ''}>{html.escape(p.title)}</a>"
        for p in PAGES
    )
    return f"<nav class='site'>{items}</nav>"


def _page(page: Page, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(page.title)} · tcdb report</title>"
        "<link rel='icon' href='data:,'><link rel='stylesheet' href='site.css'>"
        "<script src='site.js' defer></script></head><body>"
        f"{_nav(page)}<h1>{html.escape(page.title)}</h1><p>{html.escape(page.intro)}</p>"
        f"{body}</body></html>\n"
    )


def _missing_note(name: str, why: str) -> str:
    return (
        f"<p class='missing' id='{html.escape(name)}'>Not in this report: {html.escape(name)}: "
        f"{html.escape(why)}</p>"
    )


def _page_body(
    page: Page, parts: SiteParts, inputs: ReportInputs, out_dir: Path, links: dict[str, str]
) -> str:
    out = []
    if page.file == "index.html":
        out.append(_overview(parts))
    for name in page.tables:
        if name in parts.tables:
            out.append(_table_section(parts.tables[name], parts, inputs, out_dir, links))
        elif name in parts.missing:
            out.append(_missing_note(name, parts.missing[name]))
    for name in page.figures:
        for plot in _plots_on(page, parts):
            if plot.companion == name:
                out.append(_interactive_section(plot, links))
        if name in parts.figures:
            out.append(_figure_section(parts.figures[name], links))
        elif name in parts.missing:
            out.append(_missing_note(name, parts.missing[name]))
    if page.file == "runs.html":
        out.append(_provenance(inputs, links))
    return "\n".join(out)


def _overview(parts: SiteParts) -> str:
    pages = "".join(
        f"<li><a href='{p.file}'>{html.escape(p.title)}</a>: {html.escape(p.intro)}</li>"
        for p in PAGES[1:]
    )
    text = [
        f"<p>Written {utcnow():%Y-%m-%d %H:%M} UTC from the database and the model runs. "
        "Every table has a CSV and a Markdown file beside these pages; where the papers give "
        "a number, theirs and ours stand side by side with the difference (ours − theirs). "
        "Click a column's header to sort a table; type in its box to filter the rows.</p>",
        f"<ul>{pages}</ul>",
    ]
    if parts.missing:
        items = "".join(
            f"<li class='missing'><a href='{page_of(n)}#{html.escape(n)}'>{html.escape(n)}</a>: "
            f"{html.escape(why)}</li>"
            for n, why in parts.missing.items()
        )
        text.append(f"<h2>Not in this report</h2><ul>{items}</ul>")
    return "\n".join(text)


def _structure_files(table, parts: SiteParts, inputs: ReportInputs, out_dir: Path) -> dict:
    """The CIF column of the tables whose rows are structures."""
    frame = table.frame
    if table.name == "top_morphs":
        rows = pd.DataFrame({"family": frame.family, "tc_K": frame.tc_peak_K})
        return {"structure": structure_files.morph_cifs(inputs, rows, out_dir)}
    if table.name == "novakovic_table3":
        rows = pd.DataFrame({"family": frame.our_family, "tc_K": frame.our_high_K})
        return {"structure": structure_files.morph_cifs(inputs, rows, out_dir)}
    if table.name == "structure_predictions":
        return {"structure": structure_files.input_cifs(inputs, frame, out_dir)}
    if table.name == "novakovic_table2" and "structure_predictions" in parts.tables:
        predicted = parts.tables["structure_predictions"].frame.drop_duplicates("name")
        held = frame[["our_structure_file"]].merge(
            predicted, left_on="our_structure_file", right_on="name", how="left"
        )
        return {"structure": structure_files.input_cifs(inputs, held, out_dir)}
    return {}


def _table_section(table, parts, inputs, out_dir, links) -> str:
    files = _structure_files(table, parts, inputs, out_dir)
    row_ids = None
    if table.name == "data_snapshots":
        row_ids = [f"snapshot-{i}" for i in table.frame.id]
    return (
        f"<section id='{table.name}'><h2>{html.escape(table.title)}</h2>"
        f"<p>{html.escape(table.caption)}{_inputs_line(table.inputs, links)}<br>"
        f"<a href='{table.name}.csv'>CSV</a> · <a href='{table.name}.md'>Markdown</a></p>"
        f"{table_html(table.frame, links, row_ids, files)}</section>"
    )


def _paper_line(reproduces: str, differs: str) -> str:
    return (
        f"<br><b>Reproduces:</b> {html.escape(reproduces)}. "
        f"<b>What differs:</b> {html.escape(differs)}."
    )


def _figure_section(figure, links) -> str:
    panels = (f"<br>Panels: {html.escape('; '.join(figure.panels))}." if figure.panels
              else "")  # fmt: skip
    return (
        f"<section id='{figure.name}'><h2>{html.escape(figure.title)}</h2><figure>"
        f"<img src='{figure.name}.png' alt='{html.escape(figure.title)}'>"
        f"<figcaption>{html.escape(figure.caption)}{panels}"
        f"{_paper_line(figure.reproduces, figure.differs)}"
        f"{_inputs_line(figure.inputs, links)}</figcaption></figure></section>"
    )


def _interactive_section(plot, links) -> str:
    return (
        f"<section id='{plot.name}-section'><h2>{html.escape(plot.title)}</h2><figure>"
        f"<div class='plot'>{plot.html}</div>"
        f"<figcaption>{html.escape(plot.caption)}{_paper_line(plot.reproduces, plot.differs)}"
        f"{_inputs_line(plot.inputs, links)}</figcaption></figure></section>"
    )


def _provenance(inputs: ReportInputs, links: dict[str, str]) -> str:
    runs = inputs.frame(
        "SELECT id, model, snapshot_id, profile, status, finished_at FROM model_run "
        "ORDER BY finished_at, id"
    )
    sources = inputs.frame(
        "SELECT s.id, s.citation, s.licence, r.file_path, r.file_sha256 FROM source AS s "
        "LEFT JOIN ingest_run AS r ON r.source_id = s.id "
        "QUALIFY row_number() OVER (PARTITION BY s.id ORDER BY r.finished_at DESC) = 1 "
        "ORDER BY s.id"
    )
    sources["file_path"] = [inputs.source_path(p) for p in sources.file_path]
    return (
        "<section id='model_runs'><h2>Model runs</h2><p>Every model run in the database; the "
        "other pages link here.</p>"
        + table_html(runs, links, [f"run-{i}" for i in runs.id])
        + "</section><section id='sources'><h2>Sources</h2><p>Each source with the file of "
        "its latest ingest, relative to the sources folder (TCDB_SOURCES), and its SHA-256.</p>"
        + table_html(sources, links)
        + "</section>"
    )
