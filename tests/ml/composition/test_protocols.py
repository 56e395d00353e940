"""The composition baseline under each protocol: by time it never trains on a later
composition and scores every family; grouped by chemical system no element set is on both
sides; the command records the protocol and the family table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tcdb.core.errors import TcdbError
from tcdb.core.families import chemical_system
from tcdb.ml.composition.parameters import COMPOSITION_PROFILES
from tcdb.ml.composition.training import CompositionModelConfig, composition_data, protocol_splits
from tests.conftest import query

SMOKE = COMPOSITION_PROFILES["smoke"]


def test_the_snapshot_gives_each_supercon_label_the_year_it_was_first_reported(
    structures_snapshot, curated_template
):
    entries = structures_snapshot.entries
    supercon = entries[entries["origin"] == "supercon"]
    nb3ge = supercon.loc[supercon["reduced_formula"] == "Nb3Ge", "year"]
    earliest = query(
        curated_template,
        "SELECT min(r.reference_year) FROM raw_nims_supercon r JOIN measurement m "
        "ON m.origin_id = r.id JOIN material t ON t.id = m.material_id "
        "WHERE t.reduced_formula = 'Nb3Ge' AND m.status = 'active' "
        "AND coalesce(m.flags, '') NOT LIKE '%tc_implausible_at_ambient%'",
    )[0][0]
    assert nb3ge.min() == earliest
    counted = structures_snapshot.manifest["notes"]["years"]
    assert counted == {"supercon_labels": len(supercon),
                       "with_year": int(supercon["year"].notna().sum())}  # fmt: skip
    assert 0.9 * len(supercon) < counted["with_year"] < len(supercon)
    assert entries.loc[entries["origin"] == "literature", "year"].isna().all()


def test_by_time_never_trains_on_a_later_composition(structures_snapshot):
    data = composition_data(structures_snapshot)
    config = CompositionModelConfig(**SMOKE, protocol="by-time", last_training_year=2007)
    ((train, test),), described = protocol_splits(config, data, "snapshot")
    years = data.entries["year"].to_numpy(dtype=float)
    assert years[train].max() <= 2007 < years[test].min()
    assert described["n_without_year"] == int(np.isnan(years).sum()) > 0
    assert described["n_train"] + described["n_test"] + described["n_without_year"] == len(years)


def test_grouped_by_chemical_system_keeps_each_element_set_on_one_side(structures_snapshot):
    data = composition_data(structures_snapshot)
    config = CompositionModelConfig(**SMOKE, protocol="grouped-by-chemical-system")
    splits, described = protocol_splits(config, data, "snapshot")
    systems = np.array([chemical_system(json.loads(c)) for c in data.entries["composition_json"]])
    assert len(splits) == SMOKE["folds"] and described["n_systems"] == len(set(systems))
    for train, test in splits:
        assert not set(systems[train]) & set(systems[test])


def test_an_unknown_protocol_is_refused_before_training():
    with pytest.raises(TcdbError, match="no protocol 'by-year'; choose one of"):
        CompositionModelConfig(protocol="by-year")


def test_train_composition_by_time_records_the_protocol_and_the_family_table(
    composition_by_time,
):
    """The session's `tcdb train composition --profile smoke --protocol by-time
    --last-training-year 2007` (``composition_by_time``, which the report's database holds too):
    what it printed, recorded and stored."""
    output, run_id, db = (
        composition_by_time.stdout,
        composition_by_time.run_id,
        composition_by_time.db,
    )
    assert "trained on the compositions first reported up to 2007" in output
    ((config_json, metrics_json),) = query(
        db, "SELECT config_json, metrics_json FROM model_run WHERE id = ?", run_id
    )
    model = json.loads(config_json)["model"]
    assert (model["protocol"], model["last_training_year"]) == ("by-time", 2007)
    metrics = json.loads(metrics_json)
    scored = metrics["by_time"]
    assert scored["protocol"] == "by-time" and scored["n"] == scored["n_test"] > 0
    families = {row["family"]: row for row in metrics["by_time_families"]}
    assert sum(row["n"] for row in families.values()) == scored["n_test"]
    iron = families["iron-based"]
    assert iron["n"] > 0 and 0 <= iron["n_found"] <= iron["n_true_above"]
    assert f"iron-based: {iron['n']:,} later" in output
    stored = query(db, "SELECT count(*) FROM prediction WHERE model_run_id = ?", run_id)
    assert stored[0][0] == scored["n_test"]  # only the later compositions are predicted
