"""``tcdb predict hydride`` and ``tcdb screen hydrides`` as a user runs them: predictions with
their spreads and domain verdict, printed, written as JSON and stored; bad formulas named."""

from __future__ import annotations

import json

import duckdb

from tests.commands import invoke_tcdb


def stored(db):
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("SELECT * FROM hydride_prediction ORDER BY formula").df()


def test_lah10_and_la4h23_are_printed_with_spreads_and_verdict_and_stored(hydride_run, tmp_path):
    db = hydride_run.copy_to(tmp_path)
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10", "La4H23")
    assert result.returncode == 0, result.stderr
    assert hydride_run.run_id in result.stdout and "domain: n in" in result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    for formula in ("LaH10", "La4H23"):
        assert " ± " in lines[formula] and " K " in lines[formula] and "GPa" in lines[formula]
        assert "in domain" in lines[formula] or "out of domain: " in lines[formula]
    rows = stored(db)
    assert rows.formula.tolist() == ["La4H23", "LaH10"]
    assert rows.n_h.tolist() == [5.75, 10.0]
    assert rows.in_domain.notna().all() and (rows.model_run_id == hydride_run.run_id).all()
    assert (rows.distance_upper > rows.distance_to_ambient).all()


def test_json_gives_every_number_and_no_store_writes_nothing(hydride_run, tmp_path):
    db = hydride_run.copy_to(tmp_path)
    out = tmp_path / "hydrides.csv"
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "La4H23", "--format", "json",
                         "--no-store", "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["formula"] == "La4H23" and row["element"] == "La" and row["n"] == 5.75
    for key in ("tc_K", "tc_std_K", "pressure_GPa", "pressure_std_GPa", "distance_to_ambient",
                "distance_std", "distance_upper", "element_distance"):  # fmt: skip
        assert isinstance(row[key], float)
    assert isinstance(row["in_domain"], bool) and row["nearest_trained_element"]
    assert out.read_text().count("\n") == 2
    assert stored(db).empty


def test_formulas_that_are_no_binary_hydride_are_named_and_the_rest_predicted(
    hydride_run, tmp_path
):
    db = hydride_run.copy_to(tmp_path)
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "NaCl", "Xx2H", "H2", "CaH6")
    assert result.returncode == 0, result.stderr
    assert "CaH6" in result.stdout
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 3
    for formula in ("'NaCl'", "'Xx2H'", "'H2'"):
        assert any(formula in line for line in failed)
    assert stored(db).formula.tolist() == ["CaH6"]


def test_no_usable_formula_ends_with_one_sentence_and_exit_1(hydride_run, tmp_path):
    db = hydride_run.copy_to(tmp_path)
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "NaCl", "H2")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: None of the 2 formula(s)")


def test_screen_prints_the_thresholds_the_flags_and_the_in_domain_best(hydride_run, tmp_path):
    db = hydride_run.copy_to(tmp_path)
    result = invoke_tcdb("--db", str(db), "screen", "hydrides", "--top", "3")
    assert result.returncode == 0, result.stderr
    assert "domain: n in" in result.stdout
    assert "flagged: n range" in result.stdout and "out of domain" in result.stdout
    assert "best n per element, in the domain" in result.stdout
    assert "(stored: network, forest)" in result.stdout and "ranked by the " in result.stdout
    assert "the run's rule: of the network and forest, the one with the lowest" in result.stdout
    assert ", noble gas 186; out of domain" in result.stdout
    every = invoke_tcdb("--db", str(db), "screen", "hydrides", "--all", "--top", "40")
    assert every.returncode == 0, every.stderr
    ranked = every.stdout.split("every EH_n")[1].strip().splitlines()[1:]
    assert len(ranked) == 40
    assert all(line.endswith("in domain") or "  out: " in line for line in ranked)


def test_the_runs_choice_predicts_by_default_and_the_networks_rows_are_kept(hydride_run, tmp_path):
    db = hydride_run.copy_to(tmp_path)
    manifest = db.parent / "runs" / hydride_run.run_id / "manifest.json"
    chosen = json.loads(manifest.read_text())["metrics"]["screening_model"]["model"]
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "ArH2", "LaH10")
    assert result.returncode == 0, result.stderr
    assert f"by the {chosen} (the run's choice)" in result.stdout.splitlines()[0]
    argon = next(line for line in result.stdout.splitlines() if line.startswith("ArH2"))
    noble = "out of domain: noble gas: no noble-gas hydride among the training points"
    assert noble in argon
    assert stored(db).model.tolist() == [chosen, chosen]
    with duckdb.connect(str(db), read_only=True) as conn:
        network = conn.execute("SELECT formula, model FROM hydride_prediction_network "
                               "ORDER BY formula").fetchall()  # fmt: skip
    assert network == [("ArH2", "network"), ("LaH10", "network")]
    asked = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10", "--model", "network",
                        "--format", "json", "--no-store")  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert [row["model"] for row in json.loads(asked.stdout)] == ["network"]
    wrong = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10", "--model", "tree")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[-1] == (
        "error: Unknown model 'tree'; use default, network, forest."
    )


def test_predict_help_lists_structures_as_the_default_and_hydride():
    result = invoke_tcdb("predict", "--help")
    assert result.returncode == 0
    assert "structures" in result.stdout and "hydride" in result.stdout
    assert "tcdb predict PATH" in result.stdout
