"""The structural model's two named configurations through the command line: `--configuration
authors` trains the authors' network on the authors' Fourier input, the run records both by
name with every value, loads back with the same features, and runs recorded before the
configurations existed still load as they were trained."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure

from tcdb.ml.registry import get
from tcdb.ml.structural.cvcnn import ConfigurationError, configured
from tcdb.ml.structural.parameters import CVCNN_CONFIGURATIONS, CVCNN_PROFILES
from tcdb.ml.structural.predictor import StructuralModel
from tcdb.ml.structure_features import (
    FEATURE_PRESETS,
    CellConfig,
    FeatureConfig,
    FeaturePresetError,
    feature_preset,
)
from tcdb.schema.database import connect
from tcdb.store.model_runs import resolve_run
from tests.commands import REPO, invoke_tcdb
from tests.conftest import SOURCES, query

RECORDED_BEFORE = Path(__file__).parent / "data" / "features_recorded_before_configurations.json"
MGH13 = SOURCES / "reference" / "structures" / "MgH13_Fm-3m_200GPa.cif"


@pytest.fixture
def training_db(structures_snapshot, curated_db):
    """A curated database with the structures snapshot where the commands look for it."""
    shutil.copytree(
        structures_snapshot.path, curated_db.parent / "snapshots" / structures_snapshot.id
    )
    return curated_db


def test_a_configuration_is_under_the_profile_which_is_under_explicit_options():
    model = get("cvcnn")
    default = model.configure("smoke")
    assert default == configured("tcdb", **CVCNN_PROFILES["smoke"])
    authors = model.configure("smoke", seed=3, configuration="authors")
    assert (authors.configuration, authors.epochs, authors.seed) == ("authors", 2, 3)
    assert authors.batch_size == CVCNN_CONFIGURATIONS["authors"]["batch_size"]
    assert model.configure("paper", configuration="authors", epochs=7).epochs == 7
    with pytest.raises(ConfigurationError, match="No cvcnn configuration 'paper'"):
        model.configure("smoke", configuration="paper")


def test_every_configuration_names_a_feature_preset():
    for values in CVCNN_CONFIGURATIONS.values():
        assert feature_preset(values["features"]) is FEATURE_PRESETS[values["features"]]
    assert FEATURE_PRESETS["tcdb"] == FeatureConfig()
    with pytest.raises(FeaturePresetError, match="the presets are tcdb, authors"):
        feature_preset("paper")


def test_runs_recorded_before_the_configurations_still_match_their_features():
    recorded = json.loads(RECORDED_BEFORE.read_text())
    assert FeatureConfig.matching(recorded) == FEATURE_PRESETS["tcdb"]
    unstandardised = {k: v for k, v in recorded.items() if k != "cell"}
    assert FeatureConfig.matching(unstandardised) == FeatureConfig(cell=CellConfig(False))


@pytest.mark.parametrize("name", list(FEATURE_PRESETS))
def test_every_preset_is_rebuilt_from_what_a_manifest_records(name):
    preset = FEATURE_PRESETS[name]
    recorded = json.loads(json.dumps(preset.as_dict()))  # as the manifest stores it
    assert FeatureConfig.matching(recorded) == preset
    as_given = FeatureConfig(preset.fourier, preset.composition, CellConfig(False))
    assert FeatureConfig.matching(json.loads(json.dumps(as_given.as_dict()))) == as_given
    assert FeatureConfig.matching({**recorded, "format_version": -1}) is None


def test_the_authors_configuration_trains_through_the_cli_and_loads_back(
    training_db, structures_snapshot
):
    snapshot_id = structures_snapshot.id
    trained = invoke_tcdb("--db", str(training_db), "train", "cvcnn", "--snapshot", snapshot_id,
                          "--profile", "smoke", "--configuration", "authors")  # fmt: skip
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "(profile smoke, configuration authors: 2 epochs" in trained.stdout

    (config_json,) = query(training_db, "SELECT config_json FROM model_run WHERE model = 'cvcnn'")[
        0
    ]
    recorded = json.loads(config_json)
    assert recorded["configuration"] == "authors" and recorded["feature_preset"] == "authors"
    assert recorded["cvcnn"] == configured("authors", **CVCNN_PROFILES["smoke"], seed=0).as_dict()
    assert recorded["features"] == json.loads(json.dumps(FEATURE_PRESETS["authors"].as_dict()))
    # the features it trained on are the authors' preset's, filed under that preset's key
    from tcdb.ml.structural.feature_cache_keys import feature_cache_key

    frame = structures_snapshot.structures
    cached = [path.name for path in (training_db.parent / "cache").iterdir()]
    assert cached == [feature_cache_key(frame, recorded["features"])]
    assert feature_cache_key(frame, FEATURE_PRESETS["tcdb"].as_dict()) not in cached

    conn = connect(training_db, read_only=True)
    try:
        run = resolve_run(training_db.parent / "runs", conn, "latest", "cvcnn")
    finally:
        conn.close()
    model = StructuralModel.load(run)
    assert model.features == FEATURE_PRESETS["authors"]
    kinds = [type(layer).__name__ for layer in model.networks[0].layers]
    assert kinds.count("BatchNormalization") == 8
    tc, _, errors = model.predict([Structure.from_file(MGH13)], [225])
    assert errors == {} and np.isfinite(tc).all() and (tc >= 0).all()


def test_make_train_passes_the_models_own_options_on():
    printed = subprocess.run(
        ["make", "-n", "--no-print-directory", "train", "MODEL=cvcnn", "SNAPSHOT=s1",
         "PROFILE=smoke", "ARGS=--configuration authors --epochs 3"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    (line,) = [shlex.split(text) for text in printed.stdout.splitlines() if text.strip()]
    assert line[1:] == ["train", "cvcnn", "--snapshot", "s1", "--profile", "smoke",
                        "--configuration", "authors", "--epochs", "3"]  # fmt: skip
