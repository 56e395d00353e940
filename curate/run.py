"""One curation pass: groups and their labels, structure matches, and the ledger of it all.

Read (SQL → frames), process (the pure functions of ``curate.groups`` and ``curate.matching``),
write (one transaction). Each pass is a new ``curation_run``; earlier passes stay in the
database, so a snapshot can always name the pass it was frozen from.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import pandas as pd
import pyarrow as pa

from tcdb.core.errors import TcdbError
from tcdb.core.hashing import json_sha256, record_id
from tcdb.core.provenance import provenance_stamp
from tcdb.core.timestamps import utcnow
from tcdb.curate.groups import group_by_table, label_groups, unlabelled_groups
from tcdb.curate.matching import composition_distance, match_structures
from tcdb.curate.parameters import CURATION, CurationParameters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableCounts:
    """What one SuperCon table gave in a curation pass."""

    measurements: int
    excluded_measurements: int
    groups: int
    labelled: int
    high_variance: int
    unlabelled: int


@dataclass(frozen=True)
class CurationOutcome:
    run_id: str
    # SuperCon table (source id) -> its counts
    tables: dict[str, TableCounts]
    # distinct compositions over every table (what matching ran over)
    n_compositions: int
    # method -> (distinct materials, distinct structures, links between them)
    matches_by_method: dict[str, tuple[int, int, int]]

    @property
    def n_measurements(self) -> int:
        return sum(t.measurements for t in self.tables.values())

    @property
    def n_excluded_measurements(self) -> int:
        return sum(t.excluded_measurements for t in self.tables.values())

    @property
    def n_groups(self) -> int:
        return sum(t.groups for t in self.tables.values())

    def summary(self) -> str:
        lines = [
            f"curation run {self.run_id}",
            f"  {self.n_measurements:,} SuperCon measurements, {self.n_excluded_measurements:,} "
            f"left out (see the ledger); {self.n_compositions:,} compositions over "
            f"{len(self.tables)} table(s)",
        ]
        for table, t in sorted(self.tables.items()):
            lines.append(
                f"  {table}: {t.measurements:,} measurements, {t.groups:,} composition groups: "
                f"{t.labelled:,} with a T_c label, {t.high_variance:,} at or above the variance "
                f"cutoff, {t.unlabelled:,} with only 'not superconducting' observations"
            )
        for method, (materials, structures, links) in sorted(self.matches_by_method.items()):
            lines.append(
                f"  {method:<17} {materials:>6,} compositions ↔ {structures:>6,} structures "
                f"({links:,} links)"
            )
        return "\n".join(lines)


# ------------------------------------------------------------------------------------ read


def read_measurements(conn: duckdb.DuckDBPyConnection, params: CurationParameters) -> pd.DataFrame:
    return conn.execute(
        "SELECT id, source_id, material_id, tc_kind, tc_K, coalesce(flags, '') AS flags "
        "FROM measurement "
        "WHERE status = 'active' AND source_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY id",
        [list(params.supercon_sources)],
    ).df()


def read_materials(conn: duckdb.DuckDBPyConnection, ids: list[str]) -> pd.DataFrame:
    conn.register("wanted_materials", pa.table({"id": ids}))
    try:
        return conn.execute(
            "SELECT m.id, m.fractions_json, m.reduced_formula FROM material m "
            "JOIN wanted_materials w ON w.id = m.id ORDER BY m.id"
        ).df()
    finally:
        conn.unregister("wanted_materials")


def read_structures(conn: duckdb.DuckDBPyConnection, params: CurationParameters) -> pd.DataFrame:
    return conn.execute(
        "SELECT s.id, s.material_id, m.fractions_json FROM crystal_structure s "
        "JOIN material m ON m.id = s.material_id "
        "WHERE s.status = 'active' AND s.retired_run_id IS NULL "
        "AND s.source_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY s.id",
        [list(params.structure_sources)],
    ).df()


def read_literature_links(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return conn.execute(
        "SELECT e.material_id, e.structure_id, me.fractions_json AS entry_fractions, "
        "ms.fractions_json AS structure_fractions FROM literature_entry e "
        "JOIN crystal_structure s ON s.id = e.structure_id "
        "JOIN material me ON me.id = e.material_id JOIN material ms ON ms.id = s.material_id "
        "WHERE e.status = 'active' AND e.retired_run_id IS NULL ORDER BY e.id"
    ).df()


# --------------------------------------------------------------------------------- process


def excluded_measurements(measurements: pd.DataFrame, params: CurationParameters) -> pd.DataFrame:
    """The measurements left out of the groups, with the reason for each."""
    reasons = []
    for measurement_id, flags in zip(measurements["id"], measurements["flags"], strict=True):
        names = flags.split(";") if flags else []
        hit = [f for f in names if f in params.exclude_measurement_flags]
        if params.drop_exact_duplicates:
            hit += [f for f in names if f.startswith("duplicate_of_line_")]
        if hit:
            reasons.append((measurement_id, f"flagged {', '.join(hit)}"))
    return pd.DataFrame(reasons, columns=["id", "reason"])


def literature_matches(links: pd.DataFrame) -> pd.DataFrame:
    rows = [
        (
            material_id,
            structure_id,
            "literature_file",
            composition_distance(json.loads(a), json.loads(b)),
            None,
        )
        for material_id, structure_id, a, b in links.itertuples(index=False)
    ]
    return pd.DataFrame(
        rows,
        columns=["material_id", "structure_id", "method", "composition_distance", "tolerance"],
    )


def table_counts(
    measurements: pd.DataFrame,
    excluded: pd.DataFrame,
    groups: pd.DataFrame,
    labels: pd.DataFrame,
    cutoff_K2: float,
) -> dict[str, TableCounts]:
    """The counts of a pass per SuperCon table (every table read, even one with no group)."""
    left_out = measurements["id"].isin(excluded["id"])
    counts = {}
    for table in sorted(set(measurements["source_id"])):
        rows = measurements["source_id"] == table
        mine = groups[groups["label_table"] == table]
        counts[table] = TableCounts(
            measurements=int(rows.sum()),
            excluded_measurements=int((rows & left_out).sum()),
            groups=len(mine),
            labelled=int(labels.loc[labels["label_table"] == table, "material_id"].nunique()),
            high_variance=int((mine["tc_variance_K2"] >= cutoff_K2).sum()),
            unlabelled=int((mine["n_values"] == 0).sum()),
        )
    return counts


# ----------------------------------------------------------------------------------- write


def _ledger_row(run_id: str, stage: str, table: str, subject: str, action: str, reason: str,
                parameters: dict, now: datetime, qualifier: str = "") -> dict:  # fmt: skip
    """A ledger entry; ``qualifier`` (such as the SuperCon table of a group) tells apart
    entries about one subject in one stage."""
    parts = (run_id, stage, table, subject, action) + ((qualifier,) if qualifier else ())
    return {
        "id": record_id("ledger", *parts),
        "curation_run_id": run_id,
        "stage": stage,
        "subject_table": table,
        "subject_id": subject,
        "action": action,
        "reason": reason,
        "parameters_json": json.dumps(parameters, sort_keys=True),
        "created_at": now,
    }


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    conn.register("incoming_rows", pa.Table.from_pylist(rows))
    try:
        columns = ", ".join(f'"{c}"' for c in rows[0])
        conn.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM incoming_rows')
    finally:
        conn.unregister("incoming_rows")


def inputs_fingerprint(conn: duckdb.DuckDBPyConnection, params: CurationParameters) -> str:
    """What a curation pass depends on: its parameters, the latest ingest run of every source
    and the manual deprecations. Equal fingerprints give equal results."""
    runs = conn.execute(
        "SELECT source_id, max(id) FROM ingest_run WHERE status = 'succeeded' "
        "GROUP BY source_id ORDER BY source_id"
    ).fetchall()
    manual = conn.execute(
        "SELECT count(*), max(created_at) FROM curation_ledger WHERE stage = 'manual'"
    ).fetchone()
    return json_sha256([params.as_dict(), runs, [manual[0], str(manual[1])]])


def unchanged_since(conn: duckdb.DuckDBPyConnection, fingerprint: str) -> str | None:
    """The latest curation run, if it was made from the same inputs."""
    row = conn.execute(
        "SELECT id, summary_json FROM curation_run WHERE status = 'succeeded' "
        "ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if row and json.loads(row[1] or "{}").get("inputs_fingerprint") == fingerprint:
        return row[0]
    return None


def run_curation(
    conn: duckdb.DuckDBPyConnection, params: CurationParameters = CURATION, force: bool = False
) -> CurationOutcome | str:
    """Group, label, match and write it all (with the ledger) in one transaction; or, when
    nothing changed since the latest pass, that pass's id (nothing is written)."""
    fingerprint = inputs_fingerprint(conn, params)
    previous = None if force else unchanged_since(conn, fingerprint)
    if previous:
        return previous
    now = utcnow()
    run_id = f"curation-{now:%Y%m%dT%H%M%S%f}"
    measurements = read_measurements(conn, params)
    if measurements.empty:
        raise TcdbError("There are no SuperCon measurements to curate; run 'tcdb ingest' first.")
    excluded = excluded_measurements(measurements, params)
    kept = measurements[~measurements["id"].isin(excluded["id"])]
    groups = group_by_table(kept)
    labels = label_groups(groups, params.variance_cutoff_K2, params.high_variance_policy)
    unlabelled = unlabelled_groups(groups)
    materials = read_materials(conn, sorted(set(groups["material_id"])))
    matches = pd.concat(
        [
            match_structures(materials, read_structures(conn, params), params.near_match_distance),
            literature_matches(read_literature_links(conn)),
        ],
        ignore_index=True,
    )
    parameters = params.as_dict()

    high = groups["tc_variance_K2"] >= params.variance_cutoff_K2
    mean_labels = labels[labels["label_kind"] == "mean"].set_index(["label_table", "material_id"])[
        "label_tc_K"
    ]
    group_rows = [
        {
            "id": record_id("group", run_id, g.label_table, g.material_id),
            "curation_run_id": run_id,
            "material_id": g.material_id,
            "label_table": g.label_table,
            "n_measurements": int(g.n_measurements),
            "n_values": int(g.n_values),
            "n_not_superconducting": int(g.n_not_superconducting),
            "tc_mean_K": None if pd.isna(g.tc_mean_K) else float(g.tc_mean_K),
            "tc_variance_K2": None if pd.isna(g.tc_variance_K2) else float(g.tc_variance_K2),
            "tc_min_K": None if pd.isna(g.tc_min_K) else float(g.tc_min_K),
            "tc_max_K": None if pd.isna(g.tc_max_K) else float(g.tc_max_K),
            "values_json": json.dumps(g.values) if isinstance(g.values, list) else None,
            "high_variance": bool(is_high),
            "label_tc_K": float(mean_labels[(g.label_table, g.material_id)])
            if (g.label_table, g.material_id) in mean_labels.index
            else None,
            "label_policy": params.high_variance_policy,
            "created_at": now,
        }
        for g, is_high in zip(groups.itertuples(index=False), high, strict=True)
    ]
    ledger = [
        _ledger_row(run_id, "groups", "measurement", mid, "exclude", reason, parameters, now)
        for mid, reason in excluded.itertuples(index=False)
    ]
    ledger += [
        _ledger_row(
            run_id, "groups", "material", g.material_id, "flag",
            f"{g.label_table}: high variance: {g.tc_variance_K2:.3g} K² >= "
            f"{params.variance_cutoff_K2:g} K² over {g.n_values} values; "
            f"policy {params.high_variance_policy}",
            parameters, now, g.label_table,
        )
        for g in groups[high].itertuples(index=False)
    ]  # fmt: skip
    ledger += [
        _ledger_row(
            run_id, "groups", "material", g.material_id, "exclude",
            f"{g.label_table}: no T_c label: only {g.n_not_superconducting} "
            f"'not superconducting' observation(s)",
            parameters, now, g.label_table,
        )
        for g in unlabelled.itertuples(index=False)
    ]  # fmt: skip
    match_rows = [
        {
            "id": record_id("match", run_id, m.material_id, m.structure_id, m.method),
            "material_id": m.material_id,
            "structure_id": m.structure_id,
            "method": m.method,
            "composition_distance": float(m.composition_distance),
            "tolerance": None if pd.isna(m.tolerance) else float(m.tolerance),
            "curation_run_id": run_id,
            "status": "active",
            "created_at": now,
        }
        for m in matches.itertuples(index=False)
    ]
    counts = Counter(r["method"] for r in match_rows)
    by_method = {
        method: (
            len({r["material_id"] for r in match_rows if r["method"] == method}),
            len({r["structure_id"] for r in match_rows if r["method"] == method}),
            n,
        )
        for method, n in counts.items()
    }
    outcome = CurationOutcome(
        run_id,
        table_counts(measurements, excluded, groups, labels, params.variance_cutoff_K2),
        len(materials),
        by_method,
    )
    run_row = {
        "id": run_id,
        "parameters_json": json.dumps(parameters, sort_keys=True),
        "summary_json": json.dumps(
            asdict(outcome) | {"inputs_fingerprint": fingerprint}, default=str
        ),
        "status": "succeeded",
        **provenance_stamp().columns(),
        "started_at": now,
        "finished_at": utcnow(),
    }
    conn.begin()
    try:
        _insert(conn, "curation_run", [run_row])
        _insert(conn, "composition_group", group_rows)
        _insert(conn, "structure_match", match_rows)
        _insert(conn, "curation_ledger", ledger)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    log.info("curation run %s written", run_id)
    return outcome
