"""Read-only views of the latest curation run for the command line."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from tcdb.core.supercon_formula import material_id_of_formula
from tcdb.schema.curation_runs import latest_curation_run


def groups_table(
    conn: duckdb.DuckDBPyConnection,
    min_variance: float,
    limit: int,
    formula: str | None = None,
    label_table: str | None = None,
) -> pd.DataFrame:
    """Groups of the latest run at or above a variance, most variable first (of one SuperCon
    table, or of each)."""
    run_id = latest_curation_run(conn)
    sql = (
        "SELECT m.reduced_formula, g.label_table, g.n_values, g.n_not_superconducting, "
        "g.tc_mean_K, g.tc_variance_K2, g.values_json FROM composition_group g "
        "JOIN material m ON m.id = g.material_id WHERE g.curation_run_id = ? "
    )
    params: list = [run_id]
    if label_table:
        sql += "AND g.label_table = ? "
        params.append(label_table)
    if formula:
        sql += "AND g.material_id = ? "
        params.append(material_id_of_formula(formula))
    else:
        sql += "AND g.tc_variance_K2 >= ? "
        params.append(min_variance)
    sql += "ORDER BY g.tc_variance_K2 DESC, m.reduced_formula, g.label_table LIMIT ?"
    params.append(limit)
    return conn.execute(sql, params).df()


def format_groups(groups: pd.DataFrame) -> str:
    if groups.empty:
        return "No composition group matches."
    lines = [
        f"{'composition':<28} {'table':<16} {'n':>4} {'not SC':>6} {'mean K':>8} {'σ² K²':>9}  "
        "values (K)"
    ]
    for g in groups.itertuples(index=False):
        values = json.loads(g.values_json) if isinstance(g.values_json, str) else []
        shown = ", ".join(f"{v:g}" for v in values[:12]) + (" …" if len(values) > 12 else "")
        mean = f"{g.tc_mean_K:8.2f}" if pd.notna(g.tc_mean_K) else f"{'—':>8}"
        var = f"{g.tc_variance_K2:9.2f}" if pd.notna(g.tc_variance_K2) else f"{'—':>9}"
        lines.append(
            f"{g.reduced_formula:<28} {g.label_table:<16} {g.n_values:>4} "
            f"{g.n_not_superconducting:>6} {mean} {var}"
            f"  {shown}"
        )
    return "\n".join(lines)


def match_counts(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    run_id = latest_curation_run(conn)
    return conn.execute(
        "SELECT method, count(DISTINCT material_id) AS compositions, "
        "count(DISTINCT structure_id) AS structures, max(composition_distance) AS max_distance "
        "FROM structure_match WHERE curation_run_id = ? GROUP BY method ORDER BY method",
        [run_id],
    ).df()


def format_matches(counts: pd.DataFrame) -> str:
    lines = [f"{'method':<18} {'compositions':>12} {'structures':>10} {'max distance':>12}"]
    for row in counts.itertuples(index=False):
        lines.append(
            f"{row.method:<18} {row.compositions:>12,} {row.structures:>10,} "
            f"{row.max_distance:>12.4f}"
        )
    return "\n".join(lines)


def unmatched_compositions(conn: duckdb.DuckDBPyConnection, limit: int) -> list[tuple[str, int]]:
    """SuperCon compositions with no structure match, most measured first (measurements of
    every SuperCon table)."""
    run_id = latest_curation_run(conn)
    return conn.execute(
        "SELECT m.reduced_formula, sum(g.n_measurements)::INTEGER AS n FROM composition_group g "
        "JOIN material m ON m.id = g.material_id WHERE g.curation_run_id = ? "
        "AND g.material_id NOT IN (SELECT material_id FROM structure_match "
        "WHERE curation_run_id = ?) GROUP BY m.reduced_formula "
        "ORDER BY n DESC, m.reduced_formula LIMIT ?",
        [run_id, run_id, limit],
    ).fetchall()
