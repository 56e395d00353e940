"""Grouping SuperCon measurements by composition, and the labels a variance policy gives.

Novakovic et al. (2023, Sec. II, Table I): repeated measurements of one composition are
grouped; each group has a mean T_c and a population variance (ddof = 0: 26.0 and 27.0 K give
26.5 K and 0.25 K²). Groups at or above the variance cutoff are handled by a policy:
``average`` (the paper's), ``exclude`` or ``keep-all`` (every measurement its own label).
"Not superconducting" observations are censored: they are counted but never averaged with
T_c values, and a group with no T_c value gets no label.

Each SuperCon table is grouped on its own (``label_table``: its source id): the tables are
cleanings of one database, so pooling them would count most measurements twice. A snapshot
then chooses, per composition, the first table of its precedence that has any record of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUP_COLUMNS = (
    "material_id",
    "n_measurements",
    "n_values",
    "n_not_superconducting",
    "tc_mean_K",
    "tc_variance_K2",
    "tc_min_K",
    "tc_max_K",
    "values",
)


def group_measurements(measurements: pd.DataFrame) -> pd.DataFrame:
    """One row per material: counts, mean, population variance, range and the values.

    ``measurements`` needs ``material_id``, ``tc_kind`` and ``tc_K``; rows of kind
    ``not_superconducting`` are counted apart and never enter the statistics."""
    if measurements.empty:
        return pd.DataFrame(columns=list(GROUP_COLUMNS))
    data = measurements[["material_id", "tc_kind", "tc_K"]].copy()
    has_value = data["tc_kind"].isin(["value", "range"]) & data["tc_K"].notna()
    values = data[has_value]
    # counted at once, not by a function per group: 30,000 groups took 10-20 s that way
    data["not_superconducting"] = data["tc_kind"].eq("not_superconducting").astype(int)
    counts = data.groupby("material_id", sort=True).agg(
        n_measurements=("tc_kind", "size"),
        n_not_superconducting=("not_superconducting", "sum"),
    )
    stats = values.groupby("material_id", sort=True)["tc_K"].agg(
        n_values="size",
        tc_mean_K="mean",
        tc_variance_K2=lambda tc: float(np.var(tc.to_numpy(), ddof=0)),
        tc_min_K="min",
        tc_max_K="max",
        values=lambda tc: [float(v) for v in tc],
    )
    groups = counts.join(stats, how="left").reset_index()
    groups["n_values"] = groups["n_values"].fillna(0).astype(int)
    return groups[list(GROUP_COLUMNS)]


def group_by_table(measurements: pd.DataFrame) -> pd.DataFrame:
    """The groups of every SuperCon table apart: ``group_measurements`` per ``source_id``, each
    row carrying its table as ``label_table`` (one row per table and material)."""
    columns = ["label_table", *GROUP_COLUMNS]
    if measurements.empty:
        return pd.DataFrame(columns=columns)
    tables = [
        group_measurements(rows).assign(label_table=table)
        for table, rows in measurements.groupby("source_id", sort=True)
    ]
    return pd.concat(tables, ignore_index=True)[columns]


def label_groups(groups: pd.DataFrame, cutoff_K2: float, policy: str) -> pd.DataFrame:
    """The training labels the groups give under a variance cutoff and policy.

    Returns one row per label: ``material_id``, ``label_tc_K``, ``label_kind`` ('mean' or
    'measurement'), ``high_variance`` and the group's statistics. Groups without a T_c value
    give no label; under ``exclude`` neither do high-variance groups; under ``keep-all`` a
    high-variance group gives one label per measurement."""
    if policy not in ("average", "exclude", "keep-all"):
        raise ValueError(f"unknown high-variance policy {policy!r}")
    labelled = groups[groups["n_values"] > 0].copy()
    labelled["high_variance"] = labelled["tc_variance_K2"] >= cutoff_K2
    low = labelled[~labelled["high_variance"]].assign(
        label_tc_K=lambda g: g["tc_mean_K"], label_kind="mean"
    )
    high = labelled[labelled["high_variance"]]
    if policy == "average":
        high = high.assign(label_tc_K=high["tc_mean_K"], label_kind="mean")
    elif policy == "exclude":
        high = high.iloc[0:0].assign(label_tc_K=pd.Series(dtype=float), label_kind="mean")
    else:
        high = (
            high.explode("values")
            .assign(label_kind="measurement")
            .rename(columns={"values": "label_tc_K"})
            .assign(values=lambda g: g["label_tc_K"].map(lambda v: [v]))
        )
        high["label_tc_K"] = high["label_tc_K"].astype(float)
    labels = pd.concat([low, high], ignore_index=True)
    return labels.sort_values(["material_id", "label_tc_K"], ignore_index=True)


def unlabelled_groups(groups: pd.DataFrame) -> pd.DataFrame:
    """Groups with no T_c value at all (only 'not superconducting' observations)."""
    return groups[groups["n_values"] == 0]


def groups_by_precedence(
    groups: pd.DataFrame, precedence: tuple[str, ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The groups a label precedence keeps, and the compositions it leaves unlabelled although
    a later table has a T_c for them.

    For each material the first table of ``precedence`` with any group of it decides: only
    that table's group is kept. When that group holds only 'not superconducting' observations
    the material gets no label, whatever later tables say; those materials are returned as
    conflicts (``material_id``, ``label_table`` deciding, ``overruled_table``, its
    ``n_values`` and ``tc_mean_K``). Groups of tables outside ``precedence`` are dropped."""
    rank = {table: i for i, table in enumerate(precedence)}
    candidates = groups[groups["label_table"].isin(list(rank))].copy()
    candidates["_rank"] = candidates["label_table"].map(rank)
    first = candidates.groupby("material_id")["_rank"].transform("min")
    kept = candidates[candidates["_rank"] == first]
    later = candidates[candidates["_rank"] > first]
    silent = kept.loc[kept["n_values"] == 0, ["material_id", "label_table"]]
    conflicts = silent.merge(
        later.loc[
            later["n_values"] > 0, ["material_id", "label_table", "n_values", "tc_mean_K"]
        ].rename(columns={"label_table": "overruled_table"}),
        on="material_id",
    )
    return (
        kept.drop(columns="_rank").reset_index(drop=True),
        conflicts.sort_values(["material_id", "overruled_table"], ignore_index=True),
    )
