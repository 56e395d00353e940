"""``tcdb serve`` as a user starts and stops it, and its refusals: one sentence each, no
traceback."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

from tests.commands import REPO, invoke_tcdb


def test_serve_answers_and_stops_on_ctrl_c(api_db):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "tcdb.cli", "--db", str(api_db), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        line = server.stdout.readline()
        found = re.search(
            r"serving (\d+) structures and (\d+) references of .* at (http://127\.0\.0\.1:\d+/v1)",
            line,
        )
        assert found, line + server.stderr.read()
        base = found.group(3)
        with urllib.request.urlopen(f"{base}/info", timeout=30) as response:
            info = json.loads(response.read())
        assert info["data"]["attributes"]["entry_types_by_format"]["json"] == [
            "structures",
            "references",
        ]
        with urllib.request.urlopen(f"{base}/structures?page_limit=1", timeout=30) as response:
            assert json.loads(response.read())["meta"]["data_available"] == int(found.group(1))
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert out.strip().endswith("stopped")
    assert "Traceback" not in err


def test_a_missing_database_is_one_sentence(tmp_path):
    result = invoke_tcdb("--db", str(tmp_path / "none.duckdb"), "serve", "--port", "0")
    assert result.returncode == 1
    assert "There is no database at" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_sentence(api_db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = invoke_tcdb("--db", str(api_db), "serve", "--port", str(port))
    assert result.returncode == 1
    assert f"Cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_locked_database_is_one_sentence(api_db, tmp_path):
    import shutil

    from tests.conftest import hold_lock

    db = tmp_path / "tcdb.duckdb"
    shutil.copy(api_db, db)
    holder = hold_lock(db, 30)
    try:
        result = invoke_tcdb("--db", str(db), "serve", "--port", "0", env={"TCDB_LOCK_WAIT": "0"})
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 3
    assert "is in use by another process" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unusable_timeout_is_a_usage_error(api_db):
    for value in ("-1", "nan", "inf"):
        result = invoke_tcdb("--db", str(api_db), "serve", "--timeout", value)
        assert result.returncode == 2, (value, result.stderr)
        assert "Traceback" not in result.stderr
