"""Structures handed over for prediction: CIF, POSCAR and JSON inputs are read, and every input
that cannot be used is reported with its file (and item) instead of stopping the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from tcdb.core.structure_files import read_structure_inputs
from tests.conftest import SOURCES

REFERENCE = SOURCES / "reference"


def _nacl() -> Structure:
    return Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_cif_poscar_and_json_inputs_are_read(tmp_path):
    structure = _nacl()
    structure.to(filename=str(tmp_path / "nacl.cif"))
    structure.to(filename=str(tmp_path / "POSCAR"), fmt="poscar")
    items = [structure.as_dict(), {"name": "rock salt", "structure": structure.as_dict()}]
    (tmp_path / "many.json").write_text(json.dumps(items))

    inputs, failures = read_structure_inputs([tmp_path])

    assert failures == []
    assert sorted(i.name for i in inputs) == ["POSCAR", "many.json#0", "nacl.cif", "rock salt"]
    assert {i.record.reduced_formula for i in inputs} == {"NaCl"}
    assert {i.record.spacegroup_number for i in inputs} == {221}  # CsCl-type cell as given


def test_each_bad_input_is_named_with_its_reason_and_the_rest_are_kept(tmp_path):
    _nacl().to(filename=str(tmp_path / "good.cif"))
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a 3\n")
    (tmp_path / "POSCAR_bad").write_text("not a poscar\n")
    (tmp_path / "list.json").write_text(json.dumps([_nacl().as_dict(), {"lattice": "nope"}]))
    (tmp_path / "text.json").write_text("{not json")

    inputs, failures = read_structure_inputs([tmp_path, tmp_path / "missing.cif"])

    assert [i.name for i in inputs] == ["good.cif", "list.json#0"]
    reasons = {Path(f.path).name: f.reason for f in failures}
    assert set(reasons) == {"broken.cif", "POSCAR_bad", "list.json#1", "text.json", "missing.cif"}
    for name, reason in reasons.items():
        assert name in reason  # every sentence names the input it is about
    assert "no such file" in reasons["missing.cif"]
    assert "not valid JSON" in reasons["text.json"]


def test_an_empty_folder_is_reported(tmp_path):
    inputs, failures = read_structure_inputs([tmp_path])
    assert inputs == [] and "no CIF, POSCAR or JSON" in failures[0].reason


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the reference structures are not here")
def test_the_reference_structures_read_with_their_space_groups():
    inputs, failures = read_structure_inputs([REFERENCE / "structures"])
    assert failures == []
    groups = {i.name: i.record.spacegroup_number for i in inputs}
    assert groups["MgH13_Fm-3m_200GPa.cif"] == 225
    assert groups["H3S_Im-3m_200GPa.cif"] == 229
    assert groups["Li2MgH16_Fd-3m_250GPa.cif"] == 227
