"""What the README's queries and the report's figures show, computed again with pandas from
the tables the predictions are stored in (``prediction``, ``model_run``, ``material``,
``morph_candidate``), never through the views they read: a view or a figure that picked the
wrong run, row or column gives other numbers than these."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import duckdb
import pandas as pd


def table(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).df()


def rounded(value: float, digits: int = 0) -> float:
    """DuckDB's round(): halves away from zero (Python's round() takes halves to even)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    scale = 10.0**digits
    return math.copysign(math.floor(abs(value) * scale + 0.5) / scale, value)


def predictions(db: Path) -> pd.DataFrame:
    """Every prediction with its run's model, snapshot and finishing time (read once per
    version of the file: the report's database is shared and never written)."""
    stat = Path(db).stat()
    return _predictions(str(db), stat.st_mtime_ns, stat.st_size).copy()


@functools.cache
def _predictions(db: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return table(
        Path(db),
        "SELECT p.*, r.model, r.snapshot_id, r.finished_at AS run_finished_at FROM prediction p "
        "JOIN model_run r ON r.id = p.model_run_id",
    )


def newest_per_subject(rows: pd.DataFrame) -> pd.DataFrame:
    """Of each model's predictions of one subject, the one of its newest run (the newest
    written, between two of one run)."""
    ordered = rows.sort_values(["run_finished_at", "created_at"], ascending=False)
    return ordered.drop_duplicates(["model", "subject_kind", "subject_id"])


def extra(rows: pd.DataFrame, key: str) -> pd.Series:
    return rows.extra_json.map(lambda text: json.loads(text).get(key) if text else None)


# ---------------------------------------------------------------------------------- hydrides


def screened_hydrides(db: Path) -> pd.DataFrame:
    """The EH_n of the newest hydride run that screened any, as the model that run ranks with
    predicted them (the network's rows are kind ``hydride``, the forest's ``hydride_forest``;
    each names its model and the run's choice), with their element and n."""
    rows = predictions(db)
    network = rows[rows.subject_kind == "hydride"]
    newest = network.sort_values(["run_finished_at", "created_at"]).model_run_id.iloc[-1]
    rows = rows[rows.subject_kind.isin(["hydride", "hydride_forest"])]
    rows = rows[rows.model_run_id == newest]
    model = extra(rows, "model").fillna("network")
    rows = rows[model == extra(rows, "chosen_model").fillna("network")].assign(model=model)
    materials = table(db, "SELECT id AS material_id, hydride_host, h_per_host FROM material")
    rows = rows.merge(materials, on="material_id", how="inner")
    return rows.assign(
        element=rows.hydride_host,
        n_h=rows.h_per_host,
        Z=extra(rows, "Z"),
        distance_upper=rows.distance_to_ambient + rows.distance_std,
        element_distance=extra(rows, "element_distance"),
        nearest_trained_element=extra(rows, "nearest_trained_element"),
    )


def best_per_element(db: Path) -> pd.DataFrame:
    """Per element, its in-domain EH_n with the lowest distance to ambient (then lowest n),
    closest to ambient first (equal distances by element)."""
    inside = screened_hydrides(db)
    inside = inside[inside.in_domain.astype(bool)]
    best = inside.sort_values(["distance_to_ambient", "n_h"]).drop_duplicates("element")
    return best.sort_values(["distance_to_ambient", "element"]).reset_index(drop=True)


def closest_decile(db: Path) -> pd.DataFrame:
    """The in-domain EH_n whose distance to ambient is at most the lowest tenth's bound (the
    value at rank ceil(n / 10), counting from 1)."""
    inside = screened_hydrides(db)
    inside = inside[inside.in_domain.astype(bool)].sort_values("distance_to_ambient")
    bound = inside.distance_to_ambient.iloc[math.ceil(len(inside) * 0.1) - 1]
    return inside[inside.distance_to_ambient <= bound]


# -------------------------------------------------------------------------------- structures


def structure_predictions(db: Path) -> pd.DataFrame:
    """Each structure given to ``tcdb predict`` with its newest cvcnn T_c and the newest
    composition T_c of its formula (NaN where there is none)."""
    newest = newest_per_subject(predictions(db))
    given = newest[(newest.model == "cvcnn") & (newest.subject_kind == "input_structure")]
    chem = newest[(newest.model == "composition") & (newest.subject_kind == "composition")]
    chem = chem[["subject_id", "tc_K"]].rename(columns={"subject_id": "formula",
                                                        "tc_K": "composition_tc_K"})  # fmt: skip
    out = given.assign(name=extra(given, "name")).merge(chem, on="formula", how="left")
    return out.assign(difference_K=out.tc_K - out.composition_tc_K)


def validation_structures(db: Path) -> pd.DataFrame:
    """The newest cvcnn prediction of each labelled structure, with its label."""
    newest = newest_per_subject(predictions(db))
    rows = newest[(newest.model == "cvcnn") & (newest.subject_kind == "structure")]
    return rows.assign(label_tc_K=extra(rows, "label_tc_K").astype(float))


# ------------------------------------------------------------------------------------ morphs


def morph_points(db: Path) -> pd.DataFrame:
    """Every morph with the T_c of the newest cvcnn run that predicted its family."""
    rows = predictions(db)
    rows = rows[rows.subject_kind == "morph"]
    candidates = table(db, "SELECT * EXCLUDE (created_at) FROM morph_candidate")
    points = rows.merge(candidates, left_on="subject_id", right_on="id", suffixes=("", "_m"))
    newest = points.sort_values("run_finished_at").groupby("family").model_run_id.last()
    return points[points.model_run_id == points.family.map(newest)]


def morph_groups(db: Path) -> pd.DataFrame:
    """One row per morph (reference and substitution): the peak and lowest T_c over its
    lattice scales and the a at the peak."""
    points = morph_points(db)
    keys = ["family", "parent_structure_id", "substitution_json", "x_element", "y_element",
            "formula"]  # fmt: skip
    groups = points.groupby(keys, dropna=False)
    at_peak = points.loc[groups.tc_K.idxmax(), [*keys, "a_A"]].rename(columns={"a_A": "a_peak"})
    summary = groups.tc_K.agg(peak="max", lowest="min").reset_index()
    return summary.merge(at_peak, on=keys)
