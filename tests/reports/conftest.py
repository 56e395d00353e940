"""A small real database holding every kind of prediction, for the report and query tests."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from tcdb.ml.structural.parameters import MORPH, MORPH_PROFILES
from tcdb.schema.database import connect
from tests.conftest import SOURCES

REFERENCE = SOURCES / "reference"


@pytest.fixture(scope="session")
def report_db(trained_models, hydride_snapshot, structures_snapshot, tmp_path_factory):
    """The trained-models database plus a smoke hydride run and screening, predictions of the
    reference and literature structures, every morph family at smoke size, and a smoke
    composition run by time (the newest composition run)."""
    from tcdb.cli.discovery import read_references
    from tcdb.core.structure_files import read_structure_inputs
    from tcdb.ml.hydride import screening as hydride_screening
    from tcdb.ml.hydride.ensemble import HydrideMLPConfig
    from tcdb.ml.hydride.parameters import HYDRIDE_PROFILES
    from tcdb.ml.registry import get
    from tcdb.ml.structural.morph_runs import run_family
    from tcdb.ml.structural.morphs import FAMILIES
    from tcdb.ml.structural.predictions import predict_inputs
    from tcdb.ml.structural.predictor import StructuralModel
    from tcdb.ml.training import train
    from tcdb.store.model_runs import verify_run

    folder = tmp_path_factory.mktemp("report")
    db = folder / "tcdb.duckdb"
    shutil.copy(trained_models.db, db)
    conn = connect(db)
    try:
        run = train(
            get("hydride-mlp"),
            conn,
            hydride_snapshot,
            folder / "runs",
            HydrideMLPConfig(**HYDRIDE_PROFILES["smoke"]),
        )
        hydride_screening.screen(conn, verify_run(conn, run.id, "hydride-mlp"))
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
        from tcdb.ml.composition.parameters import COMPOSITION_PROFILES
        from tcdb.ml.composition.training import CompositionModelConfig

        by_time = CompositionModelConfig(**COMPOSITION_PROFILES["smoke"], protocol="by-time")
        train(get("composition"), conn, structures_snapshot, folder / "runs", by_time)
    finally:
        conn.close()
    return db


@pytest.fixture(scope="session")
def report_site(report_db, tmp_path_factory):
    """The report and its site, built once from the report database (read-only)."""
    from tcdb.reports.build import build_report

    folder = tmp_path_factory.mktemp("site")
    conn = connect(report_db, read_only=True)
    try:
        outcome = build_report(conn, REFERENCE, folder)
    finally:
        conn.close()
    return outcome
