"""The command line as a user meets it: help, the db group, settings and a locked file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.commands import installed_tcdb, invoke_tcdb


def test_help_lists_the_command_groups():
    result = invoke_tcdb("--help")
    assert result.returncode == 0
    for group in ("db", "config"):
        assert group in result.stdout


def test_the_installed_script_prints_help_and_exits_with_one_sentence(tmp_path):
    """The `tcdb` the install put on PATH, in its own process: help, and the exit status and
    one sentence of a user error raised through ``main()``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    script = str(installed_tcdb())
    shown = subprocess.run([script, "--help"], capture_output=True, text=True, env=env,
                           timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "db" in shown.stdout and "config" in shown.stdout
    refused = subprocess.run([script, "--db", str(tmp_path), "db", "status"],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert str(tmp_path) in refused.stderr and "is a directory" in refused.stderr


def test_upgrade_and_status_work_on_an_empty_path(db_path):
    status = invoke_tcdb("--db", str(db_path), "db", "status")
    assert status.returncode == 0, status.stderr
    assert "does not exist yet" in status.stdout
    assert not db_path.exists(), "status must not create the file"

    upgrade = invoke_tcdb("--db", str(db_path), "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert "upgraded from base" in upgrade.stdout

    status = invoke_tcdb("--db", str(db_path), "db", "status")
    assert "pending   none" in status.stdout
    assert "measurement" in status.stdout and "prediction" in status.stdout

    again = invoke_tcdb("--db", str(db_path), "db", "upgrade")
    assert "nothing to do" in again.stdout


def test_downgrade_then_upgrade_through_the_cli(migrated_db):
    down = invoke_tcdb("--db", str(migrated_db), "db", "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    status = invoke_tcdb("--db", str(migrated_db), "db", "status")
    assert "1 migration(s)" in status.stdout
    assert invoke_tcdb("--db", str(migrated_db), "db", "upgrade").returncode == 0


def test_downgrade_to_base_refuses_to_drop_rows_without_yes(migrated_db):
    import duckdb

    with duckdb.connect(str(migrated_db)) as conn:
        conn.execute(
            "INSERT INTO source (id, kind, title, registered_at) "
            "VALUES ('s', 'dataset', 't', now())"
        )
    refused = invoke_tcdb("--db", str(migrated_db), "db", "downgrade", "base")
    assert refused.returncode == 1
    assert "table source (1 row)" in refused.stderr and "--yes" in refused.stderr
    assert "source" in invoke_tcdb("--db", str(migrated_db), "db", "status").stdout
    done = invoke_tcdb("--db", str(migrated_db), "db", "downgrade", "base", "--yes")
    assert done.returncode == 0, done.stderr
    assert list(migrated_db.parent.glob("tcdb.duckdb.backup-*"))


def test_downgrade_one_step_does_not_silently_null_lattice_scale_c(migrated_db):
    """The attack: `db downgrade -1` then `db upgrade` emptied morph_candidate.lattice_scale_c."""
    import duckdb

    from tcdb.schema import revisions

    steps = f"-{len(revisions.pending('0004')) + 1}"  # back to before 0004 ("-1" at 0004)
    with duckdb.connect(str(migrated_db)) as conn:
        conn.execute(
            "INSERT INTO morph_candidate (id, parent_structure_id, family, substitution_json, "
            "lattice_scale, lattice_scale_c, formula, created_at) "
            "VALUES ('m1', 's1', 'xh3', '{}', 1.0, 1.05, 'LaH3', now())"
        )
    refused = invoke_tcdb("--db", str(migrated_db), "db", "downgrade", steps)
    assert refused.returncode == 1
    message = refused.stderr.strip()
    assert "morph_candidate.lattice_scale_c (1 value)" in message and "--yes" in message
    assert message.count("\n") == 0 and "Traceback" not in message
    assert not list(migrated_db.parent.glob("tcdb.duckdb.backup-*")), "refused: no backup"

    done = invoke_tcdb("--db", str(migrated_db), "db", "downgrade", steps, "--yes")
    assert done.returncode == 0, done.stderr
    assert invoke_tcdb("--db", str(migrated_db), "db", "upgrade").returncode == 0
    status = invoke_tcdb("--db", str(migrated_db), "db", "status").stdout
    backups = sorted(migrated_db.parent.glob("tcdb.duckdb.backup-*"))
    assert len(backups) == 2 and "backups   2" in status
    assert all(str(backup) in status for backup in backups)
    with duckdb.connect(str(backups[0]), read_only=True) as conn:
        assert conn.execute("SELECT lattice_scale_c FROM morph_candidate").fetchall() == [(1.05,)]


def test_check_passes_on_a_fresh_database(migrated_db):
    result = invoke_tcdb("--db", str(migrated_db), "db", "check")
    assert result.returncode == 0, result.stderr
    assert "schema matches" in result.stdout


def test_a_locked_database_gives_one_sentence_not_a_traceback(migrated_db):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                conn = duckdb.connect({str(migrated_db)!r})
                print("locked", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        for command in (["db", "status"], ["db", "upgrade"]):
            result = invoke_tcdb("--db", str(migrated_db), *command, env={"TCDB_LOCK_WAIT": "0.5"})
            assert result.returncode == 3
            assert "Traceback" not in result.stderr
            message = result.stderr.strip()
            assert message.count("\n") == 0
            assert f"in use by another process (PID {holder.pid})" in message
    finally:
        holder.communicate("", timeout=30)


def test_flags_override_the_environment(tmp_path):
    env_db, flag_db = tmp_path / "env.duckdb", tmp_path / "flag.duckdb"
    result = invoke_tcdb("--db", str(flag_db), "config", env={"TCDB_DB": str(env_db)})
    assert f"db          {flag_db}" in result.stdout
    result = invoke_tcdb("config", env={"TCDB_DB": str(env_db), "TCDB_SOURCES": str(tmp_path)})
    assert f"db          {env_db}" in result.stdout
    assert f"sources     {tmp_path}" in result.stdout


def test_the_api_key_is_never_printed_or_logged(db_path):
    secret = "sk-do-not-print-0123456789"
    env = {"MP_API_KEY": secret, "TCDB_LOG_LEVEL": "DEBUG"}
    for args in (["config"], ["--db", str(db_path), "db", "upgrade"]):
        result = invoke_tcdb(*args, env=env)
        assert result.returncode == 0, result.stderr
        assert secret not in result.stdout + result.stderr
    assert "mp_api_key  set" in invoke_tcdb("config", env=env).stdout


def test_status_of_a_database_from_newer_code_is_a_clear_error(migrated_db):
    import duckdb

    with duckdb.connect(str(migrated_db)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    result = invoke_tcdb("--db", str(migrated_db), "db", "status")
    assert result.returncode == 1
    assert "unknown to this code" in result.stderr
    assert "Traceback" not in result.stderr
