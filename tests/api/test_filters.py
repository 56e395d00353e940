"""OPTIMADE filters as SQL: the rows they select are the rows their meaning selects, no value
ever reaches the SQL text, and each filter the API cannot answer is the error the
specification names."""

from __future__ import annotations

import re

import pytest

from tcdb.api.errors import ApiError
from tcdb.api.filters import FilterTranslator, parser
from tcdb.api.parameters import ApiParameters
from tcdb.api.queries import STANDARD_FIELDS


@pytest.fixture(scope="module")
def translator(catalogue) -> FilterTranslator:
    table = catalogue.structures
    return FilterTranslator("structures", table.fields, STANDARD_FIELDS["structures"],
                            ApiParameters())  # fmt: skip


def _ids(catalogue, translator, text: str) -> list[str]:
    translated = translator.translate(text)
    cursor = catalogue.conn.cursor()
    rows = cursor.execute(
        f'SELECT id FROM "structures" WHERE {translated.sql} ORDER BY id', translated.params
    ).fetchall()
    return [i for (i,) in rows]


def _known(value) -> bool:
    return value is not None


# A filter and what it means, as a predicate on an entry's id and attributes.
MEANINGS = [
    ("nelements<=3", lambda i, a: a["nelements"] <= 3),
    ('elements HAS ALL "La","H"', lambda i, a: {"La", "H"} <= set(a["elements"])),
    ('elements HAS ANY "Nb","V","Mg"', lambda i, a: bool({"Nb", "V", "Mg"} & set(a["elements"]))),
    ('elements HAS ONLY "Mg","H"', lambda i, a: set(a["elements"]) <= {"Mg", "H"}),
    ('elements HAS "H" AND NOT elements HAS "O"',
     lambda i, a: "H" in a["elements"] and "O" not in a["elements"]),
    ("elements LENGTH 2", lambda i, a: len(a["elements"]) == 2),
    ("elements LENGTH >= 3", lambda i, a: len(a["elements"]) >= 3),
    ('elements HAS < "C"', lambda i, a: any(e < "C" for e in a["elements"])),
    ('elements HAS ALL < "C", > "S"',
     lambda i, a: any(e < "C" for e in a["elements"]) and any(e > "S" for e in a["elements"])),
    ('species_at_sites HAS "H"', lambda i, a: "H" in a["species_at_sites"]),
    ('chemical_formula_reduced="H3S"', lambda i, a: a["chemical_formula_reduced"] == "H3S"),
    ('"H3S" = chemical_formula_reduced', lambda i, a: a["chemical_formula_reduced"] == "H3S"),
    ('chemical_formula_anonymous STARTS WITH "A3"',
     lambda i, a: a["chemical_formula_anonymous"].startswith("A3")),
    ('chemical_formula_anonymous STARTS "AB"',
     lambda i, a: a["chemical_formula_anonymous"].startswith("AB")),
    ('chemical_formula_descriptive CONTAINS "H1"',
     lambda i, a: "H1" in a["chemical_formula_descriptive"]),
    ('id ENDS WITH "H3"', lambda i, a: i.endswith("H3")),
    ('id ENDS "H3" OR id STARTS "reference:"',
     lambda i, a: i.endswith("H3") or i.startswith("reference:")),
    ("_tcdb_tc_k > 77", lambda i, a: _known(a["_tcdb_tc_k"]) and a["_tcdb_tc_k"] > 77),
    ("77 < _tcdb_tc_k", lambda i, a: _known(a["_tcdb_tc_k"]) and a["_tcdb_tc_k"] > 77),
    ("_tcdb_tc_k >= 10.5", lambda i, a: _known(a["_tcdb_tc_k"]) and a["_tcdb_tc_k"] >= 10.5),
    # NOT of a comparison with an unknown value is unknown too: not matched
    ("NOT _tcdb_tc_k > 77", lambda i, a: _known(a["_tcdb_tc_k"]) and not a["_tcdb_tc_k"] > 77),
    ("_tcdb_tc_k IS UNKNOWN", lambda i, a: a["_tcdb_tc_k"] is None),
    ("NOT _tcdb_tc_k IS KNOWN", lambda i, a: a["_tcdb_tc_k"] is None),
    ('_tcdb_literature_tc_k IS KNOWN AND _tcdb_literature_match = "structure"',
     lambda i, a: _known(a["_tcdb_literature_tc_k"])
     and a["_tcdb_literature_match"] == "structure"),
    ("_tcdb_tc_high_variance = TRUE", lambda i, a: a["_tcdb_tc_high_variance"] is True),
    ("_tcdb_tc_high_variance != TRUE", lambda i, a: a["_tcdb_tc_high_variance"] is False),
    ("_tcdb_prediction_hydride_mlp_in_domain = FALSE",
     lambda i, a: a["_tcdb_prediction_hydride_mlp_in_domain"] is False),
    ("_tcdb_prediction_hydride_mlp_in_domain = TRUE",
     lambda i, a: a["_tcdb_prediction_hydride_mlp_in_domain"] is True),
    ("_tcdb_prediction_cvcnn_tc_k > _tcdb_prediction_composition_tc_k",
     lambda i, a: _known(a["_tcdb_prediction_cvcnn_tc_k"])
     and _known(a["_tcdb_prediction_composition_tc_k"])
     and a["_tcdb_prediction_cvcnn_tc_k"] > a["_tcdb_prediction_composition_tc_k"]),
    ('_tcdb_prediction_cvcnn_created_at >= "2000-01-01T02:00:00+02:00"',
     lambda i, a: _known(a["_tcdb_prediction_cvcnn_created_at"])),
    ('last_modified >= "2000-01-01T00:00:00Z"', lambda i, a: True),
    ("nsites = 4 OR nsites = 7 AND nelements = 2",
     lambda i, a: a["nsites"] == 4 or (a["nsites"] == 7 and a["nelements"] == 2)),
    ("(nsites = 4 OR nsites = 7) AND nelements = 2",
     lambda i, a: a["nsites"] in (4, 7) and a["nelements"] == 2),
    ("_otherdb_x = 3 OR nsites = 4", lambda i, a: a["nsites"] == 4),
    ("NOT _otherdb_x = 3", lambda i, a: False),
    ("_otherdb_x IS UNKNOWN", lambda i, a: True),
    ("chemical_formula_hill IS UNKNOWN", lambda i, a: True),
    ("chemical_formula_hill IS KNOWN", lambda i, a: False),
    ("1 < 2", lambda i, a: True),
    ("2 < 1.5", lambda i, a: False),
    ("nsites = 99999999999999999999999999", lambda i, a: False),
    ("nsites < 99999999999999999999999999", lambda i, a: True),
    ("nsites > 3.5", lambda i, a: a["nsites"] > 3.5),
    ("", lambda i, a: True),
]  # fmt: skip


@pytest.mark.parametrize(("text", "meaning"), MEANINGS, ids=[m[0] or "empty" for m in MEANINGS])
def test_a_filter_selects_what_it_means(catalogue, translator, text, meaning):
    documents = catalogue.structures.documents
    expected = sorted(i for i, d in documents.items() if meaning(i, d["attributes"]))
    assert _ids(catalogue, translator, text) == expected


def test_the_meanings_are_tested_on_rows_that_tell_them_apart(catalogue, translator):
    """Each kind of row the filters above are about is in the session's database."""
    assert _ids(catalogue, translator, 'chemical_formula_reduced="H3S"')
    assert _ids(catalogue, translator, "_tcdb_tc_k > 77")
    assert _ids(catalogue, translator, "_tcdb_tc_k IS UNKNOWN")
    assert _ids(catalogue, translator, "_tcdb_tc_high_variance = TRUE")
    assert _ids(catalogue, translator, "_tcdb_prediction_hydride_mlp_in_domain = TRUE")
    assert _ids(catalogue, translator, "_tcdb_prediction_cvcnn_tc_k IS KNOWN")
    assert _ids(catalogue, translator, '_tcdb_literature_match = "structure"')


def test_relationships_and_snapshots_are_filtered_as_lists(catalogue, translator):
    documents = catalogue.structures.documents
    linked = {
        i: [link["id"] for link in d["relationships"]["references"]["data"]]
        for i, d in documents.items()
        if "relationships" in d
    }
    assert linked, "no structure links a reference"
    reference = sorted(linked.values())[0][0]
    expected = sorted(i for i, refs in linked.items() if reference in refs)
    assert _ids(catalogue, translator, f'references.id HAS "{reference}"') == expected
    snapshot = next(
        (s for d in documents.values() for s in d["attributes"]["_tcdb_snapshot_ids"]), None
    )
    assert snapshot, "no structure is in a snapshot"
    expected = sorted(
        i for i, d in documents.items() if snapshot in d["attributes"]["_tcdb_snapshot_ids"]
    )
    assert _ids(catalogue, translator, f'_tcdb_snapshot_ids HAS "{snapshot}"') == expected


HOSTILE_VALUES = [
    "H3S' OR 1=1 --",
    'x\\" OR 1=1 OR id = \\"',
    "'; DROP TABLE structures; --",
    "\\\\'); COPY structures TO '/tmp/x.csv'; --",
    "SELECT * FROM duckdb_settings()",
    "ñ Σ 超伝導 🧪",
    "a" * 3000,
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_no_value_of_a_filter_reaches_the_sql_text(catalogue, translator, value):
    columns = {f.column for f in catalogue.structures.fields.values() if f.queryable}
    text = (
        f'chemical_formula_reduced = "{value}" OR id CONTAINS "{value}" '
        f'OR elements HAS ANY "{value}", "H" AND _tcdb_tc_k > 1e300'
    )
    translated = translator.translate(text)
    unescaped = value.replace('\\"', '"').replace("\\\\", "\\")
    assert unescaped in translated.params
    assert "'" not in translated.sql and ";" not in translated.sql
    assert set(re.findall(r'"([^"]*)"', translated.sql)) <= columns
    assert _ids(catalogue, translator, text) == []


ERRORS = [
    ("crazyfield = 2", 400),
    ("_tcdb_no_such_field = 1", 400),
    ("references_id HAS \"x\"", 400),  # the column behind references.id is no property
    ('nelements = "3"', 501),
    ('elements = "H"', 501),
    ('"a" = "b"', 501),
    ('"a" < 3', 501),
    ("lattice_vectors HAS 1", 501),
    ('species.name HAS "H"', 501),
    ('elements:species_at_sites HAS "H":"H"', 501),
    ('elements HAS ONLY < "C"', 501),
    ("elements HAS 1", 501),
    ('nelements CONTAINS "1"', 501),
    ("nelements HAS 1", 501),
    ("nelements LENGTH 1", 501),
    ("_tcdb_tc_high_variance > TRUE", 501),
    ("_tcdb_tc_k = TRUE", 501),
    ('id CONTAINS chemical_formula_reduced', 501),
    ("nelements >", 400),
    ("nelements = 1 nelements = 2", 400),
    ("nsites = 1e999", 400),
    ('last_modified > "yesterday"', 400),
    ("NOT", 400),
    ("nelements = 1 AND", 400),
    ("Nelements = 1", 400),
    ('elements HAS "H" ; DROP TABLE structures', 400),
    ("nelements = 1 -- comment", 400),
    ("nelements = 1 /* comment */", 400),
    ("nelements = 'single quotes'", 400),
    ("(" * 40 + "nelements = 1" + ")" * 40, 400),
    ("nsites = 1 OR " * 2000 + "nsites = 2", 400),  # longer than the limit
    ('elements HAS ANY ' + ",".join(['"H"'] * 1001), 400),
]  # fmt: skip


@pytest.mark.parametrize(("text", "status"), ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_a_filter_the_api_cannot_answer_is_the_specifications_error(translator, text, status):
    with pytest.raises(ApiError) as refused:
        translator.translate(text)
    assert refused.value.status == status
    assert refused.value.detail and "\n" not in refused.value.detail


def test_nesting_within_the_limit_is_answered(catalogue, translator):
    text = "(" * 32 + "nsites = 4" + ")" * 32
    assert _ids(catalogue, translator, text) == _ids(catalogue, translator, "nsites = 4")


def test_another_providers_property_is_unknown_with_a_warning(translator):
    translated = translator.translate("_otherdb_band_gap > 1 OR nsites = 1")
    assert translated.warnings and "_otherdb_band_gap" in translated.warnings[0]


CORPUS = [
    'elements HAS ALL "La","H" AND nelements<=3',
    'NOT (chemical_formula_hill = "Al" AND chemical_formula_anonymous = "A" OR '
    'chemical_formula_anonymous = "H2O" AND NOT chemical_formula_hill = "Ti")',
    '_exmpl_aax <= +.1e8 OR nelements >= 10 AND NOT ( _exmpl_x != "Some string" OR NOT '
    "_exmpl_a = 7)",
    "5 < _exmpl_a",
    "((NOT (_exmpl_a>_exmpl_b)) AND _exmpl_x>0)",
    'chemical_formula_anonymous CONTAINS "C2" AND chemical_formula_anonymous STARTS WITH "A2"',
    'chemical_formula_anonymous STARTS "A2" AND chemical_formula_anonymous ENDS WITH "D1"',
    'elements HAS "H" AND elements HAS ALL "H","He","Ga","Ta" AND elements HAS ONLY "H","He",'
    '"Ga","Ta" AND elements HAS ANY "H", "He", "Ga", "Ta"',
    'elements:_exmpl_element_counts HAS "H":6 AND elements:_exmpl_element_counts HAS ALL '
    '"H":6,"He":7',
    "_exmpl_element_counts HAS < 3 AND _exmpl_element_counts HAS ANY > 3, = 6, 4, != 8",
    'list LENGTH >= 3 AND references.id HAS "x" AND a IS KNOWN AND NOT b IS UNKNOWN',
    'x = TRUE AND y != FALSE AND s = "a \\" b \\\\ c"',
]


@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_the_lalr_parse_of_the_official_grammar_is_the_official_parsers_tree(text):
    """LarkParser parses with Earley; the API with LALR on the same grammar, for speed."""
    from lark import Token, Tree
    from optimade.filterparser import LarkParser

    dropped = {"_AND", "_OR", "LPAR", "RPAR", "COMMA", "DOT", "COLON", "TRUE", "FALSE"}

    def shape(node):
        if isinstance(node, Tree):
            return (str(node.data), [shape(c) for c in node.children if not (
                isinstance(c, Token) and c.type in dropped)])  # fmt: skip
        return (node.type, str(node))

    assert shape(parser().parse(text)) == shape(LarkParser().parse(text))
