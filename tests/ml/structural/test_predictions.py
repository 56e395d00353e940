"""Predictions of given structures and morph grids with a trained structural model: stored
under a content hash with the composition baseline beside, failures reported, and morph
results that agree with predicting the same structures directly."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from tcdb.cli.discovery import read_references
from tcdb.core.structure_files import read_structure_inputs
from tcdb.ml.structural.morph_runs import run_family
from tcdb.ml.structural.morphs import FAMILIES, Builder, generate, load_reference_file
from tcdb.ml.structural.parameters import MORPH
from tcdb.ml.structural.predictions import predict_inputs
from tcdb.ml.structural.predictor import StructuralModel
from tcdb.schema.database import connect
from tcdb.store.model_runs import RunError
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES, migrated_copy, query

REFERENCES = SOURCES / "reference" / "structures"


@pytest.fixture(scope="module")
def model(trained_models):
    return StructuralModel.load(trained_models.cvcnn)


def _write_inputs(folder):
    shutil.copy(REFERENCES / "MgH13_Fm-3m_200GPa.cif", folder / "MgH13.cif")
    mgh13 = load_reference_file(REFERENCES / "MgH13_Fm-3m_200GPa.cif").structure
    neon = Structure(Lattice.cubic(4.4), ["Ne"], [[0, 0, 0]])
    uranium = Structure(Lattice.cubic(3.5), ["U", "H"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    items = [
        {"name": "MgH13 again", "structure": mgh13.as_dict()},
        {"name": "solid neon", "structure": neon.as_dict()},
        {"name": "UH", "structure": uranium.as_dict()},
    ]
    (folder / "batch.json").write_text(json.dumps(items))
    (folder / "broken.cif").write_text("data_broken\n")


def test_cif_and_json_inputs_are_predicted_stored_and_bad_ones_explained(
    models_db, trained_models, model, tmp_path
):
    _write_inputs(tmp_path)
    inputs, failures = read_structure_inputs([tmp_path])
    conn = connect(models_db)
    try:
        frame = predict_inputs(conn, model, inputs, failures, trained_models.composition_predictor)
    finally:
        conn.close()

    by_name = frame.set_index("name")
    predicted = by_name[by_name.status == "predicted"]
    assert sorted(predicted.index) == ["MgH13 again", "MgH13.cif"]
    # one structure, two files: one content hash, one value, the composition baseline beside
    assert predicted.structure_hash.nunique() == 1
    assert predicted.tc_K.nunique() == 1 and np.isfinite(predicted.tc_K).all()
    assert np.isfinite(predicted.composition_tc_K).all()
    assert (predicted.composition_tc_std_K > 0).all()  # the composition run's spread
    reasons = by_name[by_name.status == "failed"].reason
    assert "batch.json#1" in reasons["solid neon"] and "noble gas" in reasons["solid neon"]
    assert "batch.json#2" in reasons["UH"] and "U is outside Z 1-86" in reasons["UH"]
    assert "broken.cif" in reasons["broken.cif"]

    rows = query(models_db, "SELECT input_path, formula, tc_K, composition_tc_K FROM "
                 "structure_prediction")  # fmt: skip
    assert len(rows) == 1  # the latest per structure
    path, formula, tc, chem = rows[0]
    assert path.endswith(("MgH13.cif", "batch.json#0"))
    assert formula == "MgH13" and tc == pytest.approx(predicted.tc_K.iloc[0])
    assert chem == pytest.approx(predicted.composition_tc_K.iloc[0])


def test_a_model_run_of_another_kind_is_refused(trained_models):
    with pytest.raises(RunError, match="not cvcnn"):
        StructuralModel.load(trained_models.composition)


def test_a_small_morph_grid_lands_in_the_database_and_matches_direct_predictions(
    models_db, trained_models, model
):
    params = dataclasses.replace(MORPH, scan_points=3)
    family = FAMILIES["mgh13-xy"]
    conn = connect(models_db)
    try:
        for _ in range(2):  # a rerun adds nothing
            (outcome,) = run_family(conn, model, family, trained_models.composition_predictor,
                                    params, only=["H", "Li", "Mg"], progress=False,
                                    references=read_references(conn, family))  # fmt: skip
    finally:
        conn.close()
    assert outcome.candidates == outcome.predicted == 27
    assert query(models_db, "SELECT count(*) FROM morph_candidate")[0][0] == 27
    summary = query(
        models_db,
        "SELECT x_element, y_element, formula, tc_peak_K, tc_lowest_K, n_scales, "
        "composition_tc_K FROM morph_summary ORDER BY x_element, y_element",
    )
    assert len(summary) == 9
    assert all(n == 3 and peak >= low and chem is not None for *_, peak, low, n, chem in summary)
    li_h = next(row for row in summary if row[:2] == ("Li", "H"))
    assert li_h[2] == "LiH13"

    reference = load_reference_file(REFERENCES / "MgH13_Fm-3m_200GPa.cif")
    morphs = generate(family, reference, params, only=["Li"])
    direct, _, _ = model.predict([Builder(reference).build(m) for m in morphs], [225] * 3)
    stored = query(models_db, "SELECT tc_K FROM morph_prediction WHERE x_element = 'Li' "
                   "AND y_element = 'Li' ORDER BY lattice_scale")  # fmt: skip
    assert np.allclose([t for (t,) in stored], direct, rtol=1e-5)
    top = query(models_db, "SELECT rank, formula FROM morph_top_candidates ORDER BY rank")
    assert [r for r, _ in top] == list(range(1, 10))


def test_predict_command_prints_saves_and_reports(models_db, trained_models, tmp_path):
    _write_inputs(tmp_path)
    out = tmp_path / "predictions.csv"
    result = invoke_tcdb("--db", str(models_db), "predict", str(tmp_path / "MgH13.cif"),
                         str(tmp_path / "broken.cif"), "--output", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    # the default run is the rule's: the experts hold the only grouped run here
    assert "MgH13" in result.stdout and trained_models.experts.run_id in result.stdout
    assert "structure-experts ranks" in result.stderr and "validation r²" in result.stderr
    assert " ± " in result.stdout  # the experts' spread and the composition run's
    (verdict,) = query(
        models_db,
        "SELECT in_domain FROM prediction WHERE subject_kind = "
        "'input_structure' AND model_run_id = ?",
        trained_models.experts.run_id,
    )
    assert verdict[0] is not None  # the experts judge every structure they predict
    network = invoke_tcdb("--db", str(models_db), "predict", str(tmp_path / "MgH13.cif"),
                          "--run", "latest", "--no-store")  # fmt: skip
    assert network.returncode == 0 and trained_models.cvcnn.name in network.stdout
    assert "failed:" in result.stderr and "broken.cif" in result.stderr
    assert out.read_text().count("\n") == 3  # header, one prediction, one failure

    nothing = invoke_tcdb("--db", str(models_db), "predict", str(tmp_path / "broken.cif"))
    assert nothing.returncode == 1


def test_predict_with_no_usable_input_names_every_reason_in_sentences(models_db, tmp_path):
    """Only unreadable inputs (a broken CIF, a binary file, a path that does not exist): each
    reason is printed and the command ends with one sentence and exit 1, not a traceback."""
    (tmp_path / "broken.cif").write_text("data_broken\n")
    (tmp_path / "binary.cif").write_bytes(b"\x00\xff\xfe\x89PNG\r\n")
    missing = tmp_path / "nowhere.cif"
    result = invoke_tcdb("--db", str(models_db), "predict", str(tmp_path / "broken.cif"),
                         str(tmp_path / "binary.cif"), str(missing))  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for name in ("broken.cif", "binary.cif", "nowhere.cif"):
        assert name in result.stderr
    assert result.stderr.count("failed:") == 3
    assert result.stderr.strip().splitlines()[-1].startswith("error: None of the 3 input(s)")


def test_reference_structures_are_read_by_the_caller_and_handed_in(
    models_db, model, migrated_template, tmp_path
):
    from tcdb.ml.structural.morphs import MorphError, reference_id

    family = FAMILIES["dome"]
    conn = connect(models_db)
    try:
        references = read_references(conn, family)
        assert [r.id for r in references] == [reference_id(n) for n in family.references]
        with pytest.raises(MorphError, match="morphs 2 reference structures"):
            run_family(conn, model, family, progress=False, references=references[:1])
    finally:
        conn.close()
    # a database where nothing was ingested
    empty = connect(migrated_copy(migrated_template, tmp_path / "empty.duckdb"))
    try:
        with pytest.raises(MorphError, match="Li2MgH16_Fd-3m_250GPa is not in the database"):
            read_references(empty, family)
    finally:
        empty.close()


def test_predict_structures_is_the_same_command_as_predict_path(models_db, tmp_path):
    """'tcdb predict PATH' (what the README and the Makefile run) falls back to 'tcdb predict
    structures PATH'; both print the same table."""
    _write_inputs(tmp_path)
    cif = str(tmp_path / "MgH13.cif")
    short = invoke_tcdb("--db", str(models_db), "predict", cif, "--no-store")
    named = invoke_tcdb("--db", str(models_db), "predict", "structures", cif, "--no-store")
    options_first = invoke_tcdb("--db", str(models_db), "predict", "--no-store", cif)
    assert short.returncode == named.returncode == options_first.returncode == 0, short.stderr
    assert "MgH13" in short.stdout
    assert short.stdout == named.stdout == options_first.stdout
