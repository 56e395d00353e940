"""The structural model's inputs per snapshot row: deduplication, equality with the direct
calls, errors naming the structure, and the content-hashed cache (hit, miss, corruption).

The frame is built from the first real Materials Project CIFs (skipped when the mirror is
absent), plus a repeated structure and a noble-gas variant of a real one.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Structure

from tcdb.core.cells import standard_cell
from tcdb.core.structures import iter_tar_cifs, parse_structure
from tcdb.ml import structure_features as sf
from tcdb.ml.composition_descriptors import NUMERICAL_LABELS, numerical_matrix
from tcdb.ml.fourier import FourierConfig, batch_coefficients
from tcdb.ml.structure_features import FeatureConfig, structure_features

REPO = Path(__file__).resolve().parents[2]
SOURCES = Path(os.environ.get("TCDB_SOURCES") or REPO.parent / "shared" / "data")
MP_ARCHIVE = SOURCES / "materials_project" / "mp_structures.tar.gz"
N_REAL = 10
MAX_COUNTED_Z = 86  # the numerical descriptors count elements 1-86 only
REPEATED = "mp-repeat"  # a second row of the first structure (a structure with two labels)
NOBLE = "mp-noble"  # the AgB2-type cell with Ag replaced by Xe


def _real_rows() -> tuple[list[dict], dict]:
    """The first N_REAL CIFs whose elements the descriptors cover, and one that they do not."""
    rows: list[dict] = []
    outside: dict = {}
    for name, text in itertools.islice(iter_tar_cifs(MP_ARCHIVE), 40):
        record = parse_structure(text, name)
        if not hasattr(record, "structure_json") or record.spacegroup_number is None:
            continue
        structure = Structure.from_dict(json.loads(record.structure_json))
        row = {
            "structure_id": Path(name).stem,
            "structure_json": record.structure_json,
            "spacegroup_number": record.spacegroup_number,
        }
        if max(element.Z for element in structure.composition) > MAX_COUNTED_Z:
            outside = outside or row
        elif len(rows) < N_REAL:
            rows.append(row)
        if len(rows) == N_REAL and outside:
            break
    return rows, outside


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, dict]:
    """(frame of N_REAL real rows + a repeat + a noble-gas row, a row with Z > 86)."""
    if not MP_ARCHIVE.is_file():
        pytest.skip(f"the Materials Project mirror is not at {MP_ARCHIVE}; set TCDB_SOURCES")
    rows, outside = _real_rows()
    if len(rows) < N_REAL or not outside:
        pytest.skip("the mirror's first CIFs do not give the structures these tests need")
    host = next(r for r in rows if {e.symbol for e in _structure(r).composition} >= {"Ag"})
    noble = _structure(host).copy()
    noble.replace_species({"Ag": "Xe"})
    rows.insert(3, {**host, "structure_id": NOBLE, "structure_json": json.dumps(noble.as_dict())})
    rows.append({**rows[0], "structure_id": REPEATED})
    return pd.DataFrame(rows), outside


@pytest.fixture
def frame(frames: tuple[pd.DataFrame, dict]) -> pd.DataFrame:
    return frames[0].copy()


def _structure(row: dict) -> Structure:
    return Structure.from_dict(json.loads(row["structure_json"]))


def _row(frame: pd.DataFrame, structure_id: str) -> int:
    return int(np.flatnonzero(frame["structure_id"].to_numpy() == structure_id)[0])


class Calls:
    """Counts the structures passed to the two feature functions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fourier: list[int] = []
        self.numerical: list[int] = []

        def fourier(structures, config, *args, **kwargs):
            self.fourier.append(len(structures))
            return batch_coefficients(structures, config, *args, **kwargs)

        def numerical(structures, *args, **kwargs):
            self.numerical.append(len(structures))
            return numerical_matrix(structures, *args, **kwargs)

        monkeypatch.setattr(sf, "batch_coefficients", fourier)
        monkeypatch.setattr(sf, "numerical_matrix", numerical)


def _forbid_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("features were computed although the cache should have served them")

    for name in ("batch_coefficients", "numerical_matrix", "_parse"):
        monkeypatch.setattr(sf, name, refuse)


def _same(a: sf.StructureFeatures, b: sf.StructureFeatures) -> None:
    np.testing.assert_array_equal(a.fourier, b.fourier)
    np.testing.assert_array_equal(a.numerical, b.numerical)
    np.testing.assert_array_equal(a.valid, b.valid)
    assert a.errors == b.errors


# --- shapes, deduplication, equality with the direct calls ----------------------------------


def test_shapes_labels_and_config(frame: pd.DataFrame) -> None:
    features = structure_features(frame, progress=False)
    n = len(frame)
    assert features.fourier.shape == (n, 13, 13, 13, 2)
    assert features.fourier.dtype == np.complex64
    assert features.numerical.shape == (n, 175)
    assert features.labels == NUMERICAL_LABELS and len(features.labels) == 175
    assert features.valid.dtype == bool and features.valid.shape == (n,)
    assert features.structure_hashes.shape == (n,)
    assert features.cache_path is None and not features.cache_hit
    assert features.config == FeatureConfig()
    recorded = json.loads(json.dumps(features.config.as_dict()))
    assert recorded["fourier"]["delta"] == 13 and recorded["composition"]["impute"] == "mean"
    assert features.report()["rows"] == n


def test_repeated_rows_are_computed_once_and_identical(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Calls(monkeypatch)
    features = structure_features(frame, progress=False)
    first, repeat = _row(frame, frame["structure_id"][0]), _row(frame, REPEATED)
    distinct = len(frame) - 1
    assert features.n_distinct == features.n_computed == distinct
    assert sum(calls.fourier) == distinct
    assert sum(calls.numerical) == distinct  # both kinds see every parsed structure
    np.testing.assert_array_equal(features.fourier[repeat], features.fourier[first])
    np.testing.assert_array_equal(features.numerical[repeat], features.numerical[first])
    assert features.structure_hashes[repeat] == features.structure_hashes[first]
    assert features.valid[repeat] and features.valid[first]


def test_features_equal_the_direct_calls(frame: pd.DataFrame) -> None:
    features = structure_features(frame, progress=False)
    given = [Structure.from_dict(json.loads(text)) for text in frame["structure_json"]]
    structures = [standard_cell(structure).structure for structure in given]
    fourier, refused = batch_coefficients(structures, FourierConfig())
    numerical = numerical_matrix(structures, space_groups=frame["spacegroup_number"].tolist())
    valid = features.valid
    assert set(refused) == {_row(frame, NOBLE)} and not numerical.errors
    np.testing.assert_array_equal(features.fourier[valid], fourier[valid])
    np.testing.assert_array_equal(features.numerical[valid], numerical.X[valid])
    assert np.isnan(features.fourier[~valid]).all() and np.isnan(features.numerical[~valid]).all()
    space_group = NUMERICAL_LABELS.index("space_group_number")
    expected = frame["spacegroup_number"].to_numpy(float)[valid]
    np.testing.assert_array_equal(features.numerical[valid, space_group], expected)


def test_the_known_space_group_is_used_without_a_symmetry_search(
    frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tcdb.ml.composition_descriptors as cd

    def no_search(*args, **kwargs):
        raise AssertionError("SpacegroupAnalyzer was called")

    monkeypatch.setattr(cd, "space_group_number", no_search)
    frame.loc[0, "spacegroup_number"] = 1  # not its true group: must be taken as given
    features = structure_features(frame, progress=False)
    assert features.numerical[0, NUMERICAL_LABELS.index("space_group_number")] == 1.0
    assert features.valid[0]


# --- errors ---------------------------------------------------------------------------------


def test_a_refused_structure_is_reported_by_id_and_only_it_is_invalid(frame: pd.DataFrame) -> None:
    features = structure_features(frame, progress=False)
    noble = _row(frame, NOBLE)
    assert list(features.errors) == [noble]
    assert NOBLE in features.errors[noble] and "noble gas" in features.errors[noble]
    assert "Xe" in features.errors[noble]
    assert features.valid.tolist() == [row != noble for row in range(len(frame))]


def test_other_failures_are_reported_per_row(
    frames: tuple[pd.DataFrame, dict], frame: pd.DataFrame
) -> None:
    outside = {**frames[1], "structure_id": "mp-outside"}
    no_group = {**frame.iloc[1].to_dict(), "structure_id": "mp-nogroup", "spacegroup_number": None}
    broken = {**frame.iloc[2].to_dict(), "structure_id": "mp-broken", "structure_json": "{"}
    extended = pd.concat([frame, pd.DataFrame([outside, no_group, broken])], ignore_index=True)
    features = structure_features(extended, progress=False)
    n = len(frame)
    assert sorted(features.errors) == sorted([_row(frame, NOBLE), n, n + 1, n + 2])
    assert "mp-outside" in features.errors[n] and "numerical descriptors" in features.errors[n]
    assert "mp-nogroup" in features.errors[n + 1] and "space-group" in features.errors[n + 1]
    assert "mp-broken" in features.errors[n + 2] and "parsed" in features.errors[n + 2]
    assert features.valid[:n].sum() == n - 1 and not features.valid[n:].any()


def test_missing_columns_are_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="spacegroup_number"):
        structure_features(frame.drop(columns="spacegroup_number"), progress=False)


# --- the cache ------------------------------------------------------------------------------


def test_a_second_call_is_a_cache_hit_that_computes_nothing(
    frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = structure_features(frame, cache_dir=tmp_path, progress=False)
    assert not cold.cache_hit and cold.n_computed == len(frame) - 1
    assert cold.cache_path is not None and cold.cache_path.is_file()
    assert cold.cache_path.parent.parent == tmp_path
    assert [p.name for p in cold.cache_path.parent.iterdir()] == [sf.CACHE_FILE]
    with monkeypatch.context() as patch:
        _forbid_computing(patch)
        warm = structure_features(frame, cache_dir=tmp_path, progress=False)
        shuffled = frame.sample(frac=1.0, random_state=3)
        reordered = structure_features(shuffled, cache_dir=tmp_path, progress=False)
    assert warm.cache_hit and warm.n_computed == 0 and warm.cache_path == cold.cache_path
    _same(warm, cold)
    assert warm.imputed_values == cold.imputed_values
    assert warm.imputed_structures == cold.imputed_structures
    assert reordered.cache_hit
    order = shuffled.index.to_numpy()
    np.testing.assert_array_equal(reordered.fourier, cold.fourier[order])
    np.testing.assert_array_equal(reordered.numerical, cold.numerical[order])
    assert {int(order[row]): text for row, text in reordered.errors.items()} == cold.errors


def test_another_config_or_other_structures_miss_the_cache(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    cold = structure_features(frame, cache_dir=tmp_path, progress=False)
    smaller = FeatureConfig(fourier=FourierConfig(delta=5))
    other_config = structure_features(frame, smaller, cache_dir=tmp_path, progress=False)
    assert not other_config.cache_hit and other_config.fourier.shape[1:] == (5, 5, 5, 2)
    fewer = structure_features(frame.drop(index=1), cache_dir=tmp_path, progress=False)
    assert not fewer.cache_hit and fewer.n_computed == len(frame) - 2
    moved = frame.copy()
    moved.loc[0, "spacegroup_number"] = 2  # a space-group number is an input too
    other_group = structure_features(moved, cache_dir=tmp_path, progress=False)
    assert not other_group.cache_hit
    paths = {cold.cache_path, other_config.cache_path, fewer.cache_path, other_group.cache_path}
    assert len(paths) == 4 and all(p.is_file() for p in paths)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "other_hashes"])
def test_a_damaged_cache_file_is_recomputed_with_a_warning(
    frame: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    cold = structure_features(frame, cache_dir=tmp_path, progress=False)
    path = cold.cache_path
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # inside the Fourier array's data: only the zip CRC can tell
        with np.load(path) as archive:
            start = data.find(archive["fourier"][1].tobytes()[:64])
        assert start > 0
        data[start + 8] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "garbage":
        path.write_bytes(b"not a cache file")
    else:  # a valid file of the same size written for other structures
        moved = frame.copy()
        moved.loc[1, "spacegroup_number"] = 2
        other = structure_features(moved, cache_dir=tmp_path / "other", progress=False)
        path.write_bytes(other.cache_path.read_bytes())
    calls = Calls(monkeypatch)
    with caplog.at_level(logging.WARNING, logger=sf.__name__):
        again = structure_features(frame, cache_dir=tmp_path, progress=False)
    assert not again.cache_hit and again.n_computed == len(frame) - 1
    assert sum(calls.fourier) == len(frame) - 1
    assert any("ignoring the feature cache" in r.getMessage() for r in caplog.records)
    _same(again, cold)
    with monkeypatch.context() as patch:  # the file was rewritten whole
        _forbid_computing(patch)
        assert structure_features(frame, cache_dir=tmp_path, progress=False).cache_hit
    assert not list(path.parent.glob("*.tmp"))
