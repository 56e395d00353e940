"""Interactive versions of the figures people look at rather than read (plotly).

Why beside the PNGs of ``reports.figures``: a periodic table or an X × Y map holds more than a
printed cell can say; on the site, hovering names the material and gives its numbers. Each
builder returns an ``Interactive`` (a ``<div>`` and the figure as JSON) or raises
``MissingInput``. The site's script draws a figure when it scrolls into view, with the
``plotly.min.js`` the site ships beside its pages (never a CDN), so that a page's text and
tables show before the 4.6 MB library is parsed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tcdb.reports import hydride_training
from tcdb.reports.figures import table_position
from tcdb.reports.inputs import MissingInput, ReportInputs


@dataclass
class Interactive:
    name: str
    title: str
    caption: str
    html: str  # the plot's <div> and its figure as JSON, drawn by site.js
    companion: str  # the static figure (reports.figures) it is shown with
    reproduces: str
    differs: str
    inputs: dict[str, str] = field(default_factory=dict)


def _html(fig, name: str) -> str:
    """The plot's place (as tall as the figure will be) and its figure as JSON."""
    spec = fig.to_json().replace("</", "<\\/")  # no '</script>' inside the script
    height = fig.layout.height or 450
    return (
        f"<div class='plot' id='{name}' data-plot='{name}-data' style='min-height:{height}px'>"
        f"</div><script type='application/json' id='{name}-data'>{spec}</script>"
    )


def _pm(value: float, spread: float, unit: str, digits: int = 0) -> str:
    """'value ± spread unit', the spread left out where the run has none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:.{digits}f}"
    if spread is not None and not (isinstance(spread, float) and math.isnan(spread)):
        text += f" ± {spread:.{digits}f}"
    return f"{text} {unit}".rstrip()


# ------------------------------------------------------------------------- hydrides


def hydride_periodic_table(inputs: ReportInputs) -> Interactive:
    """Each element's best in-domain EH_n coloured by D; elements with none in the domain
    grey, their best n over all shown with the reason it is out."""
    import plotly.graph_objects as go
    from pymatgen.core import Element

    columns = (
        "element, n_h, formula, tc_K, tc_std_K, pressure_GPa, pressure_std_GPa, "
        "distance_to_ambient, distance_std, in_domain, domain_reason, model_run_id, model"
    )
    best = inputs.frame(f"SELECT {columns} FROM hydride_best_per_element")
    every = inputs.frame(f"SELECT {columns} FROM hydride_best_per_element_all")
    inputs.require_rows(every, "hydride screening", "tcdb screen hydrides")
    outside = every[~every.element.isin(best.element)]
    rows, groups = 10, 18
    d = np.full((rows, groups), np.nan)
    grey = np.full((rows, groups), np.nan)
    label = np.full((rows, groups), "", dtype=object)
    hover = np.full((rows, groups), "", dtype=object)
    for frame, in_domain in ((best, True), (outside, False)):
        for r in frame.itertuples(index=False):
            row, group = table_position(Element(r.element))
            i, j = row - 1, group - 1
            if in_domain:
                d[i, j] = r.distance_to_ambient
                flag = "in the applicability domain"
            else:
                grey[i, j] = 0.0
                flag = f"no n in the domain; best n over all is out: {r.domain_reason}"
            label[i, j] = f"<b>{r.element}</b><br>n {r.n_h:g}"
            hover[i, j] = (
                f"<b>{r.formula}</b><br>T_c {_pm(r.tc_K, r.tc_std_K, 'K')}"
                f"<br>P {_pm(r.pressure_GPa, r.pressure_std_GPa, 'GPa')}"
                f"<br>D {_pm(r.distance_to_ambient, r.distance_std, '')}<br>{flag}"
            )
    x = list(range(1, groups + 1))
    y = list(range(1, rows + 1))
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=grey, x=x, y=y, text=label, customdata=hover, texttemplate="%{text}",
        colorscale=[[0, "#d0d0d0"], [1, "#d0d0d0"]], showscale=False, xgap=2, ygap=2,
        hoverongaps=False,
        hovertemplate="%{customdata}<extra></extra>", name="out of domain",
    ))  # fmt: skip
    fig.add_trace(go.Heatmap(
        z=d, x=x, y=y, text=label, customdata=hover, texttemplate="%{text}",
        colorscale="Viridis", reversescale=True, xgap=2, ygap=2, hoverongaps=False,
        colorbar={"title": {"text": "D"}}, hovertemplate="%{customdata}<extra></extra>",
        name="in domain",
    ))  # fmt: skip
    fig.update_yaxes(autorange="reversed", visible=False)
    fig.update_xaxes(visible=False)
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      plot_bgcolor="white")  # fmt: skip
    runs = sorted(set(every.model_run_id))
    return Interactive(
        "hydride_periodic_table",
        "Best hydride per element (hover for T_c, P and D)",
        "Each element's EH_n with the lowest D = |P/GPa| + |T_c/K − 293| among its n inside "
        f"the run's applicability domain as the {' and '.join(sorted(set(every.model)))} "
        "predicts them (the model the run's rule chose), coloured by D; hover shows T_c, P and "
        f"D, each ± the spread over members or trees, and the domain flag. {len(outside)} "
        "elements with no n in the domain are grey; hover names their best n over all and why "
        "it is out.",
        _html(fig, "hydride_periodic_table"),
        "hutcheon_fig5",
        "Hutcheon et al. 2020, Fig. 5 (best hydride per element)",
        "the best n among those inside the applicability domain, the paper ranks every n, with "
        "its network; the spreads come from our members or trees",
        {"hydride run": ", ".join(runs)},
    )


def _parity_trace(go, truth, predicted, names, unit: str, showlegend: bool):
    ok = np.isfinite(truth) & np.isfinite(predicted)
    return go.Scatter(
        x=truth[ok], y=predicted[ok], mode="markers", customdata=np.asarray(names)[ok],
        marker={"size": 6, "opacity": 0.6}, showlegend=showlegend, name="points",
        hovertemplate=f"<b>%{{customdata}}</b><br>true %{{x:.1f}} {unit}"
                      f"<br>predicted %{{y:.1f}} {unit}<extra></extra>",
    )  # fmt: skip


def _diagonal(go, values: np.ndarray):
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    return go.Scatter(x=[low, high], y=[low, high], mode="lines", hoverinfo="skip",
                      line={"color": "black", "width": 1}, showlegend=False)  # fmt: skip


def hydride_parity(inputs: ReportInputs) -> Interactive:
    """Out-of-fold parity of the hydride network for T_c and P, each point named."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    run = inputs.latest_run("hydride-mlp")
    oof = run.checked.read_parquet("out_of_fold.parquet")
    tc, pressure = hydride_training.parity_columns(oof)
    methods = oof["method"] if "method" in oof else [""] * len(oof)
    named = zip(oof.formula, methods, strict=True)
    names = [f"{f} ({m})" if isinstance(m, str) and m else str(f) for f, m in named]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("T_c (K)", "P (GPa)"))
    for col, (truth, predicted, unit) in enumerate(
        ((oof.tc_K, oof[tc], "K"), (oof.pressure_GPa, oof[pressure], "GPa")), start=1
    ):
        t, p = truth.to_numpy(float), predicted.to_numpy(float)
        fig.add_trace(_parity_trace(go, t, p, names, unit, False), row=1, col=col)
        fig.add_trace(_diagonal(go, np.concatenate([t, p])), row=1, col=col)
        fig.update_xaxes(title_text=f"literature ({unit})", row=1, col=col)
        fig.update_yaxes(title_text=f"predicted out of fold ({unit})", row=1, col=col)
    fig.update_layout(height=430, margin={"l": 50, "r": 10, "t": 30, "b": 40})
    return Interactive(
        "hydride_parity",
        "Hydride network out of fold (hover names the material)",
        "The points of the figure below; hover gives each one's formula, the method of its "
        "literature value, and the literature and predicted numbers.",
        _html(fig, "hydride_parity"),
        "hutcheon_fig3",
        "Hutcheon et al. 2020, Fig. 3 (parity for T_c and P)",
        "out of fold (random folds); the paper's parity is in-sample",
        {"hydride run": run.id, "snapshot": run.snapshot_id},
    )


# ------------------------------------------------------------------------- structures


def structural_parity(inputs: ReportInputs) -> Interactive:
    """Validation parity of the structural model, each point named by formula and structure."""
    import plotly.graph_objects as go

    run = inputs.latest_run("cvcnn")
    if "validation_parity.parquet" not in run.manifest["artefacts"]:
        raise MissingInput(f"run {run.id} has no validation_parity.parquet")
    parity = run.checked.read_parquet("validation_parity.parquet")
    named = zip(parity.reduced_formula, parity.structure_id, parity.origin, strict=True)
    names = [f"{f} ({s}, {o})" for f, s, o in named]
    truth, predicted = parity.label_tc_K.to_numpy(float), parity.predicted_tc_K.to_numpy(float)
    fig = go.Figure([
        _parity_trace(go, truth, predicted, names, "K", False),
        _diagonal(go, np.concatenate([truth, predicted])),
    ])  # fmt: skip
    fig.update_layout(height=480, width=560, margin={"l": 50, "r": 10, "t": 10, "b": 40},
                      xaxis_title="label T_c (K)", yaxis_title="predicted T_c (K)")  # fmt: skip
    return Interactive(
        "structural_parity",
        "Structural model on its validation part (hover names the material)",
        "The points of the figure below; hover gives each one's reduced formula, structure id, "
        "label origin (SuperCon or literature), label and prediction.",
        _html(fig, "structural_parity"),
        "novakovic_fig3",
        "Novakovic et al. 2023, Fig. 3 (validation parity)",
        "our network on our snapshot and split, not the authors' ensemble",
        {"structural model run": run.id, "snapshot": run.snapshot_id},
    )


# ------------------------------------------------------------------------- morph maps

MAP_TITLES = {
    "mgh13-xy": "Fm-3m MgH13: X on Mg, Y on the centre H",
    "xyh36": "Fd-3m XYH36: X, Y on the Mg sites",
}


def _morph_map(inputs: ReportInputs, family: str, name: str) -> Interactive:
    import plotly.graph_objects as go
    from pymatgen.core import Element

    summary = inputs.require_rows(
        inputs.frame(
            "SELECT x_element, y_element, formula, tc_peak_K, tc_lowest_K, a_at_peak_A, "
            "composition_tc_K, model_run_id FROM morph_summary WHERE family = ?",
            [family],
        ),
        f"{family} morph map",
        "make morph",
    )
    order = sorted(set(summary.x_element) | set(summary.y_element), key=lambda e: Element(e).Z)
    by_pair = summary.set_index(["y_element", "x_element"])
    z = by_pair.tc_peak_K.unstack().reindex(index=order, columns=order)
    hover = pd.DataFrame("", index=order, columns=order, dtype=object)
    for (y, x), r in by_pair.iterrows():
        chem = "–" if pd.isna(r.composition_tc_K) else f"{r.composition_tc_K:.0f} K"
        hover.loc[y, x] = (
            f"<b>{r.formula}</b> (X {x}, Y {y})<br>peak T_c {r.tc_peak_K:.0f} K at a = "
            f"{r.a_at_peak_A:.2f} Å<br>lowest {r.tc_lowest_K:.0f} K<br>T_c chem {chem}"
        )
    fig = go.Figure(go.Heatmap(
        z=z.to_numpy(), x=order, y=order, customdata=hover.to_numpy(), colorscale="Inferno",
        colorbar={"title": {"text": "peak T_c (K)"}}, hoverongaps=False,
        hovertemplate="%{customdata}<extra></extra>",
    ))  # fmt: skip
    fig.update_xaxes(title_text="X (ordered by Z)", type="category")
    fig.update_yaxes(title_text="Y (ordered by Z)", type="category", scaleanchor="x")
    fig.update_layout(height=640, margin={"l": 60, "r": 10, "t": 10, "b": 50})
    return Interactive(
        name,
        f"{MAP_TITLES[family]} (hover for each pair)",
        "Peak predicted T_c over each X, Y pair's uniform lattice scan, elements ordered by Z; "
        "hover gives the formula, the peak T_c and the a it is reached at, the lowest T_c of "
        "the scan and the composition baseline's T_c ('T_c chem').",
        _html(fig, name),
        "novakovic_fig4",
        "Novakovic et al. 2023, Fig. 4 (X/Y morph maps)",
        "peak over each pair's lattice scan; pairs without descriptors are gaps",
        {"structural model run": ", ".join(sorted(set(summary.model_run_id)))},
    )


def mgh13_map(inputs: ReportInputs) -> Interactive:
    """The MgH13 X × Y map as a heatmap with hover."""
    return _morph_map(inputs, "mgh13-xy", "mgh13_map")


def xyh36_map(inputs: ReportInputs) -> Interactive:
    """The XYH36 X × Y map as a heatmap with hover."""
    return _morph_map(inputs, "xyh36", "xyh36_map")


BUILDERS = (hydride_periodic_table, hydride_parity, structural_parity, mgh13_map, xyh36_map)
