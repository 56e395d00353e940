"""Choosing what a snapshot holds, from the latest curation run, and freezing it.

Why here: selecting labels and entries is curation (the groups' labels under the variance
policy, the structure matches, the held-out compositions, the ledger of rows left out); the
store (``store.snapshots``) only writes, hashes, records and reads back the tables it is given.

Kinds:
- ``structures`` (Novakovic et al. 2023): crystal structures labelled with their composition's
  T_c (SuperCon groups under the variance policy, via exact matches unless near matches are
  asked for) plus literature hydride structures labelled with the literature T_c (the mean of a
  two-μ* range). The SuperCon groups come from the label tables in their order of precedence
  (``curate.groups.groups_by_precedence``); every label names its table in ``label_table``
  (``literature`` for the literature's).
- ``hydrides`` (Hutcheon et al. 2020): binary hydrides EH_n from the literature, one row per
  (material, phase, pressure, reference) with T_c and P.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from tcdb.core.hashing import record_id
from tcdb.core.supercon_formula import material_id_of_formula
from tcdb.core.timestamps import utcnow
from tcdb.curate.groups import groups_by_precedence, label_groups
from tcdb.curate.parameters import SnapshotParameters
from tcdb.schema.curation_runs import latest_curation_run
from tcdb.schema.database import insert_new_rows
from tcdb.store.snapshots import Snapshot, SnapshotError, freeze_snapshot

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------- held out


def read_exclude_formulas(path: Path) -> tuple[str, ...]:
    """Formulas (one per line, ``#`` comments) to hold out, checked to resolve."""
    formulas = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if material_id_of_formula(text) is None:
            raise SnapshotError(f"{path} line {number}: {text!r} is not a formula that resolves")
        formulas.append(text)
    return tuple(formulas)


def held_out_materials(params: SnapshotParameters) -> set[str]:
    return {m for m in (material_id_of_formula(f) for f in params.exclude_formulas) if m}


# ---------------------------------------------------------------------------- build tables


def _query(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, params or []).df()


LITERATURE_LABEL_TABLE = "literature"


def read_label_groups(
    conn: duckdb.DuckDBPyConnection, run_id: str, label_tables: tuple[str, ...]
) -> pd.DataFrame:
    """The composition groups of the label tables in a curation run; a table the run did not
    group is refused (the run predates it, or curation left it out)."""
    groups = _query(
        conn,
        "SELECT g.material_id, g.label_table, g.n_measurements, g.n_values, "
        "g.n_not_superconducting, g.tc_mean_K, g.tc_variance_K2, g.tc_min_K, g.tc_max_K, "
        "g.values_json FROM composition_group g WHERE g.curation_run_id = ? "
        "AND g.label_table IN (SELECT unnest(?::VARCHAR[])) ORDER BY g.material_id, g.label_table",
        [run_id, list(label_tables)],
    )
    missing = [t for t in label_tables if t not in set(groups["label_table"])]
    if missing:
        raise SnapshotError(
            f"curation run {run_id} has no composition groups of {', '.join(missing)}; ingest "
            f"that table ('tcdb ingest supercon') and run 'tcdb curate run' again"
        )
    groups["values"] = groups.pop("values_json").map(
        lambda v: json.loads(v) if isinstance(v, str) else []
    )
    return groups


def precedence_conflict_count(
    conn: duckdb.DuckDBPyConnection, run_id: str, label_tables: tuple[str, ...]
) -> int:
    """How many compositions the precedence leaves unlabelled although a later table has a
    T_c for them."""
    _, conflicts = groups_by_precedence(read_label_groups(conn, run_id, label_tables), label_tables)
    return int(conflicts["material_id"].nunique())


def first_reference_years(
    conn: duckdb.DuckDBPyConnection, run_id: str, label_tables: tuple[str, ...]
) -> pd.DataFrame:
    """The earliest reference year among the records a curation run grouped, per label table
    and material (``label_table``, ``material_id``, ``year``): when each composition was first
    reported. Only NIMS records carry a year; measurements the run left out of its groups (its
    ledger) do not count."""
    return _query(
        conn,
        "SELECT m.source_id AS label_table, m.material_id, min(r.reference_year) AS year "
        "FROM measurement m JOIN raw_nims_supercon r ON r.id = m.origin_id "
        "WHERE m.origin_table = 'raw_nims_supercon' AND m.status = 'active' "
        "AND r.reference_year IS NOT NULL AND m.source_id IN (SELECT unnest(?::VARCHAR[])) "
        "AND m.id NOT IN (SELECT subject_id FROM curation_ledger WHERE curation_run_id = ? "
        "AND stage = 'groups' AND subject_table = 'measurement' AND action = 'exclude') "
        "GROUP BY ALL",
        [list(label_tables), run_id],
    )


def year_counts(entries: pd.DataFrame) -> dict[str, int]:
    """How many SuperCon labels have a year, of how many (the manifest's ``notes``)."""
    supercon = entries[entries["origin"] == "supercon"]
    return {"supercon_labels": len(supercon), "with_year": int(supercon["year"].notna().sum())}


def label_table_counts(entries: pd.DataFrame, structures: pd.DataFrame) -> dict[str, dict]:
    """Per label table: the compositions it labels, the structures, and the (composition,
    structure) links by match method."""
    counts = {}
    for table in sorted(set(entries["label_table"]) | set(structures["label_table"])):
        mine = structures[structures["label_table"] == table]
        links = mine.drop_duplicates(["material_id", "structure_id", "match_method"])
        labelled = entries.loc[entries["label_table"] == table, "material_id"]
        by_method = links["match_method"].value_counts().sort_index()
        counts[table] = {
            "compositions": int(labelled.nunique()),
            "structures": int(mine["structure_id"].nunique()),
            "links": {method: int(n) for method, n in by_method.items()},
        }
    return counts


def structures_tables(
    conn: duckdb.DuckDBPyConnection, params: SnapshotParameters, run_id: str
) -> dict[str, pd.DataFrame]:
    """Entries (one per label) and labelled structures of a ``structures`` snapshot."""
    groups, conflicts = groups_by_precedence(
        read_label_groups(conn, run_id, params.label_tables), params.label_tables
    )
    _ledger_precedence_conflicts(conn, run_id, params.label_tables, conflicts)
    labels = label_groups(groups, params.variance_cutoff_K2, params.high_variance_policy)
    labels = labels.drop(columns=["values"]).assign(
        origin="supercon", literature_entry_id=None, pressure_GPa=None, method="experiment"
    )
    years = first_reference_years(conn, run_id, params.label_tables)
    labels = labels.merge(years, on=["label_table", "material_id"], how="left")
    labels["year"] = labels["year"].astype(float)  # NaN: no record of the group has a year
    literature = _query(
        conn,
        "SELECT e.material_id, e.tc_K AS label_tc_K, e.id AS literature_entry_id, "
        "e.pressure_GPa, e.method, e.excluded_from_training FROM literature_entry e "
        "WHERE e.status = 'active' AND e.retired_run_id IS NULL AND e.structure_id IS NOT NULL "
        "AND e.tc_K IS NOT NULL AND isfinite(e.tc_K) "
        "AND e.method IN (SELECT unnest(?::VARCHAR[])) ORDER BY e.id",
        [list(params.literature_methods)],
    )
    _ledger_non_finite(conn, run_id, ("tc_K",))
    if not params.include_flagged:
        literature = literature[~literature["excluded_from_training"]]
    literature = literature.drop(columns=["excluded_from_training"]).assign(
        origin="literature",
        label_kind="literature",
        high_variance=False,
        label_table=LITERATURE_LABEL_TABLE,
    )
    entries = pd.concat([labels, literature], ignore_index=True)
    materials = _query(
        conn, "SELECT id AS material_id, reduced_formula, composition_json FROM material"
    )
    entries = entries.merge(materials, on="material_id", how="left")
    held_out = held_out_materials(params)
    entries = entries[~entries["material_id"].isin(held_out)]

    matches = _query(
        conn,
        "SELECT m.material_id, m.structure_id, m.method AS match_method, m.composition_distance, "
        "s.reduced_formula AS structure_formula, s.source_id AS structure_source, "
        "s.spacegroup_number, s.volume_A3, s.n_sites, s.pressure_GPa AS structure_pressure_GPa, "
        "s.structure_json FROM structure_match m JOIN crystal_structure s ON s.id = m.structure_id "
        "WHERE m.curation_run_id = ? AND m.status = 'active' AND s.status = 'active' "
        "AND m.method IN (SELECT unnest(?::VARCHAR[])) ORDER BY m.structure_id, m.material_id",
        [run_id, list(params.match_methods)],
    )
    supercon = entries[entries["origin"] == "supercon"].merge(
        matches[matches["match_method"] != "literature_file"], on="material_id"
    )
    lit_matches = matches[matches["match_method"] == "literature_file"]
    from_literature = entries[entries["origin"] == "literature"].merge(
        lit_matches, on="material_id"
    )
    # A literature entry labels only the structure file it names (its phase and pressure).
    linked = _query(conn, "SELECT id AS literature_entry_id, structure_id FROM literature_entry")
    from_literature = from_literature.merge(linked, on=["literature_entry_id", "structure_id"])
    structures = pd.concat([supercon, from_literature], ignore_index=True)
    structures = structures[~structures["structure_id"].isin(_held_out_structures(conn, held_out))]
    keep = [
        "structure_id", "material_id", "reduced_formula", "label_tc_K", "label_kind", "origin",
        "label_table", "literature_entry_id", "match_method", "composition_distance",
        "structure_source", "spacegroup_number", "volume_A3", "n_sites", "structure_pressure_GPa",
        "structure_json",
    ]  # fmt: skip
    structures = structures[keep].sort_values(["structure_id", "label_tc_K", "origin"])
    entry_columns = [
        "material_id", "reduced_formula", "composition_json", "label_tc_K", "label_kind",
        "origin", "label_table", "high_variance", "n_values", "tc_mean_K", "tc_variance_K2",
        "literature_entry_id", "pressure_GPa", "method", "year",
    ]  # fmt: skip
    entries = entries[entry_columns].sort_values(["material_id", "label_tc_K", "origin"])
    return {
        "entries.parquet": entries.reset_index(drop=True),
        "structures.parquet": structures.reset_index(drop=True),
    }


def _ledger_precedence_conflicts(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    label_tables: tuple[str, ...],
    conflicts: pd.DataFrame,
) -> None:
    """Ledger entries for the compositions a table earlier in the precedence leaves unlabelled
    ('not superconducting' only) although a later table has a T_c for them."""
    if conflicts.empty:
        return
    precedence = ",".join(label_tables)
    now = utcnow()
    rows = [
        {
            "id": record_id(
                "ledger",
                "snapshot",
                "precedence",
                run_id,
                precedence,
                c.material_id,
                c.overruled_table,
            ),
            "curation_run_id": run_id,
            "stage": "snapshot",
            "subject_table": "material",
            "subject_id": c.material_id,
            "action": "exclude",
            "reason": f"label tables {precedence}: {c.label_table} says only 'not "
            f"superconducting' and comes first, so the {c.n_values} T_c value(s) of "
            f"{c.overruled_table} (mean {c.tc_mean_K:.4g} K) are not used",
            "created_at": now,
        }
        for c in conflicts.itertuples(index=False)
    ]
    log.info("%d composition(s) left unlabelled by the label precedence", len(rows))
    insert_new_rows(conn, "curation_ledger", pa.Table.from_pylist(rows))


def _held_out_structures(conn: duckdb.DuckDBPyConnection, materials: set[str]) -> set[str]:
    """Every structure of a held-out composition, however it was matched."""
    if not materials:
        return set()
    rows = conn.execute(
        "SELECT id FROM crystal_structure WHERE material_id IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(materials)],
    ).fetchall()
    return {r[0] for r in rows}


def hydrides_tables(
    conn: duckdb.DuckDBPyConnection, params: SnapshotParameters, run_id: str
) -> dict[str, pd.DataFrame]:
    """Binary hydride data points EH_n with T_c and pressure, for the (T_c, P) model."""
    entries = _query(
        conn,
        "SELECT e.id AS literature_entry_id, e.formula, m.reduced_formula, e.material_id, "
        "m.hydride_host AS element, m.h_per_host AS n_h, e.tc_K, e.tc_low_K, e.tc_high_K, "
        "e.pressure_GPa, e.pressure_low_GPa, e.pressure_high_GPa, e.mu_star, e.space_group, "
        "e.method, e.doi, e.reference, e.flags, e.excluded_from_training "
        "FROM literature_entry e JOIN material m ON m.id = e.material_id "
        "WHERE e.status = 'active' AND e.retired_run_id IS NULL AND m.hydride_host IS NOT NULL "
        "AND e.tc_K IS NOT NULL AND e.pressure_GPa IS NOT NULL "
        "AND isfinite(e.tc_K) AND isfinite(e.pressure_GPa) "
        "AND e.method IN (SELECT unnest(?::VARCHAR[])) ORDER BY e.id",
        [list(params.literature_methods)],
    )
    _ledger_non_finite(conn, run_id, ("tc_K", "pressure_GPa"))
    if not params.include_flagged:
        entries = entries[~entries["excluded_from_training"]]
    entries = entries[~entries["material_id"].isin(held_out_materials(params))]
    entries = entries.drop(columns=["excluded_from_training"])
    return {"entries.parquet": entries.sort_values("literature_entry_id").reset_index(drop=True)}


def _ledger_non_finite(
    conn: duckdb.DuckDBPyConnection, run_id: str, columns: tuple[str, ...]
) -> None:
    """Ledger entries for the literature entries a snapshot leaves out because a label column
    is NaN or infinite (ingest refuses such values; this guards rows loaded before it did)."""
    bad = " OR ".join(f"NOT isfinite({c})" for c in columns)
    rows = conn.execute(
        f"SELECT id FROM literature_entry WHERE status = 'active' AND retired_run_id IS NULL "
        f"AND ({bad}) ORDER BY id"
    ).fetchall()
    reason = f"{' or '.join(columns)} is NaN or infinite; left out of every snapshot"
    now = utcnow()
    ledger = []
    for (entry_id,) in rows:
        log.warning("literature entry %s has a non-finite %s; left out", entry_id, columns)
        ledger.append(
            {
                "id": record_id("ledger", "snapshot", "non_finite", run_id, entry_id),
                "curation_run_id": run_id,
                "stage": "snapshot",
                "subject_table": "literature_entry",
                "subject_id": entry_id,
                "action": "exclude",
                "reason": reason,
                "created_at": now,
            }
        )
    if ledger:
        insert_new_rows(conn, "curation_ledger", pa.Table.from_pylist(ledger))


def _source_hashes(conn: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rows = conn.execute("SELECT id, path, file_sha256 FROM source ORDER BY id").fetchall()
    return {sid: {"path": path, "sha256": sha} for sid, path, sha in rows}


def create_snapshot(
    conn: duckdb.DuckDBPyConnection, name: str, params: SnapshotParameters, root: Path
) -> Snapshot:
    """Freeze a snapshot of the latest curation run under ``root/<id>/`` and record it in the
    database (rows left out for a non-finite label go to the ledger)."""
    run_id = latest_curation_run(conn)
    build = structures_tables if params.kind == "structures" else hydrides_tables
    tables = build(conn, params, run_id)
    notes = None
    if params.kind == "structures":
        notes = {
            "label_tables": label_table_counts(
                tables["entries.parquet"], tables["structures.parquet"]
            ),
            "precedence_conflicts": precedence_conflict_count(conn, run_id, params.label_tables),
            "years": year_counts(tables["entries.parquet"]),
        }
    return freeze_snapshot(
        conn,
        name,
        params.kind,
        params.as_dict(),
        tables,
        root,
        held_out_materials=sorted(held_out_materials(params)),
        curation_run_id=run_id,
        sources=_source_hashes(conn),
        notes=notes,
    )
