"""A small real database holding every kind of prediction, for the report and query tests."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tcdb.ml.structural.parameters import MORPH, MORPH_PROFILES
from tcdb.schema.database import connect
from tests.conftest import SOURCES, built_once, copy_model_run

if TYPE_CHECKING:
    import matplotlib.figure

    from tcdb.reports.build import ReportOutcome

REFERENCE = SOURCES / "reference"


@pytest.fixture(scope="session")
def report_db(composition_by_time, trained_models, hydride_run, tmp_path_factory):
    """The trained-models database with the session's smoke composition run by time (the
    newest composition run), plus the session's smoke hydride run and its screening,
    predictions of the reference and literature structures and every morph family at smoke
    size. Every model comes from a session fixture: none is trained again here."""
    with built_once(tmp_path_factory, "report") as (folder, build):
        db = folder / "tcdb.duckdb"
        if build:
            shutil.copy(composition_by_time.db, db)
            copy_model_run(hydride_run.db, db, hydride_run.run_id)
            predict_everything(db, trained_models, hydride_run)
    return db


def predict_everything(db: Path, trained_models, hydride_run) -> None:
    """The hydride run's screening, the reference and literature structures predicted and every
    morph family at smoke size, stored in ``db``."""
    from tcdb.cli.discovery import read_references
    from tcdb.core.structure_files import read_structure_inputs
    from tcdb.ml.hydride import screening as hydride_screening
    from tcdb.ml.structural.morph_runs import run_family
    from tcdb.ml.structural.morphs import FAMILIES
    from tcdb.ml.structural.predictions import predict_inputs
    from tcdb.ml.structural.predictor import StructuralModel
    from tcdb.store.model_runs import verify_run

    conn = connect(db)
    try:
        hydride_screening.screen(conn, verify_run(conn, hydride_run.run_id, "hydride-mlp"))
        model = StructuralModel.load(trained_models.cvcnn)
        inputs, failures = read_structure_inputs(
            [REFERENCE / "structures", SOURCES / "literature" / "structures"]
        )
        predict_inputs(conn, model, inputs, failures, trained_models.composition_predictor)
        params = dataclasses.replace(MORPH, **MORPH_PROFILES["smoke"])
        for family in FAMILIES.values():
            run_family(
                conn,
                model,
                family,
                trained_models.composition_predictor,
                params,
                progress=False,
                references=read_references(conn, family),
            )
    finally:
        conn.close()


@dataclass(frozen=True)
class BuiltReport:
    """The session's one build of the report: what ``build_report`` returned and each
    matplotlib figure as it was saved, by name, so that no test draws a figure again."""

    outcome: ReportOutcome
    drawings: dict[str, matplotlib.figure.Figure]


@pytest.fixture(scope="session")
def built_report(report_db, tmp_path_factory) -> BuiltReport:
    from tcdb.reports.build import build_report
    from tests.reports.figure_values import saved_figures

    folder = tmp_path_factory.mktemp("site")
    conn = connect(report_db, read_only=True)
    try:
        with saved_figures(pytest.MonkeyPatch()) as saved:
            outcome = build_report(conn, REFERENCE, folder)
    finally:
        conn.close()
    # one save per figure, in the order the report drew them
    assert len(saved) == len(outcome.figures), [f.name for f in outcome.figures]
    drawings = {figure.name: drawn for figure, drawn in zip(outcome.figures, saved, strict=True)}
    return BuiltReport(outcome, drawings)


@pytest.fixture(scope="session")
def report_site(built_report: BuiltReport) -> ReportOutcome:
    """The report and its site, built once from the report database (read-only)."""
    return built_report.outcome
