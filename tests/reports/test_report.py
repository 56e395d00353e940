"""The report rebuilt from a small real database: each table puts the papers' numbers beside
ours, each figure is drawn from the runs it names, and missing inputs become notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tcdb.core.scan_shapes import FALLING, FLAT, MIXED, RISING
from tcdb.reports import figures, tables
from tcdb.reports.build import build_report
from tcdb.reports.inputs import MissingInput, ReportInputs
from tcdb.schema.database import connect
from tests.conftest import SOURCES

REFERENCE = SOURCES / "reference"


@pytest.fixture
def report_inputs(report_db):
    conn = connect(report_db, read_only=True)
    yield ReportInputs(conn, REFERENCE)
    conn.close()


def test_table_one_puts_the_papers_groups_beside_ours(report_inputs):
    table = tables.novakovic_table1(report_inputs)
    frame = table.frame.set_index("composition")
    row = frame.loc["BaLa19Cu9AgO40"]
    assert row.paper_mean_K == 26.5 and row.our_mean_K == pytest.approx(26.5)
    assert row.mean_difference_K == pytest.approx(row.our_mean_K - row.paper_mean_K)
    assert frame.our_mean_K.notna().all()  # every composition of the paper's table is found


def test_table_two_finds_the_literature_structures_we_hold(report_inputs):
    frame = tables.novakovic_table2(report_inputs).frame
    held = frame[frame.our_structure_file != "not held"]
    assert {"SeH3", "Li2MgH16"} <= set(held.superconductor)
    assert held.our_pred_K.notna().all() and held.our_chem_K.notna().all()
    assert np.allclose(held.pred_difference_K, held.our_pred_K - held.paper_pred_K)
    lah10 = held[(held.superconductor == "LaH10") & (held.space_group == "Fm-3m")]
    assert set(lah10.pressure_GPa) <= {150, 250}


def test_table_three_and_the_top_morphs_come_from_the_morph_summary(report_inputs):
    three = tables.novakovic_table3(report_inputs).frame
    # with elements up to Mg the smoke maps hold LiMgH12 (Fm-3m MgH13, X = Li, Y = Mg)
    limgh12 = three.set_index("superconductor").loc["LiMgH12"]
    assert limgh12.our_family == "mgh13-xy" and limgh12.our_high_K >= limgh12.our_low_K
    top = tables.top_morphs(report_inputs, limit=3).frame
    assert set(top.family) == {
        "xh3",
        "mgh13-xy",
        "xyh36",
        "li2mgh16-random",
        "random-standouts",
        "dome",
        "ac-grid",
    }
    assert (top.groupby("family").tc_peak_K.apply(lambda s: s.is_monotonic_decreasing)).all()


def test_hutcheon_table_one_shows_the_stored_dfpt_values(report_inputs):
    frame = tables.hutcheon_table1(report_inputs).frame
    assert len(frame) == 15
    rbh12 = frame[
        (frame.stoichiometry == "RbH12")
        & (frame.space_group == "Immm")
        & (frame.pressure_GPa == 150)
    ].iloc[0]
    assert rbh12.stored_tc_K == rbh12.paper_tc_K == 126


def test_data_overview_counts_rows_rejections_matches_and_snapshots(report_inputs):
    sources = tables.sources_overview(report_inputs).frame.set_index("source_id")
    nims = sources.loc["nims_supercon"]
    assert nims.n_loaded + nims.n_rejected == nims.n_records
    rejections = tables.rejections_overview(report_inputs).frame
    assert rejections.query("source_id == 'nims_supercon'").rows.sum() == nims.n_rejected
    assert "exact_reduced" in set(tables.matches_overview(report_inputs).frame.method)
    snapshots = tables.snapshots_overview(report_inputs).frame
    assert "structures" in set(snapshots.kind) and (snapshots.n_entries > 0).all()


def test_the_most_variable_groups_come_first(report_inputs):
    frame = tables.most_variable_groups(report_inputs, limit=5).frame
    assert len(frame) == 5
    assert frame.tc_variance_K2.is_monotonic_decreasing


def test_structural_runs_are_listed_with_protocol_part_and_baselines_beside_the_paper(
    report_inputs,
):
    cvcnn = report_inputs.latest_run("cvcnn")
    metrics = cvcnn.manifest["metrics"]
    frame = tables.structural_protocols(report_inputs).frame
    rows = frame[frame.run == cvcnn.id].set_index("evaluated")
    assert set(rows.index) == {"cvcnn", *metrics["baselines"]}
    assert set(rows.protocol) == {"paper"} and set(rows.part) == {"validation"}
    assert rows.loc["cvcnn", "r2"] == metrics["validation"]["r2"]
    assert rows.loc["cvcnn", "n"] == metrics["validation"]["n"]
    for name, scored in metrics["baselines"].items():
        assert (rows.loc[name, "r2"], rows.loc[name, "mae_K"]) == (scored["r2"], scored["mae_K"])
    assert set(rows.configuration) == {"tcdb"} and set(rows.members) == {1}
    paper = frame[frame.run == "Novakovic et al. 2023"].iloc[0]
    assert (paper.protocol, paper.part, paper.n, paper.r2) == ("paper", "validation", 500, 0.9429)
    evaluations = tables.model_evaluations(report_inputs).frame
    assert "protocol" in evaluations.columns


def test_headline_numbers_name_our_runs_beside_the_papers(report_inputs):
    frame = tables.headline_results(report_inputs).frame.set_index("quantity")
    structural = frame.loc["validation r2 (CVCNN+MLP ensemble)"]
    assert structural.value == "0.9429"
    cvcnn = report_inputs.latest_run("cvcnn")
    assert cvcnn.id in structural.ours and "r² " in structural.ours
    assert (
        report_inputs.latest_run("hydride-mlp").id
        in frame.loc["RMSE on its literature dataset (quoted by Bai et al. 2024 review)"].ours
    )


def test_composition_runs_are_listed_by_protocol_and_the_by_time_run_by_family(report_inputs):
    protocols = tables.composition_protocols(report_inputs).frame
    assert {"grouped-by-composition", "by-time"} <= set(protocols["protocol"])
    by_time = protocols[protocols["protocol"] == "by-time"].iloc[-1]
    assert by_time.last_training_year == 2007 and by_time.n_without_year > 0
    families = tables.family_by_time(report_inputs)
    assert by_time.run in families.inputs["model runs"]
    frame = families.frame[families.frame.model == "composition"].set_index("family")
    assert frame["n"].sum() == by_time.n and (frame.last_training_year == 2007).all()
    assert "later iron-based compositions" in families.caption
    assert frame.loc["iron-based", "n"] > 0
    # the headline stays Hamidieh's comparison: a grouped run, though the by-time one is newer
    headline = tables.headline_results(report_inputs).frame
    assert by_time.run not in " ".join(headline["ours"].astype(str))


def drawn_figures(report_site) -> dict[str, figures.Figure]:
    """The figures the session's report drew, by name: none is drawn again to be checked."""
    return {figure.name: figure for figure in report_site.figures}


@pytest.mark.parametrize("draw", figures.BUILDERS, ids=lambda draw: draw.__name__)
def test_every_figure_is_drawn_from_the_stored_numbers(draw, built_report, report_db):
    """The numbers each figure shows, read back off it as the report saved it, are those of
    the stored predictions and run files (tests/reports/figure_values.py), not only a PNG of
    some size."""
    from tests.reports.figure_values import CHECKS

    name, site = draw.__name__, built_report.outcome
    figure = drawn_figures(site)[name]
    assert (site.out_dir / f"{name}.png").stat().st_size > 10_000, name
    assert figure.inputs, name  # every figure names the runs it came from
    CHECKS[name](built_report.drawings[name], report_db)


def test_the_report_writes_every_file_and_names_its_inputs(report_site, report_db):
    outcome, folder = report_site, report_site.out_dir
    assert outcome.missing == {}
    site = "".join(page.read_text() for page in outcome.pages)
    for table in outcome.tables:
        assert pd.read_csv(folder / f"{table.name}.csv").shape[0] == len(table.frame)
        assert (folder / f"{table.name}.md").read_text().startswith(f"# {table.title}")
        assert f"{table.name}.csv" in site
    for figure in outcome.figures:
        assert f"{figure.name}.png" in site and (folder / f"{figure.name}.png").is_file()
    run_ids = [
        r[0]
        for r in connect(report_db, read_only=True).execute("SELECT id FROM model_run").fetchall()
    ]
    assert all(run_id in site for run_id in run_ids)


def test_missing_models_become_notes_not_crashes(curated_db, tmp_path):
    conn = connect(curated_db, read_only=True)
    try:
        outcome = build_report(conn, REFERENCE, tmp_path)
        with pytest.raises(MissingInput, match="no cvcnn run yet"):
            figures.novakovic_fig3(ReportInputs(conn, REFERENCE), tmp_path / "x.png")
    finally:
        conn.close()
    assert "novakovic_fig3" in outcome.missing and "make morph" in outcome.missing["novakovic_fig4"]
    assert any(t.name == "novakovic_table1" for t in outcome.tables)  # data tables still built
    assert "Not in this report" in outcome.index.read_text()


def test_fig5_and_fig6_panels_are_named_after_their_structures(report_site):
    drawn = drawn_figures(report_site)
    for name in ("novakovic_fig5", "novakovic_fig6"):
        assert drawn[name].panels == ("Li2MgH16 Fd-3m", "Li2MgH16 P-3m1"), name
    assert list(drawn) == [draw.__name__ for draw in figures.BUILDERS]
    for name, figure in drawn.items():
        assert not any(p.startswith("reference") for p in figure.panels), name


def test_the_domes_table_says_for_each_scan_whether_it_peaks_inside(report_inputs):
    frame = tables.novakovic_domes(report_inputs).frame
    assert list(zip(frame.figure, frame.structure, strict=True)) == [
        ("Fig. 5", "Li2MgH16 Fd-3m"),
        ("Fig. 5", "Li2MgH16 P-3m1"),
        ("Fig. 6", "Li2MgH16 Fd-3m"),
        ("Fig. 6", "Li2MgH16 P-3m1"),
    ]
    assert (frame.paper_shows != "").all() and (frame.paper_interior_maximum != "").all()
    points = report_inputs.frame(
        "SELECT m.a_A, m.tc_K, s.spacegroup_symbol FROM morph_prediction AS m "
        "JOIN crystal_structure AS s ON s.id = m.parent_structure_id WHERE m.family = 'dome' "
        "ORDER BY m.a_A"
    )
    for row in frame[frame.figure == "Fig. 5"].itertuples(index=False):
        scan = points[points.spacegroup_symbol == row.structure.split()[-1]]
        ends = max(scan.tc_K.iloc[0], scan.tc_K.iloc[-1])
        assert row.peak_tc_K == pytest.approx(scan.tc_K.max())
        inside = scan.a_A.iloc[0] < row.peak_a_A < scan.a_A.iloc[-1]
        assert (row.interior_maximum == "yes") == (inside and row.peak_tc_K > ends + 1.0)
        if row.interior_maximum == "no":
            assert row.tc_shape in {RISING, FALLING, FLAT, MIXED}
    # the smoke grids are 2 x 2: no point lies inside them
    assert (frame[frame.figure == "Fig. 6"].interior_maximum == "no").all()


def test_the_domes_table_finds_a_dome_where_the_scan_has_one():
    from tcdb.reports.scans import dome_rows

    a = np.linspace(3.3, 7.1, 33)
    uniform = pd.DataFrame(
        {"structure": "Li2MgH16 Fd-3m", "a_A": a, "c_A": a, "tc_K": 280 - 30 * (a - 4.5) ** 2}
    )
    aa, cc = (v.ravel() for v in np.meshgrid(a[::4], a[::4], indexing="ij"))
    grid = pd.DataFrame(
        {"structure": "Li2MgH16 P-3m1", "a_A": aa, "c_A": cc, "tc_K": 300 - 20 * aa - cc}
    )
    frame = dome_rows(uniform, grid).set_index("figure")
    five, six = frame.loc["Fig. 5"], frame.loc["Fig. 6"]
    assert five.interior_maximum == "yes" and five.peak_a_A == pytest.approx(
        a[np.argmin(abs(a - 4.5))]
    )
    assert five.paper_interior_maximum == "yes (text)"
    assert six.interior_maximum == "no" and "smallest a and smallest c" in six.tc_shape
    assert six.peak_a_A == aa.min() and six.peak_c_A == cc.min()
    assert six.peak_c_over_a == pytest.approx(cc.min() / aa.min())


def test_every_familys_uniform_scans_are_counted_by_shape(report_inputs):
    frame = tables.morph_scan_shapes(report_inputs).frame.set_index("family")
    assert {"mgh13-xy", "xyh36", "li2mgh16-random", "random-standouts", "dome"} <= set(frame.index)
    assert "ac-grid" not in frame.index and "xh3" not in frame.index  # no scans of their own
    assert (frame.with_interior_maximum <= frame.scans).all()
    counted = frame.shapes.str.findall(r"(\d+)(?:,|$)").apply(lambda ns: sum(map(int, ns)))
    assert (counted == frame.scans).all()
    assert frame.loc["dome"].scans == 2


def test_the_decile_share_counts_heavy_alkali_and_alkaline_earth_in_domain_and_overall(
    report_inputs,
):
    table = tables.hutcheon_decile_share(report_inputs)
    frame = table.frame.set_index("rows ranked")
    heavy = ("K", "Rb", "Cs", "Ca", "Sr", "Ba")
    for scope, view in (
        ("in the applicability domain", "hydride_closest_decile"),
        ("every screened EH_n", "hydride_closest_decile_all"),
    ):
        decile = report_inputs.frame(f"SELECT element FROM {view}")
        row = frame.loc[scope]
        assert row.decile_rows == len(decile)
        assert row.heavy_alkali_alkaline_earth == decile.element.isin(heavy).sum()
        assert row.share == pytest.approx(row.heavy_alkali_alkaline_earth / len(decile))
        assert "heavy alkali and alkaline earth metal hydrides" in row["paper (Fig. 4)"]
    assert tables.hutcheon_decile_share in tables.BUILDERS


def test_fig4_draws_the_in_domain_decile_and_says_how_many_rows_were_out(
    report_inputs, report_site
):
    figure = drawn_figures(report_site)["hutcheon_fig4"]
    outside = report_inputs.frame(
        "SELECT count(*) AS n FROM hydride_screening WHERE NOT in_domain"
    ).n[0]
    assert f"{outside:,} of " in figure.caption and "out of the domain" in figure.caption
