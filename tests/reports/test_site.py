"""The report's site as files: a page per topic for every table and figure, captions that
name the paper's figure, links from morphs and predictions to their CIF, run and snapshot,
and no path of this machine anywhere."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tcdb.reports import figures, interactive, site, tables
from tests.commands import REPO
from tests.conftest import SOURCES


def _section(page: str, name: str) -> str:
    """The HTML of one table's or figure's section of a page."""
    found = re.search(rf"<section id='{name}'>(.*?)</section>", page, flags=re.DOTALL)
    assert found, name
    return found.group(1)


def _rows(section: str) -> list[str]:
    return re.findall(r"<tr[^>]*>(.*?)</tr>", section.split("<tbody>")[1], flags=re.DOTALL)


def test_every_table_and_figure_has_its_page(report_site):
    placed = {name for page in site.PAGES for name in (*page.tables, *page.figures)}
    assert report_site.missing == {}
    assert len(report_site.tables) == len(tables.BUILDERS)
    assert len(report_site.figures) == len(figures.BUILDERS)
    assert {t.name for t in report_site.tables} | {f.name for f in report_site.figures} == placed
    assert {p.companion for p in report_site.interactive} <= {b.__name__ for b in figures.BUILDERS}
    assert [p.name for p in report_site.pages] == [page.file for page in site.PAGES]
    for page in report_site.pages:
        text = page.read_text()
        assert text.count("<nav class='site'>") == 1
        assert all(f"href='{other.file}'" in text for other in site.PAGES)


def test_every_figure_names_the_paper_figure_it_reproduces_and_what_differs(report_site):
    text = "".join(page.read_text() for page in report_site.pages)
    shown = len(report_site.figures) + len(report_site.interactive)
    assert len(report_site.interactive) == len(interactive.BUILDERS)
    assert text.count("<b>Reproduces:</b>") == shown
    assert text.count("<b>What differs:</b>") == shown
    for figure in report_site.figures:
        assert figure.reproduces and figure.differs, figure.name


def test_fig5_panels_are_titled_after_their_structures_on_the_site(report_site):
    morphs = (report_site.out_dir / "morphs.html").read_text()
    assert "Panels: Li2MgH16 Fd-3m; Li2MgH16 P-3m1." in _section(morphs, "novakovic_fig5")
    assert "Panels: reference" not in morphs


def test_no_path_of_this_machine_is_in_the_site(report_site, report_db):
    folder = report_site.out_dir
    # the session's temporary folder holds the database, the site and every run it reports on
    machine = {str(SOURCES), str(SOURCES.resolve()), str(REPO), str(report_db.parent),
               str(report_db.parent.parent), str(folder), str(Path.home()) + "/"}  # fmt: skip
    written = [p for p in folder.rglob("*") if p.suffix in {".html", ".csv", ".md", ".cif", ".js"}]
    assert len(written) > 40
    for path in written:
        text = path.read_text()
        assert not [m for m in machine if m in text], path.name
    sources = pd.read_csv(folder / "data_sources.csv")
    assert not sources.file_path.str.startswith("/").any()  # relative to the sources folder


def test_morph_rows_link_to_their_cif_run_and_snapshot(report_site):
    from pymatgen.core import Composition, Structure

    folder = report_site.out_dir
    morphs = (folder / "morphs.html").read_text()
    runs = (folder / "runs.html").read_text()
    top = next(t for t in report_site.tables if t.name == "top_morphs").frame
    rows = _rows(_section(morphs, "top_morphs"))
    assert len(rows) == len(top)
    for row, morph in zip(rows, top.itertuples(index=False), strict=True):
        cif = re.search(r"href='(structures/[^']+\.cif)' download", row).group(1)
        structure = Structure.from_file(folder / cif)
        assert structure.reduced_formula == Composition(morph.formula).reduced_formula
        assert f"href='runs.html#run-{morph.model_run_id}'" in row
        assert f"href='runs.html#snapshot-{morph.snapshot_id}'" in row
        assert f"id='run-{morph.model_run_id}'" in runs
        assert f"id='snapshot-{morph.snapshot_id}'" in runs


def test_a_scaled_morph_cif_has_the_scan_lattice(report_site, report_db):
    """The CIF of a scan's peak is the reference substituted and scaled, not the reference."""
    from pymatgen.core import Structure

    from tcdb.schema.database import connect

    folder = report_site.out_dir
    domes = next(t for t in report_site.tables if t.name == "top_morphs").frame
    dome = domes[domes.family == "dome"].iloc[0]
    row = _rows(_section((folder / "morphs.html").read_text(), "top_morphs"))[
        domes.index.get_loc(dome.name)
    ]
    structure = Structure.from_file(folder / re.search(r"href='(structures/[^']+)'", row)[1])
    with connect(report_db, read_only=True) as conn:
        (a_A,) = conn.execute(
            "SELECT a_A FROM morph_prediction WHERE family = 'dome' AND tc_K = ?",
            [float(dome.tc_peak_K)],
        ).fetchone()
    assert structure.lattice.a == pytest.approx(a_A, rel=1e-4)


def test_prediction_rows_link_to_the_structure_file_and_run(report_site):
    folder = report_site.out_dir
    page = (folder / "structural.html").read_text()
    predicted = next(t for t in report_site.tables if t.name == "structure_predictions").frame
    rows = _rows(_section(page, "structure_predictions"))
    for row, p in zip(rows, predicted.itertuples(index=False), strict=True):
        assert not p.path.startswith("/") and p.path.endswith(p.name)
        cif = re.search(r"href='(structures/[^']+\.cif)' download", row).group(1)
        assert (folder / cif).read_text() == (SOURCES / p.path).read_text()
        assert f"href='runs.html#run-{p.model_run_id}'" in row
    held = _rows(_section(page, "novakovic_table2"))
    assert sum("download>CIF</a>" in row for row in held) >= 2  # SeH3, Li2MgH16 at least


def test_plotly_is_written_once_and_no_page_loads_anything_from_the_network(report_site):
    folder = report_site.out_dir
    assert len(list(folder.rglob("plotly*.js"))) == 1
    for page in report_site.pages:
        text = page.read_text()
        assert not re.search(r"(src|href)=['\"](https?:)?//", text), page.name
        assert len(text) < 1_000_000, page.name  # the library is not inlined


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_report_prints_the_site_and_serves_it_until_interrupted(curated_db, tmp_path):
    """`tcdb report --serve --port 0` builds, prints where the site is, serves it on
    127.0.0.1 and stops cleanly on Ctrl-C (SIGINT). The process is what is tested, so it runs
    on the curated database, whose report has no model's figures to draw: what a full report
    holds is checked on the session's build (``report_site``)."""
    out = tmp_path / "site"
    command = [sys.executable, "-m", "tcdb.cli", "--db", str(curated_db), "--sources",
               str(SOURCES), "report", "--out", str(out), "--serve", "--port", "0"]  # fmt: skip
    # Ctrl-C as a terminal sends it, even when the tests themselves run in the background:
    # a shell starts background jobs with SIGINT ignored, and Python then never raises
    # KeyboardInterrupt, so the child gets the default disposition back.
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              preexec_fn=_default_sigint)  # fmt: skip
    try:
        lines = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line or server.poll() is None, "".join(lines)
            lines.append(line)
            if line.startswith("serving "):
                break
        printed = "".join(lines)
        assert f"site: {(out / 'index.html').resolve()}" in printed
        url = re.search(r"at (http://127\.0\.0\.1:\d+/)", printed).group(1)
        with urllib.request.urlopen(url + "morphs.html", timeout=10) as response:
            served = response.read()
            assert response.status == 200 and served == (out / "morphs.html").read_bytes()
        assert b"make morph" in served  # the morph page built, saying what to run
    finally:
        server.send_signal(signal.SIGINT)
        rest, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and "stopped" in rest


def test_the_server_shrugs_off_a_browser_leaving_mid_file(tmp_path, capfd):
    """A browser leaving a page while plotly.min.js is still coming closes the connection;
    the server prints no traceback and serves the next request."""
    import socket
    import threading

    from tcdb.reports.serve import site_server, url_of

    (tmp_path / "index.html").write_text("<!doctype html><title>site</title>")
    (tmp_path / "plotly.min.js").write_bytes(b"x" * 20_000_000)
    server = site_server(tmp_path, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        for _ in range(3):
            with socket.create_connection((host, port)) as client:
                client.sendall(b"GET /plotly.min.js HTTP/1.1\r\nHost: x\r\n\r\n")
                client.recv(1024)
                client.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
        time.sleep(0.5)
        with urllib.request.urlopen(url_of(server) + "index.html", timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capfd.readouterr().err


def test_serving_a_folder_without_a_site_says_what_to_run(tmp_path):
    from tcdb.core.errors import TcdbError
    from tcdb.reports.serve import site_server

    with pytest.raises(TcdbError, match="run 'tcdb report' first"):
        site_server(tmp_path, 0)
