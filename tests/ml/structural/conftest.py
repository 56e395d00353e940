"""The structural model trained once through the command line for the tests of both the
grouped protocol and ensembles: a smoke run of two networks under the grouped protocol."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import numpy as np
import pytest

from tests.conftest import CommandTraining, built_once, train_through_the_command


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
    with built_once(tmp_path_factory, "grouped-ensemble") as (folder, build):
        db = folder / "tcdb.duckdb"
        if build:
            shutil.copy(trained_models.db, db)
            shutil.copytree(trained_models.db.parent / "cache", folder / "cache")
            training, splits = _train_recording_splits(db, structures_snapshot)
            training.save(folder / "training.json")
            np.savez(folder / "splits.npz", *(rows for split in splits for rows in split))
        training = CommandTraining.read(db, folder / "training.json")
        with np.load(folder / "splits.npz") as saved:
            rows = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    return RecordedTraining(training, list(zip(rows[::2], rows[1::2], strict=True)))


def _train_recording_splits(db, snapshot) -> tuple[CommandTraining, list[tuple]]:
    """The command's training, with the split each network was handed."""
    from tcdb.ml.structural import cvcnn

    given: list[tuple[np.ndarray, np.ndarray]] = []
    real = cvcnn.train_cvcnn

    def recording(*args, split, **kwargs):
        given.append(split)
        return real(*args, split=split, **kwargs)

    options = ("--profile", "smoke", "--protocol", "grouped", "--members", "2")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cvcnn, "train_cvcnn", recording)
        training = train_through_the_command(db, "cvcnn", snapshot, *options)
    return training, given
