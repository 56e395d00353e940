"""What the API says of each structure and reference is what the database holds: formulas
written as the specification asks, tcdb's fields read from the tables and views a user of
``tcdb sql`` would read them from, and every entry accepted by the optimade package's models."""

from __future__ import annotations

import math

import duckdb
import pytest

from tcdb.api.documents import anonymous_symbols, formulas
from tcdb.api.fields import model_slug


@pytest.mark.parametrize(
    ("amounts", "elements", "reduced", "anonymous"),
    [
        ({"S": 2, "H": 6}, ["H", "S"], "H3S", "A3B"),
        ({"La": 2, "H": 20}, ["H", "La"], "H10La", "A10B"),
        ({"O": 7, "Cu": 3, "Ba": 2, "Y": 1}, ["Ba", "Cu", "O", "Y"], "Ba2Cu3O7Y", "A7B3C2D"),
        ({"Mg": 1, "B": 2}, ["B", "Mg"], "B2Mg", "A2B"),
        ({"Na": 1, "Cl": 1}, ["Cl", "Na"], "ClNa", "AB"),
        ({"Ti": 0.5, "O": 1}, ["O", "Ti"], None, None),  # a partly occupied site
    ],
)
def test_formulas_are_written_as_the_specification_asks(amounts, elements, reduced, anonymous):
    found = formulas(amounts)
    assert found.elements == elements
    assert found.reduced == reduced
    assert found.anonymous == anonymous
    assert math.isclose(sum(found.elements_ratios), 1)


def test_anonymous_names_go_on_past_z():
    names = list(zip(range(60), anonymous_symbols(), strict=False))
    assert [n for _, n in names[:3]] == ["A", "B", "C"]
    assert [n for _, n in names[25:29]] == ["Z", "Aa", "Ba", "Ca"]


def test_every_structure_is_served_and_accepted_by_the_optimade_models(catalogue, api_db):
    with duckdb.connect(str(api_db), read_only=True) as conn:
        (active,) = conn.execute(
            "SELECT count(*) FROM crystal_structure "
            "WHERE status = 'active' AND retired_run_id IS NULL"
        ).fetchone()
        found = conn.execute("SELECT DISTINCT source_id FROM crystal_structure").fetchall()
        sources = {s for (s,) in found}
    assert catalogue.refused == {}
    assert catalogue.structures.count == active
    served = {d["attributes"]["_tcdb_source"] for d in catalogue.structures.documents.values()}
    assert served == sources == {"mp_mirror", "literature_structures", "reference_structures"}


def _rows(db, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def test_the_supercon_label_is_the_latest_curations_by_table_precedence(catalogue, api_db):
    rows = _rows(
        api_db,
        "SELECT s.id, g.label_table, g.label_tc_K, g.high_variance, g.n_measurements "
        "FROM crystal_structure s JOIN composition_group g ON g.material_id = s.material_id "
        "WHERE g.curation_run_id = (SELECT id FROM curation_run ORDER BY started_at DESC "
        "LIMIT 1) ORDER BY s.id, g.label_table",
    )
    labels = {}
    for structure, table, tc, high, n in rows:
        labels.setdefault(structure, (table, tc, high, n))  # nims_supercon sorts first
    assert labels, "no structure of the session's database has a SuperCon label"
    for structure, document in catalogue.structures.documents.items():
        attributes = document["attributes"]
        table, tc, high, n = labels.get(structure, (None, None, None, None))
        assert attributes["_tcdb_tc_label_table"] == table, structure
        assert attributes["_tcdb_tc_k"] == tc, structure
        assert attributes["_tcdb_tc_high_variance"] == high, structure
        assert attributes["_tcdb_tc_n_records"] == n, structure


def test_a_literature_cif_carries_its_entrys_values_and_reference(catalogue, api_db):
    rows = _rows(
        api_db,
        "SELECT structure_id, tc_K, pressure_GPa, method, doi FROM literature_entry "
        "WHERE structure_id IS NOT NULL AND status = 'active'",
    )
    assert rows
    references = {d["attributes"]["doi"]: i for i, d in catalogue.references.documents.items()}
    for structure, tc, pressure, method, doi in rows:
        attributes = catalogue.structures.documents[structure]["attributes"]
        assert attributes["_tcdb_literature_match"] == "structure"
        assert attributes["_tcdb_literature_tc_k"] == tc
        assert attributes["_tcdb_literature_pressure_gpa"] == pressure
        assert attributes["_tcdb_literature_method"] == method
        if doi:
            links = catalogue.structures.documents[structure]["relationships"]["references"]
            assert references[doi] in {link["id"] for link in links["data"]}


def test_the_structural_prediction_of_a_cif_is_the_one_tcdb_predict_stored(catalogue, api_db):
    rows = _rows(api_db, "SELECT name, tc_K, model_run_id FROM structure_prediction")
    assert rows, "the session's database holds no prediction of tcdb predict"
    by_file = {}
    for document in catalogue.structures.documents.values():
        attributes = document["attributes"]
        if attributes["_tcdb_prediction_cvcnn_subject"] == "input_structure":
            by_file.setdefault(attributes["_tcdb_source_record_id"], []).append(attributes)
    for name, tc, run in rows:
        for attributes in by_file.get(name, []):
            assert attributes["_tcdb_prediction_cvcnn_tc_k"] == pytest.approx(tc)
            assert attributes["_tcdb_prediction_cvcnn_run_id"] == run
    assert by_file


def test_every_model_with_a_run_has_its_prediction_fields(catalogue, api_db):
    models = [m for (m,) in _rows(api_db, "SELECT DISTINCT model FROM model_run ORDER BY 1")]
    assert models == catalogue.models
    assert {"composition", "cvcnn", "hydride-mlp"} <= set(models)
    fields = catalogue.structures.fields
    for slug in (model_slug(m) for m in models):
        for part in ("tc_k", "tc_std_k", "in_domain", "domain_reason", "run_id"):
            assert f"_tcdb_prediction_{slug}_{part}" in fields


def test_snapshot_ids_are_the_frozen_structure_files(catalogue, api_db):
    import pyarrow.parquet as pq

    ((snapshot, path),) = _rows(api_db, "SELECT id, path FROM snapshot WHERE kind = 'structures'")
    frozen = set(pq.read_table(f"{path}/structures.parquet").column("structure_id").to_pylist())
    listed = {
        i
        for i, d in catalogue.structures.documents.items()
        if snapshot in d["attributes"]["_tcdb_snapshot_ids"]
    }
    assert listed == frozen and frozen


def test_references_are_the_dois_of_active_literature_entries(catalogue, api_db):
    rows = _rows(
        api_db,
        "SELECT lower(doi), count(*) FROM literature_entry WHERE status = 'active' "
        "AND doi IS NOT NULL AND doi <> '' GROUP BY 1",
    )
    served = {d["attributes"]["immutable_id"]: d for d in catalogue.references.documents.values()}
    assert {doi for doi, _ in rows} == set(served)
    for doi, n in rows:
        assert served[doi]["attributes"]["_tcdb_n_entries"] == n
        assert served[doi]["attributes"]["url"].lower() == f"https://doi.org/{doi}"
