"""Predicting holds no connection: given a Database, morph runs and structure predictions open
it only to read their inputs and to store their results, so other processes can read and write
while the network computes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from tcdb.cli.discovery import read_references
from tcdb.core.structure_files import read_structure_inputs
from tcdb.ml.structural.morph_runs import run_family
from tcdb.ml.structural.morphs import FAMILIES
from tcdb.ml.structural.parameters import MORPH
from tcdb.ml.structural.predictions import predict_inputs
from tcdb.ml.structural.predictor import StructuralModel
from tcdb.schema.database import Database
from tests.conftest import SOURCES, query


@dataclasses.dataclass
class FileFreeWhilePredicting:
    """A structural model that, each time it predicts, proves no connection to ``db`` is open:
    DuckDB refuses a second connection with another mode to a file this process holds."""

    model: StructuralModel
    db: Path
    calls: int = 0

    @property
    def run_id(self) -> str:
        return self.model.run_id

    @property
    def features(self):
        return self.model.features

    def _check_free(self) -> None:
        for read_only in (True, False):
            try:
                duckdb.connect(str(self.db), read_only=read_only).close()
            except duckdb.Error as exc:
                pytest.fail(f"the database was held while predicting: {exc}")
        self.calls += 1

    def predict(self, *args, **kwargs):
        self._check_free()
        return self.model.predict(*args, **kwargs)

    def predict_features(self, *args, **kwargs):  # morph runs predict features made ahead
        self._check_free()
        return self.model.predict_features(*args, **kwargs)


@pytest.fixture(scope="module")
def model(trained_models):
    return StructuralModel.load(trained_models.cvcnn)


def test_a_morph_run_holds_no_connection_while_predicting(models_db, trained_models, model):
    probe = FileFreeWhilePredicting(model, models_db)
    params = dataclasses.replace(MORPH, scan_points=2)
    family = FAMILIES["mgh13-xy"]
    references = read_references(Database(models_db), family)
    (outcome,) = run_family(Database(models_db), probe, family,
                            trained_models.composition_predictor, params, only=["H", "Li"],
                            progress=False, references=references)  # fmt: skip
    assert probe.calls > 0
    assert outcome.predicted == 8
    assert query(models_db, "SELECT count(*) FROM morph_candidate") == [(8,)]


def test_predicting_inputs_holds_no_connection(models_db, trained_models, model, tmp_path):
    shutil.copy(SOURCES / "reference" / "structures" / "MgH13_Fm-3m_200GPa.cif", tmp_path)
    inputs, failures = read_structure_inputs([tmp_path])
    probe = FileFreeWhilePredicting(model, models_db)
    frame = predict_inputs(Database(models_db), probe, inputs, failures,
                           trained_models.composition_predictor)  # fmt: skip
    assert probe.calls == 1 and (frame.status == "predicted").all()
    assert query(models_db, "SELECT count(*) FROM structure_prediction") == [(1,)]
