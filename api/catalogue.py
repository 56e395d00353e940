"""What the server serves, read once from the database when it starts.

Why a copy in memory rather than queries on the file: DuckDB lets one process write the file
only while no other holds it, even for reading, so a server that kept the file open would keep
every training, screening and ingest out for as long as it runs. The file is opened read-only
the way ``tcdb sql`` opens it (``schema.sql_access.open_read_only``: no files, network,
extensions or ``ATTACH``, configuration locked), read in a few queries and closed; the server
then answers from an in-memory DuckDB database (one row per entry with every filterable
property as a typed column, lists as DuckDB lists) and from each entry's JSON document, built
and checked against the ``optimade`` package's pydantic models once here. A filtered page is
then one parameterised query on a few thousand rows and a dictionary lookup per entry. What is
stored after the server started is served after a restart.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from tcdb.api.documents import formulas, geometry
from tcdb.api.fields import (
    PREDICTION_PARTS,
    Field,
    model_slug,
    reference_fields,
    structure_fields,
)
from tcdb.api.parameters import LABEL_TABLES
from tcdb.core.errors import DatabaseError
from tcdb.core.references import reference_year

log = logging.getLogger(__name__)

ACTIVE = "status = 'active' AND retired_run_id IS NULL"


def _active(alias: str) -> str:
    return f"{alias}.status = 'active' AND {alias}.retired_run_id IS NULL"


# One row per active structure with its SuperCon label and literature entry (the CTEs name
# what each join takes). Parameters: the label tables in order of precedence, the curation run.
_STRUCTURES_SQL = f"""
WITH s AS (SELECT * FROM crystal_structure WHERE {ACTIVE}),
label AS (
    SELECT material_id, label_table, label_tc_K, high_variance, tc_variance_K2, n_measurements,
           created_at
    FROM composition_group
    WHERE curation_run_id = $run AND list_position($tables, label_table) IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY material_id ORDER BY list_position($tables, label_table)) = 1
),
lit AS (SELECT * FROM literature_entry WHERE {ACTIVE}),
lit_direct AS (
    SELECT *, count(*) OVER (PARTITION BY structure_id) AS n_entries FROM lit
    WHERE structure_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY structure_id ORDER BY tc_K DESC NULLS LAST, id) = 1
),
lit_composition AS (
    SELECT *, count(*) OVER (PARTITION BY material_id) AS n_entries FROM lit
    WHERE material_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY material_id ORDER BY tc_K DESC NULLS LAST, id) = 1
)
SELECT
    s.id, s.source_id, s.source_record_id, s.material_id, s.formula, s.n_sites,
    s.spacegroup_number, s.spacegroup_symbol, s.symprec, s.pressure_GPa, s.volume_A3,
    s.structure_json, s.content_sha256, s.created_at,
    label.label_table, label.label_tc_K, label.high_variance, label.tc_variance_K2,
    label.n_measurements, label.created_at AS label_created_at,
    CASE WHEN d.id IS NOT NULL THEN 'structure' WHEN c.id IS NOT NULL THEN 'composition' END
        AS literature_match,
    coalesce(d.id, c.id) AS literature_entry_id,
    coalesce(d.n_entries, c.n_entries) AS literature_n_entries,
    CASE WHEN d.id IS NOT NULL THEN d.tc_K ELSE c.tc_K END AS literature_tc_K,
    CASE WHEN d.id IS NOT NULL THEN d.pressure_GPa ELSE c.pressure_GPa END
        AS literature_pressure_GPa,
    CASE WHEN d.id IS NOT NULL THEN d.mu_star ELSE c.mu_star END AS literature_mu_star,
    CASE WHEN d.id IS NOT NULL THEN d.method ELSE c.method END AS literature_method,
    CASE WHEN d.id IS NOT NULL THEN d.doi ELSE c.doi END AS literature_doi,
    CASE WHEN d.id IS NOT NULL THEN d.reference ELSE c.reference END AS literature_reference,
    CASE WHEN d.id IS NOT NULL THEN d.created_at ELSE c.created_at END AS literature_created_at
FROM s
LEFT JOIN label ON label.material_id = s.material_id
LEFT JOIN lit_direct AS d ON d.structure_id = s.id
LEFT JOIN lit_composition AS c ON c.material_id = s.material_id
ORDER BY s.id
"""

# Each model's latest prediction of each structure. A prediction of the structure itself (or of
# its CIF given to tcdb predict, or of the literature entry naming it) comes before one of its
# composition (or of its EH_n); among those, the newest run's, then the newest row.
_PREDICTIONS_SQL = f"""
WITH s AS (SELECT s.*, src.path AS source_path FROM crystal_structure AS s
           LEFT JOIN source AS src ON src.id = s.source_id WHERE {_active("s")}),
candidate AS (
    SELECT s.id AS structure_id, 0 AS level, p.* FROM prediction AS p
    JOIN s ON p.subject_kind = 'structure' AND p.structure_id = s.id
    UNION ALL
    SELECT s.id, 0, p.* FROM prediction AS p
    JOIN s ON p.subject_kind = 'input_structure' AND s.source_path IS NOT NULL
        AND ends_with(p.input_path, '/' || s.source_path || '/' || s.source_record_id)
    UNION ALL
    SELECT e.structure_id, 0, p.* FROM prediction AS p
    JOIN literature_entry AS e ON p.subject_kind = 'literature_entry' AND p.subject_id = e.id
    JOIN s ON s.id = e.structure_id
    UNION ALL
    SELECT s.id, 1, p.* FROM prediction AS p
    JOIN s ON p.subject_kind IN ('material', 'hydride', 'hydride_query', 'hydride_forest',
                                 'hydride_query_forest')
        AND p.material_id = s.material_id
        -- of a hydride run's network and forest rows, those of the model it ranks with, as
        -- the hydride_screening view shows them (rows without the fields: the network's)
        AND coalesce(json_extract_string(p.extra_json, '$.model'), 'network')
            = coalesce(json_extract_string(p.extra_json, '$.chosen_model'), 'network')
    UNION ALL
    SELECT s.id, 1, p.* FROM prediction AS p
    JOIN s ON p.subject_kind = 'composition' AND p.subject_id = s.reduced_formula
)
SELECT c.structure_id, r.model, c.tc_K, c.tc_std_K, c.pressure_GPa, c.in_domain,
       c.domain_reason, c.model_run_id, c.subject_kind, c.created_at
FROM candidate AS c JOIN model_run AS r ON r.id = c.model_run_id
QUALIFY row_number() OVER (
    PARTITION BY c.structure_id, r.model
    ORDER BY c.level, r.finished_at DESC NULLS LAST, c.created_at DESC, c.id) = 1
"""

# Literature entries with a DOI, and the structures each is linked to: the structure its CIF
# is, or the structures of its composition.
_CITATIONS_SQL = f"""
WITH lit AS (SELECT * FROM literature_entry WHERE {ACTIVE} AND doi IS NOT NULL AND doi <> '')
SELECT lower(trim(lit.doi)) AS key, trim(lit.doi) AS doi, lit.reference, lit.created_at,
       lit.id AS entry_id, s.id AS structure_id,
       s.id IS NOT NULL AND s.id = lit.structure_id AS direct
FROM lit
LEFT JOIN crystal_structure AS s
    ON {_active("s")} AND (s.id = lit.structure_id OR s.material_id = lit.material_id)
ORDER BY key, lit.id, s.id
"""


# How a structure is linked to a reference: its own CIF's entry cites it, or an entry of its
# composition does.
LINKS = {
    True: "cites the literature entry of this structure's CIF",
    False: "cites a literature entry of this structure's composition",
}


class CatalogueError(DatabaseError):
    """The database cannot be served: tables missing (not migrated) or unreadable."""


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _second(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(microsecond=0)


def timestamp_text(moment: datetime | None) -> str | None:
    """A stored naive UTC timestamp as RFC 3339 text, to the second."""
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def reference_id(doi_key: str) -> str:
    """A URL-safe id for a DOI (DOIs hold slashes and may hold any printable character)."""
    return "ref-" + hashlib.sha256(doi_key.encode()).hexdigest()[:16]


@dataclass
class EntryTable:
    """One entry type as served: its fields, each entry's document by id, in id order."""

    name: str
    fields: dict[str, Field]
    documents: dict[str, dict] = field(default_factory=dict)
    encoded: dict[str, bytes] = field(default_factory=dict)  # each document as JSON

    def __post_init__(self) -> None:
        if not self.encoded:
            self.encoded = {i: orjson.dumps(d) for i, d in self.documents.items()}

    @property
    def count(self) -> int:
        return len(self.documents)


@dataclass
class Catalogue:
    """Everything the server answers from, and the in-memory database filters run on."""

    database: Path
    conn: duckdb.DuckDBPyConnection
    structures: EntryTable
    references: EntryTable
    models: list[str]
    loaded_at: datetime
    refused: dict[str, str] = field(default_factory=dict)  # entry id → why it is not served

    def table(self, name: str) -> EntryTable:
        return {"structures": self.structures, "references": self.references}[name]

    def close(self) -> None:
        self.conn.close()


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params=None) -> list[dict]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _snapshot_members(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Structure id → the ids of the structures snapshots that hold it, read from each
    snapshot's frozen structures file after the folder is checked against its manifest and
    the hash the database recorded (``tcdb.store.snapshots.verify_snapshot``); a snapshot that
    fails is logged and left out."""
    import json

    import pyarrow.parquet as pq

    from tcdb.store.snapshots import verify_snapshot

    members: dict[str, list[str]] = defaultdict(list)
    rows = conn.execute(
        "SELECT id, path, manifest_json FROM snapshot WHERE kind = 'structures' ORDER BY id"
    ).fetchall()
    for snapshot_id, path, manifest_json in rows:
        recorded = json.loads(manifest_json).get("manifest_sha256") if manifest_json else None
        problems = verify_snapshot(Path(path), recorded)
        if problems:
            log.warning(
                "snapshot %s is not listed in _tcdb_snapshot_ids: %s", snapshot_id, problems[0]
            )
            continue
        table = pq.read_table(Path(path) / "structures.parquet", columns=["structure_id"])
        for structure_id in sorted(set(table.column("structure_id").to_pylist())):
            members[structure_id].append(snapshot_id)
    return members


def _latest_curation(conn: duckdb.DuckDBPyConnection) -> str | None:
    row = conn.execute(
        "SELECT id FROM curation_run WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    return None if row is None else row[0]


def _models(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute("SELECT DISTINCT model FROM model_run ORDER BY model").fetchall()
    return [model for (model,) in rows]


@dataclass
class _Citations:
    references: dict[str, dict]  # DOI key → what the reference document is made of
    by_structure: dict[str, dict[str, bool]]  # structure id → reference id → direct link


def _citations(conn: duckdb.DuckDBPyConnection) -> _Citations:
    references: dict[str, dict] = {}
    by_structure: dict[str, dict[str, bool]] = defaultdict(dict)
    for row in _rows(conn, _CITATIONS_SQL):
        ref = references.setdefault(
            row["key"],
            {"doi": row["doi"], "notes": [], "entries": set(), "structures": set(),
             "modified": row["created_at"]},
        )  # fmt: skip
        if row["reference"] and row["reference"] not in ref["notes"]:
            ref["notes"].append(row["reference"])
        ref["entries"].add(row["entry_id"])
        ref["modified"] = max(ref["modified"], row["created_at"])
        if row["structure_id"] is not None:
            ref["structures"].add(row["structure_id"])
            rid = reference_id(row["key"])
            links = by_structure[row["structure_id"]]
            links[rid] = links.get(rid, False) or bool(row["direct"])
    return _Citations(references, by_structure)


def _reference_documents(citations: _Citations) -> tuple[list[dict], list[dict]]:
    """The references' documents and their table rows."""
    documents, rows = [], []
    for key, ref in sorted(citations.references.items()):
        rid = reference_id(key)
        note = " | ".join(ref["notes"]) or None
        years = [y for y in (reference_year(n) for n in ref["notes"]) if y is not None]
        attributes = {
            "immutable_id": key,
            "last_modified": timestamp_text(ref["modified"]),
            "doi": ref["doi"],
            "url": f"https://doi.org/{ref['doi']}",
            "note": note,
            "year": str(years[0]) if years else None,
            "bib_type": "article",
            "_tcdb_n_entries": len(ref["entries"]),
            "_tcdb_n_structures": len(ref["structures"]),
        }
        documents.append({"id": rid, "type": "references", "attributes": attributes})
        rows.append({"id": rid, "type": "references", **{
            k.lstrip("_"): v for k, v in attributes.items() if k != "last_modified"
        }, "last_modified": _second(ref["modified"])})  # fmt: skip
    return documents, rows


def _structure_document(
    row: dict,
    predictions: dict[str, dict],
    models: list[str],
    snapshots: list[str],
    links: dict[str, bool],
) -> tuple[dict, dict]:
    """One structure's document (id, type, attributes, relationships) and its table row."""
    shape = geometry(row["structure_json"])
    chem = formulas(shape.amounts)
    moments = [row["created_at"], row["label_created_at"], row["literature_created_at"]]
    attributes: dict[str, Any] = {
        "immutable_id": f"{row['id']}@{row['content_sha256'][:16]}",
        "elements": chem.elements,
        "nelements": len(chem.elements),
        "elements_ratios": chem.elements_ratios,
        "chemical_formula_descriptive": row["formula"],
        "chemical_formula_reduced": chem.reduced,
        "chemical_formula_anonymous": chem.anonymous,
        "dimension_types": [1, 1, 1],
        "nperiodic_dimensions": 3,
        "lattice_vectors": shape.lattice_vectors,
        "space_group_it_number": row["spacegroup_number"],
        "cartesian_site_positions": shape.cartesian_site_positions,
        "nsites": len(shape.species_at_sites),
        "species": shape.species,
        "species_at_sites": shape.species_at_sites,
        "structure_features": shape.structure_features,
        "_tcdb_source": row["source_id"],
        "_tcdb_source_record_id": row["source_record_id"],
        "_tcdb_material_id": row["material_id"],
        "_tcdb_space_group_symbol": row["spacegroup_symbol"],
        "_tcdb_symprec": row["symprec"],
        "_tcdb_pressure_gpa": row["pressure_GPa"],
        "_tcdb_volume_a3": row["volume_A3"],
        "_tcdb_tc_k": row["label_tc_K"],
        "_tcdb_tc_label_table": row["label_table"],
        "_tcdb_tc_high_variance": row["high_variance"],
        "_tcdb_tc_variance_k2": row["tc_variance_K2"],
        "_tcdb_tc_n_records": row["n_measurements"],
        "_tcdb_literature_tc_k": row["literature_tc_K"],
        "_tcdb_literature_pressure_gpa": row["literature_pressure_GPa"],
        "_tcdb_literature_mu_star": row["literature_mu_star"],
        "_tcdb_literature_method": row["literature_method"],
        "_tcdb_literature_doi": row["literature_doi"],
        "_tcdb_literature_reference": row["literature_reference"],
        "_tcdb_literature_entry_id": row["literature_entry_id"],
        "_tcdb_literature_match": row["literature_match"],
        "_tcdb_literature_n_entries": row["literature_n_entries"],
        "_tcdb_snapshot_ids": snapshots,
    }
    table_row = {"id": row["id"], "type": "structures", "references_id": sorted(links)}
    for model in models:
        slug = model_slug(model)
        predicted = predictions.get(model)
        for part, _, _, _ in PREDICTION_PARTS:
            name = f"_tcdb_prediction_{slug}_{part}"
            value = None if predicted is None else predicted[part]
            if part == "created_at":
                moments.append(value)
                table_row[name.lstrip("_")] = _second(value)
                value = timestamp_text(value)
            attributes[name] = value
    attributes = {k: _finite(v) for k, v in attributes.items()}
    modified = max(m for m in moments if m is not None)
    attributes["last_modified"] = timestamp_text(modified)
    for name, value in attributes.items():
        column = name.lstrip("_")
        if column not in table_row:
            table_row[column] = value
    table_row["last_modified"] = _second(modified)
    document = {"id": row["id"], "type": "structures", "attributes": attributes}
    if links:
        document["relationships"] = {
            "references": {
                "data": [
                    {"type": "references", "id": rid, "meta": {"description": LINKS[direct]}}
                    for rid, direct in sorted(links.items())
                ]
            }
        }
    return document, table_row


def _predictions(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, dict]]:
    """Structure id → model → its latest prediction, with the prediction parts as keys."""
    found: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in _rows(conn, _PREDICTIONS_SQL):
        found[row["structure_id"]][row["model"]] = {
            "tc_k": row["tc_K"],
            "tc_std_k": row["tc_std_K"],
            "pressure_gpa": row["pressure_GPa"],
            "in_domain": row["in_domain"],
            "domain_reason": row["domain_reason"],
            "run_id": row["model_run_id"],
            "subject": row["subject_kind"],
            "created_at": row["created_at"],
        }
    return found


def _arrow_type(f: Field):
    import pyarrow as pa

    scalar = {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us"),
    }
    return pa.list_(scalar[f.item]) if f.type == "list" else scalar[f.type]


def _create_table(
    mem: duckdb.DuckDBPyConnection, name: str, fields: dict[str, Field], rows: list[dict]
) -> None:
    """The in-memory table of an entry type: one typed column per queryable field."""
    import pyarrow as pa

    columns = {f.column: f for f in fields.values() if f.queryable}
    schema = pa.schema([(column, _arrow_type(f)) for column, f in columns.items()])
    data = pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows], schema=schema)
    mem.register("incoming", data)
    try:
        mem.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
    finally:
        mem.unregister("incoming")


def _validated(documents: list[dict], model, refused: dict[str, str]) -> list[dict]:
    """The documents the optimade package's model accepts; the others are logged and left out."""
    from pydantic import ValidationError

    kept = []
    for document in documents:
        try:
            model(**document)
        except ValidationError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            refused[document["id"]] = reason
            log.warning("%s %s is not served: %s", document["type"], document["id"], reason)
            continue
        kept.append(document)
    return kept


def _read(conn: duckdb.DuckDBPyConnection) -> tuple[list[dict], list[dict], list[str], dict]:
    """Every structure's document and table row, the references' too, the models, refusals."""
    from optimade.models import ReferenceResource, StructureResource

    run = _latest_curation(conn)
    rows = _rows(conn, _STRUCTURES_SQL, {"run": run, "tables": list(LABEL_TABLES)})
    predictions = _predictions(conn)
    models = _models(conn)
    snapshots = _snapshot_members(conn)
    citations = _citations(conn)
    refused: dict[str, str] = {}
    documents, table_rows = [], {}
    for row in rows:
        document, table_row = _structure_document(
            row,
            predictions.get(row["id"], {}),
            models,
            snapshots.get(row["id"], []),
            citations.by_structure.get(row["id"], {}),
        )
        documents.append(document)
        table_rows[row["id"]] = table_row
    documents = _validated(documents, StructureResource, refused)
    structures = [(d, table_rows[d["id"]]) for d in documents]
    ref_documents, ref_rows = _reference_documents(citations)
    kept = {d["id"] for d in _validated(ref_documents, ReferenceResource, refused)}
    references = [(d, r) for d, r in zip(ref_documents, ref_rows, strict=True) if d["id"] in kept]
    return structures, references, models, refused


def load_catalogue(database: Path) -> Catalogue:
    """Read the database once, read-only, and build the in-memory catalogue from it."""
    from tcdb.schema.sql_access import open_read_only

    started = datetime.now(UTC)
    conn = open_read_only(database)
    try:
        try:
            structures, references, models, refused = _read(conn)
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            raise CatalogueError(
                f"The database {database} lacks tables or columns the API reads "
                f"({str(exc).splitlines()[0]}); run 'tcdb db upgrade' on it first."
            ) from None
        except duckdb.Error as exc:
            raise CatalogueError(
                f"The database {database} could not be read for the API: {str(exc).splitlines()[0]}"
            ) from None
    finally:
        conn.close()
    mem = duckdb.connect(":memory:", config={"python_enable_replacements": False, "threads": 1})
    try:
        s_fields, r_fields = structure_fields(models), reference_fields()
        _create_table(mem, "structures", s_fields, [r for _, r in structures])
        _create_table(mem, "references", r_fields, [r for _, r in references])
        # nothing a statement could name outside this database: no files, network or extensions
        mem.execute("SET enable_external_access = false")
        mem.execute("SET autoinstall_known_extensions = false")
        mem.execute("SET autoload_known_extensions = false")
        mem.execute("SET lock_configuration = true")
    except BaseException:
        mem.close()
        raise
    catalogue = Catalogue(
        database=Path(database),
        conn=mem,
        structures=EntryTable("structures", s_fields, {d["id"]: d for d, _ in structures}),
        references=EntryTable("references", r_fields, {d["id"]: d for d, _ in references}),
        models=models,
        loaded_at=started,
        refused=refused,
    )
    seconds = (datetime.now(UTC) - started).total_seconds()
    log.info(
        "read %d structures and %d references from %s in %.1f s (models: %s)",
        catalogue.structures.count,
        catalogue.references.count,
        database,
        seconds,
        ", ".join(models) or "none",
    )
    if refused:
        log.warning("%d entries are not served (see the warnings above)", len(refused))
    return catalogue
