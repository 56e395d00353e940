"""The structural model trained once through the command line for the tests of both the
grouped protocol and ensembles: a smoke run of two networks under the grouped protocol."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np
import pytest

from tests.conftest import CommandTraining, train_through_the_command


@dataclass(frozen=True)
class RecordedTraining:
    """A command's training and the (training rows, validation rows) split each of its
    networks was handed, in the order they were trained."""

    training: CommandTraining
    splits: list[tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="session")
def grouped_ensemble(trained_models, structures_snapshot, tmp_path_factory) -> RecordedTraining:
    """`tcdb train cvcnn --profile smoke --protocol grouped --members 2` on a copy of the
    trained models' database (their features cached), recording the split given to each
    network: what the grouped protocol's test and the ensemble's command-line test read, one
    full-size training for both instead of one each."""
    from tcdb.ml.structural import cvcnn

    db = tmp_path_factory.mktemp("grouped-ensemble") / "tcdb.duckdb"
    shutil.copy(trained_models.db, db)
    shutil.copytree(trained_models.db.parent / "cache", db.parent / "cache")
    given: list[tuple[np.ndarray, np.ndarray]] = []
    real = cvcnn.train_cvcnn

    def recording(*args, split, **kwargs):
        given.append(split)
        return real(*args, split=split, **kwargs)

    options = ("--profile", "smoke", "--protocol", "grouped", "--members", "2")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cvcnn, "train_cvcnn", recording)
        training = train_through_the_command(db, "cvcnn", structures_snapshot, *options)
    return RecordedTraining(training, given)
