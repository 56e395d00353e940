"""The element table: units, sources, electron counts, mass numbers, gaps and imputation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tcdb.ml import element_data as ed


@pytest.fixture(scope="module")
def table():
    return ed.element_table()


def test_table_covers_z_1_to_118_once(table):
    assert list(table.index) == list(range(1, 119))
    assert table.loc[1, "symbol"] == "H" and table.loc[118, "symbol"] == "Og"
    assert table["symbol"].is_unique


def test_table_is_built_once_and_handed_out_as_copies():
    mine = ed.element_table()
    mine.loc[57, "atomic_mass"] = -1.0
    assert ed.element_table().loc[57, "atomic_mass"] == pytest.approx(138.90547)
    assert ed._table.cache_info().currsize == 1


def test_every_column_has_a_documented_source(table):
    assert set(table.columns) <= set(ed.SOURCES)
    for prop in ed.HAMIDIEH_PROPERTIES:
        source = ed.SOURCES[prop]
        assert source.library in {"mendeleev", "pymatgen"}
        assert source.attribute and source.unit
    assert ed.SOURCES["vdw_radius"] is ed.VDW_TABLES[ed.DEFAULT_VDW_TABLE]
    assert set(ed.source_manifest()["density"]) == {"library", "attribute", "unit", "note"}


def test_units_of_a_few_lanthanum_values(table):
    la = table.loc[57]
    assert la["atomic_mass"] == pytest.approx(138.905, abs=1e-3)  # u
    assert la["first_ionisation_energy"] == pytest.approx(5.5769, abs=1e-3)  # eV
    assert la["atomic_radius"] == pytest.approx(1.95)  # 195 pm -> Å
    assert la["density"] == pytest.approx(6.15, abs=0.01)  # g/cm³
    assert la["vdw_radius"] == pytest.approx(2.43)  # 243 pm -> Å (CRC)
    assert table.loc[29, "thermal_conductivity"] == pytest.approx(400.0)  # Cu, W/(m K)
    assert table.loc[12, "electron_affinity"] < 0  # Mg: unbound anion, kept negative
    # mendeleev nvalence: O 2s2 2p4 -> 6; Cu (d block) 4s1 + 3d10 -> 11; La 6s2 + 5d1 -> 3
    assert table.loc[[8, 29, 57], "valence"].tolist() == [6, 11, 3]


def test_parse_configuration_expands_the_core():
    cores = {"He": "1s2"}
    assert ed.parse_configuration("[He] 2s2 2p", cores) == {(1, "s"): 2, (2, "s"): 2, (2, "p"): 1}
    with pytest.raises(ValueError, match="core"):
        ed.parse_configuration("[He] 2s")


def test_all_shell_counts_sum_to_z_and_match_pymatgen(table):
    from pymatgen.core.periodic_table import Element

    counts = ed.electron_counts("all")
    assert (counts.sum(axis=1) == counts.index).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z in range(1, 105):  # pymatgen has configurations up to Rf
            expected = dict.fromkeys(ed.ORBITALS, 0)
            for _, orbital, electrons in Element.from_Z(z).full_electronic_structure:
                expected[orbital] += electrons
            assert counts.loc[z].to_dict() == expected, table.loc[z, "symbol"]


def test_valence_counts_are_the_subshells_after_the_core():
    valence = ed.electron_counts("valence")
    assert valence.loc[57].tolist() == [2, 0, 1, 0]  # La [Xe] 5d1 6s2
    assert valence.loc[31].tolist() == [2, 1, 10, 0]  # Ga [Ar] 3d10 4s2 4p1: 3d10 is written
    assert valence.loc[1].tolist() == [1, 0, 0, 0]  # H has no core
    assert (valence <= ed.electron_counts("all")).all().all()
    with pytest.raises(ValueError):
        ed.electron_counts("core")  # type: ignore[arg-type]


def test_mass_numbers():
    most_abundant = ed.mass_numbers()
    rounded = ed.mass_numbers("rounded_atomic_mass")
    assert most_abundant[[1, 16, 29, 37, 57, 92]].tolist() == [1, 32, 63, 85, 139, 238]
    assert rounded[29] == 64  # 63.546 rounds away from the most abundant isotope 63Cu
    assert most_abundant[43] == 98  # Tc: no natural isotope, longest-lived 98Tc
    assert most_abundant.notna().all()


def test_van_der_waals_tables_are_never_mixed():
    default = ed.vdw_radius()
    alvarez = ed.vdw_radius("mendeleev.vdw_radius_alvarez")
    assert default[[57, 37, 16]].tolist() == pytest.approx([2.43, 3.03, 1.80])
    assert alvarez[57] == pytest.approx(2.98)
    assert np.isnan(alvarez[61])  # Alvarez has no Pm: stays a gap, not the CRC value
    assert default[104:].isna().all()  # CRC table ends at Lr
    with pytest.raises(ValueError, match="unknown van der Waals"):
        ed.vdw_radius("nonsense")


def test_gap_report_lists_known_gaps(table):
    summary = ed.gap_summary(max_z=86)
    assert {"C", "N", "O", "Kr", "Gd", "Rn"} <= set(summary["fusion_heat"])
    assert summary["atomic_radius"] == ["Kr", "Xe", "At", "Rn"]
    assert summary["electron_affinity"] == []
    assert summary["thermal_conductivity"] == []
    assert summary["atomic_mass"] == []
    found = ed.gaps()
    assert list(found.columns) == ["Z", "symbol", "property"]
    assert len(found) == int(table[list(ed.HAMIDIEH_PROPERTIES)].isna().sum().sum())
    assert ("Fr", "thermal_conductivity") in set(
        zip(found["symbol"], found["property"], strict=True)
    )


def test_imputation_values_follow_the_stated_rule(table):
    values = ed.imputation_values()
    head = table.loc[: ed.IMPUTATION_MAX_Z]
    assert values["fusion_heat"] == pytest.approx(np.nanmean(head["fusion_heat"]))
    assert values["atomic_radius"] == pytest.approx(np.nanmean(head["atomic_radius"]))
    assert ed.element_table()["fusion_heat"].isna().any()  # the table itself stays unfilled
    assert "mean" in ed.IMPUTATION_RULE


def test_unknown_symbols():
    assert ed.atomic_number("La") == 57
    with pytest.raises(ed.ElementDataError, match="Xx"):
        ed.atomic_number("Xx")
    assert ed.atomic_numbers(["H", "Xx", "Og"]).tolist() == [1, 0, 118]
