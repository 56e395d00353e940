"""The properties each entry type serves: their OPTIMADE types, units, descriptions and the
column of the in-memory table a filter or a sort reads.

Why one table of fields: it is at once what ``/info/<type>`` describes, what ``response_fields``
may name and the whitelist of identifiers a filter may turn into SQL (``filters.py`` never
writes any other name into a statement). The provider's own fields carry the ``_tcdb_`` prefix;
one group of prediction fields is made for each model the database holds runs of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tcdb.api.parameters import PROVIDER_PREFIX

SCALAR_TYPES = ("string", "integer", "float", "boolean", "timestamp")


@dataclass(frozen=True)
class Field:
    """One property of an entry type."""

    name: str
    type: str  # an OPTIMADE data type: string, integer, float, boolean, timestamp, list, dictionary
    description: str
    column: str | None = None  # the table column filters and sorts read; None: not queryable
    item: str | None = None  # the type of a list's items, when filters compare them
    unit: str | None = None  # UCUM

    @property
    def queryable(self) -> bool:
        return self.column is not None

    @property
    def sortable(self) -> bool:
        return self.queryable and self.type in SCALAR_TYPES


def _provider(name: str) -> str:
    return f"_{PROVIDER_PREFIX}_{name}"


def _queryable(name: str, kind: str, description: str, unit: str | None = None, item=None):
    return Field(name, kind, description, column=name.lstrip("_"), item=item, unit=unit)


def model_slug(model: str) -> str:
    """A model's name as a part of a property name (``hydride-mlp`` → ``hydride_mlp``)."""
    return re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_") or "model"


# ------------------------------------------------------------------------------- structures

_STRUCTURE_FIELDS = (
    _queryable(
        "id",
        "string",
        "The structure's id in tcdb: the Materials Project id for the "
        "mirror (mp-…), literature:<file> and reference:<file> for the CIFs.",
    ),
    _queryable("type", "string", "Always structures."),
    _queryable(
        "immutable_id",
        "string",
        "The id with the structure's content hash "
        "(<id>@<16 hex digits>): it changes whenever the stored structure does.",
    ),
    _queryable(
        "last_modified",
        "timestamp",
        "When the structure or any value served with it "
        "(label, literature entry, prediction) was last stored.",
    ),
    _queryable("elements", "list", "The elements, in alphabetical order.", item="string"),
    _queryable("nelements", "integer", "How many elements."),
    _queryable(
        "elements_ratios", "list", "The atomic fraction of each element of elements.", item="float"
    ),
    _queryable(
        "chemical_formula_descriptive",
        "string",
        "The cell's formula as tcdb stores it (every amount written, e.g. La1H10).",
    ),
    _queryable(
        "chemical_formula_reduced",
        "string",
        "The reduced formula, elements in alphabetical order (H3S, H10La).",
    ),
    _queryable(
        "chemical_formula_anonymous",
        "string",
        "The reduced formula with the elements "
        "replaced by A, B, C … in order of decreasing amount (A3B).",
    ),
    _queryable(
        "dimension_types",
        "list",
        "Periodicity of the three lattice vectors: always [1, 1, 1].",
        item="integer",
    ),
    _queryable("nperiodic_dimensions", "integer", "Always 3."),
    Field("lattice_vectors", "list", "The three lattice vectors in Å.", unit="Ao"),
    _queryable(
        "space_group_it_number",
        "integer",
        "The space group's number (1-230) as "
        "pymatgen's SpacegroupAnalyzer found it at ingest, with the tolerance in "
        "_tcdb_symprec.",
    ),
    Field("cartesian_site_positions", "list", "Cartesian positions of the sites in Å.", unit="Ao"),
    _queryable("nsites", "integer", "How many sites the cell holds."),
    Field(
        "species",
        "list",
        "The species of the sites: one per element, as every stored structure is ordered.",
    ),
    _queryable("species_at_sites", "list", "The species of each site.", item="string"),
    _queryable(
        "structure_features",
        "list",
        "disorder when a site is shared or partly "
        "occupied; no structure stored today has one, so the list is empty.",
        item="string",
    ),
)

_TCDB_STRUCTURE_FIELDS = (
    _queryable(
        _provider("source"),
        "string",
        "The source the structure was ingested from: "
        "mp_mirror, literature_structures or reference_structures.",
    ),
    _queryable(
        _provider("source_record_id"),
        "string",
        "The record in that source: the Materials Project id or the CIF's file name.",
    ),
    _queryable(
        _provider("material_id"),
        "string",
        "tcdb's composition the structure has "
        "(material.id), through which SuperCon labels and composition-level predictions "
        "are matched.",
    ),
    _queryable(
        _provider("space_group_symbol"),
        "string",
        "The space group's symbol as stored (pymatgen's, e.g. P6_3/mmc).",
    ),
    _queryable(
        _provider("symprec"), "float", "The tolerance the space group was found with.", unit="Ao"
    ),
    _queryable(
        _provider("pressure_gpa"),
        "float",
        "The pressure the structure belongs to; null for the Materials Project (ambient).",
        unit="GPa",
    ),
    _queryable(_provider("volume_a3"), "float", "The cell's volume.", unit="Ao3"),
    _queryable(
        _provider("tc_k"),
        "float",
        "The SuperCon T_c label of the structure's "
        "composition: the label its composition group gives under the variance policy "
        "of the latest curation pass, from the first of nims_supercon and "
        "stanev_supercon that holds the composition.",
        unit="K",
    ),
    _queryable(
        _provider("tc_label_table"),
        "string",
        "The SuperCon table the label comes from (nims_supercon or stanev_supercon).",
    ),
    _queryable(
        _provider("tc_high_variance"),
        "boolean",
        "Whether the composition's records disagree by more than the curation's variance cutoff.",
    ),
    _queryable(
        _provider("tc_variance_k2"),
        "float",
        "Population variance of the composition's T_c records.",
        unit="K2",
    ),
    _queryable(
        _provider("tc_n_records"), "integer", "How many records of that table the label is made of."
    ),
    _queryable(
        _provider("literature_tc_k"),
        "float",
        "T_c of the literature entry of this structure (see _tcdb_literature_match).",
        unit="K",
    ),
    _queryable(
        _provider("literature_pressure_gpa"), "float", "Pressure of that entry.", unit="GPa"
    ),
    _queryable(
        _provider("literature_mu_star"), "float", "Coulomb pseudopotential μ* of that entry."
    ),
    _queryable(
        _provider("literature_method"),
        "string",
        "How that entry's T_c was found "
        "(experiment, dft_harmonic, dft_anharmonic, ml_prediction, unknown).",
    ),
    _queryable(_provider("literature_doi"), "string", "DOI of that entry's paper."),
    _queryable(
        _provider("literature_reference"),
        "string",
        "That entry's reference as the literature file writes it.",
    ),
    _queryable(
        _provider("literature_entry_id"), "string", "That entry's id (literature_entry.id)."
    ),
    _queryable(
        _provider("literature_match"),
        "string",
        "structure: the entry names this "
        "structure's CIF; composition: no entry names it, and the entry with the "
        "highest T_c of its composition is given.",
    ),
    _queryable(
        _provider("literature_n_entries"),
        "integer",
        "How many active literature "
        "entries that match (the structure's, or its composition's) holds.",
    ),
    _queryable(
        _provider("snapshot_ids"),
        "list",
        "The snapshots whose structures file holds this structure.",
        item="string",
    ),
    _queryable(
        "references_id",
        "list",
        "The ids of the references linked to this structure (filter as references.id).",
        item="string",
    ),
)

# What each model's latest prediction of a structure gives, after _tcdb_prediction_<model>_.
PREDICTION_PARTS = (
    ("tc_k", "float", "T_c predicted", "K"),
    (
        "tc_std_k",
        "float",
        "the spread of T_c over the run's ensemble members (null for a run of one member)",
        "K",
    ),
    ("pressure_gpa", "float", "the pressure predicted (null for a model of T_c only)", "GPa"),
    (
        "in_domain",
        "boolean",
        "whether the prediction lies in the run's applicability domain "
        "(null for a model without one)",
        None,
    ),
    (
        "domain_reason",
        "string",
        "every domain check the prediction failed (null in the domain or without a domain)",
        None,
    ),
    ("run_id", "string", "the model run that made the prediction", None),
    (
        "subject",
        "string",
        "what was predicted: structure (this structure), input_structure "
        "(this CIF given to tcdb predict), literature_entry (the literature entry of this "
        "structure), material or composition (its composition), hydride or hydride_query "
        "(its EH_n; hydride_forest or hydride_query_forest when the run ranks its EH_n with "
        "its forest, as the hydride_screening view does)",
        None,
    ),
    ("created_at", "timestamp", "when the prediction was stored", None),
)


def prediction_fields(model: str) -> tuple[Field, ...]:
    """The fields of one model's latest prediction of each structure."""
    slug = model_slug(model)
    return tuple(
        _queryable(
            _provider(f"prediction_{slug}_{part}"),
            kind,
            f"The latest stored prediction of {model} for this structure: {what}.",
            unit=unit,
        )
        for part, kind, what, unit in PREDICTION_PARTS
    )


def structure_fields(models: list[str]) -> dict[str, Field]:
    """Every structure property, the prediction fields of ``models`` included."""
    fields = [*_STRUCTURE_FIELDS, *_TCDB_STRUCTURE_FIELDS]
    for model in models:
        fields.extend(prediction_fields(model))
    return {f.name: f for f in fields}


# ------------------------------------------------------------------------------- references

_REFERENCE_FIELDS = (
    _queryable("id", "string", "ref- and 16 hex digits of the DOI's SHA-256 (lower case)."),
    _queryable("type", "string", "Always references."),
    _queryable("immutable_id", "string", "The DOI, lower case."),
    _queryable(
        "last_modified", "timestamp", "When the newest literature entry citing it was stored."
    ),
    _queryable("doi", "string", "The DOI."),
    _queryable("url", "string", "https://doi.org/ and the DOI."),
    _queryable(
        "note",
        "string",
        "The reference as the literature entries write it (several ways are joined with ' | ').",
    ),
    _queryable("year", "string", "The year the reference states."),
    _queryable("bib_type", "string", "Always article."),
    _queryable(_provider("n_entries"), "integer", "How many active literature entries cite it."),
    _queryable(_provider("n_structures"), "integer", "How many structures link to it."),
)


def reference_fields() -> dict[str, Field]:
    return {f.name: f for f in _REFERENCE_FIELDS}


# Properties the filter reads from a relationship (<entry type>.id, as the specification
# describes), by the entry type filtered and the property's parts: the list column of the
# related ids.
RELATIONSHIP_FIELDS = {("structures", "references", "id"): "references_id"}

# Not attributes: served at the top level of an entry.
TOP_LEVEL = frozenset({"id", "type", "relationships", "links", "meta"})
# Internal columns that are not properties (described as references.id).
HIDDEN = frozenset({"references_id"})
