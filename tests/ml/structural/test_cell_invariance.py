"""A trained structural model gives one T_c per crystal, whatever cell it is handed: the CaH6
crystal as a 1×, 2×, 3× and 7× supercell, rotated, translated or with its sites re-ordered."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.core import Structure
from pymatgen.core.operations import SymmOp

from tcdb.ml.structural.predictor import StructuralModel
from tcdb.ml.structure_features import CellConfig, FeatureConfig
from tests.conftest import SOURCES

CAH6 = SOURCES / "literature" / "structures" / "100GPa_Im-3m_CaH6.cif"
IM_3M = 229
TOLERANCE_K = 1e-3


@pytest.fixture(scope="module")
def model(trained_models) -> StructuralModel:
    return StructuralModel.load(trained_models.cvcnn)


def _cah6() -> Structure:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Structure.from_file(CAH6)


def _copies(crystal: Structure) -> dict[str, Structure]:
    rotated = crystal.copy()
    rotated.apply_operation(SymmOp.from_axis_angle_and_translation([1, 2, 3], 37.0))
    translated = crystal.copy()
    translated.translate_sites(list(range(len(crystal))), [0.137, 0.41, 0.77])
    order = np.random.default_rng(0).permutation(len(crystal))
    permuted = Structure(
        crystal.lattice, [crystal[i].species for i in order], crystal.frac_coords[order]
    )
    return {
        "as given": crystal,
        "2x1x1": crystal * (2, 1, 1),
        "3x1x1": crystal * (3, 1, 1),
        "7x1x1": crystal * (7, 1, 1),
        "2x2x2": crystal * (2, 2, 2),
        "rotated": rotated,
        "translated": translated,
        "permuted": permuted,
    }


def test_every_cell_of_cah6_gets_the_same_tc(model):
    copies = _copies(_cah6())
    tc, _, errors = model.predict(list(copies.values()), [IM_3M] * len(copies))
    assert errors == {}
    spread = {name: abs(value - tc[0]) for name, value in zip(copies, tc, strict=True)}
    assert max(spread.values()) < TOLERANCE_K, spread


def test_without_the_standard_cell_the_supercells_disagree(model):
    """The check above can fail: featurising the cell as given moves even the small test
    model by far more than the tolerance."""
    as_given = StructuralModel(
        **{**model.__dict__, "features": FeatureConfig(cell=CellConfig(False))}
    )
    crystal = _cah6()
    tc, _, _ = as_given.predict([crystal, crystal * (7, 1, 1)], [IM_3M, IM_3M])
    assert abs(tc[0] - tc[1]) > 100 * TOLERANCE_K


def test_runs_record_the_cell_they_were_trained_on(trained_models):
    recorded = trained_models.cvcnn.manifest["config"]["features"]
    assert recorded["cell"]["symprec"] == 0.1
    assert FeatureConfig.matching(recorded) == FeatureConfig()


def test_a_run_from_before_the_standard_cell_loads_as_it_was_trained():
    before = FeatureConfig(cell=CellConfig(standardise=False)).as_dict()
    assert "cell" not in before
    assert FeatureConfig.matching(before).cell.standardise is False
    assert FeatureConfig.matching({**before, "format_version": -1}) is None
