"""Structures too large to parse: a CIF of 10⁶ sites took over 10 minutes. Each is refused
with one sentence before pymatgen expands its sites (quadratic in their number) or spglib
searches them; the limits are ``max_structure_sites`` and ``max_structure_bytes``."""

from __future__ import annotations

import json
import time

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.groups import SpaceGroup

from tcdb.core.parameters import INGEST
from tcdb.core.records import Rejection
from tcdb.core.structure_files import read_structure_inputs
from tcdb.core.structures import StructureRecord, parse_structure, record_from_structure

CELL = """data_hostile
_cell_length_a 100
_cell_length_b 100
_cell_length_c 100
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
"""
SITES = """loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
"""


def cif(n_sites: int, operations: list[str] = ("x, y, z",)) -> str:
    """A CIF listing ``n_sites`` hydrogen atoms at distinct general positions."""
    ops = "loop_\n_symmetry_equiv_pos_as_xyz\n" + "".join(f" '{op}'\n" for op in operations)
    rows = "".join(
        f" H{i} H {0.01 + 0.4 * (i * 7919 % 1009) / 1009:.6f} "
        f"{0.02 + 0.4 * (i * 104729 % 1013) / 1013:.6f} "
        f"{0.03 + 0.4 * (i * 15485863 % 1019) / 1019:.6f} 1\n"
        for i in range(n_sites)
    )
    return CELL + ops + SITES + rows


@pytest.fixture(scope="module", autouse=True)
def pymatgen_imported() -> None:
    """Time the refusals, not pymatgen's first import (about 1.5 s)."""
    parse_structure(cif(1), "warm.cif")


def refused(text: str, seconds: float) -> Rejection:
    start = time.perf_counter()
    outcome = parse_structure(text, "hostile.cif")
    elapsed = time.perf_counter() - start
    assert isinstance(outcome, Rejection), outcome
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    return outcome


def test_a_cif_of_a_million_sites_is_refused_by_its_length_at_once():
    text = CELL + SITES + " H1 H 0.123456 0.234567 0.345678 1\n" * 1_000_000  # 37 MB
    outcome = refused(text, 0.5)
    assert outcome.reason_code == "file_too_large"
    assert "max_structure_bytes" in outcome.reason


def test_twenty_thousand_sites_within_the_byte_limit_are_counted_not_expanded():
    text = cif(20_000)
    assert len(text) < INGEST.max_structure_bytes
    outcome = refused(text, 1.5)
    assert outcome.reason_code == "too_many_sites"
    assert outcome.reason == (
        "hostile.cif: the CIF lists 20,000 atom sites, more than the limit of 2,000 "
        "(max_structure_sites); it was not expanded."
    )


def test_a_small_cif_whose_symmetry_makes_19200_sites_is_refused_before_expansion():
    operations = [op.as_xyz_str() for op in SpaceGroup("Fm-3m").symmetry_ops]
    outcome = refused(cif(100, operations), 0.5)
    assert outcome.reason_code == "too_many_sites"
    assert "expand to about 19,200 sites under 192 symmetry operations" in outcome.reason


def test_more_symmetry_operations_than_any_space_group_has_are_refused():
    outcome = refused(cif(1, ["x, y, z"] * 5000), 0.5)
    assert outcome.reason_code == "too_many_sites"
    assert "lists 5,000 symmetry operations" in outcome.reason


def test_a_structure_at_the_limit_still_parses():
    outcome = parse_structure(cif(12, [op.as_xyz_str() for op in SpaceGroup("Pm").symmetry_ops]),
                              "fine.cif")  # fmt: skip
    assert isinstance(outcome, StructureRecord), outcome
    assert outcome.n_sites == 24


def test_structures_built_elsewhere_are_refused_by_their_site_count(tmp_path):
    big = Structure(Lattice.cubic(60), ["H"] * 2001, [[i / 2001, 0.5, 0.5] for i in range(2001)])
    outcome = record_from_structure(big, "poscar text", "POSCAR")
    assert isinstance(outcome, Rejection) and outcome.reason_code == "too_many_sites"

    (tmp_path / "many.json").write_text(json.dumps([big.as_dict()]))
    start = time.perf_counter()
    inputs, failures = read_structure_inputs([tmp_path / "many.json"])
    assert time.perf_counter() - start < 1.0
    assert inputs == [] and len(failures) == 1
    assert failures[0].reason == (
        f"{tmp_path / 'many.json'}#0: the structure has 2,001 sites, more than the limit of "
        "2,000 (max_structure_sites); it was not built."
    )
