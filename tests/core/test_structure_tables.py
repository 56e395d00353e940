"""JSON-lines and Parquet files of many structures: read a slice at a time, each row that is
not a structure named with its row number and reason while the others are kept."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from pymatgen.core import Lattice, Structure

from tcdb.core.structure_files import read_structure_inputs
from tcdb.core.structure_tables import read_slice, slices


def _salt(a: float) -> Structure:
    return Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_json_lines_are_sliced_by_byte_offset_and_each_slice_reads_only_its_rows(tmp_path):
    lines = [json.dumps({"name": f"salt {k}", "structure": _salt(5 + k / 10).as_dict()})
             for k in range(7)]  # fmt: skip
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")

    pieces = slices(path, 3)

    assert [(p.first, p.rows) for p in pieces] == [(0, 3), (3, 3), (6, 1)]
    names = [[i.name for i in read_slice(p)[0]] for p in pieces]
    assert names == [["salt 0", "salt 1", "salt 2"], ["salt 3", "salt 4", "salt 5"], ["salt 6"]]
    second = read_slice(pieces[1])[0]
    assert [i.path for i in second] == [f"{path}#3", f"{path}#4", f"{path}#5"]


def test_bad_rows_are_named_by_row_and_reason_and_the_rest_go_on(tmp_path):
    no_sites = {"lattice": _salt(5.6).as_dict()["lattice"], "sites": "none"}
    rows = [json.dumps(_salt(5.6).as_dict()), "{broken", "[1, 2]", "", json.dumps(no_sites),
            json.dumps(_salt(5.7).as_dict())]  # fmt: skip
    path = tmp_path / "mixed.ndjson"
    path.write_text("\n".join(rows) + "\n")

    inputs, failures = read_structure_inputs([path])

    assert [i.path for i in inputs] == [f"{path}#0", f"{path}#5"]
    reasons = {f.path.rsplit("#", 1)[1]: f.reason for f in failures}
    assert sorted(reasons) == ["1", "2", "4"]  # the blank row 3 is skipped, not refused
    assert "not a structure" in reasons["1"] and "not a JSON object" in reasons["2"]
    assert all(reasons[row].startswith(f"{path}#{row}: ") for row in reasons)


def test_parquet_reads_a_structure_column_or_lattice_species_and_coordinates(tmp_path):
    salt = _salt(5.64)
    by_json = pa.table({"name": ["as json"], "structure": [json.dumps(salt.as_dict())]})
    pq.write_table(by_json, tmp_path / "a.parquet")
    by_sites = pa.table(
        {
            "lattice": [salt.lattice.matrix.ravel().tolist()] * 5,
            "species": [["Na", "Cl"]] * 4 + [["Na"]],
            "frac_coords": [salt.frac_coords.tolist()] * 5,
        }
    )
    pq.write_table(by_sites, tmp_path / "b.parquet", row_group_size=2)  # 3 row groups

    pieces = slices(tmp_path / "b.parquet", 3)
    assert [(p.first, p.rows) for p in pieces] == [(0, 3), (3, 2)]
    inputs, failures = read_structure_inputs([tmp_path])

    assert [i.name for i in inputs] == ["as json", "b.parquet#0", "b.parquet#1", "b.parquet#2",
                                        "b.parquet#3"]  # fmt: skip
    assert {i.record.reduced_formula for i in inputs} == {"NaCl"}
    (failure,) = failures
    assert failure.path.endswith("b.parquet#4") and "not a structure" in failure.reason
