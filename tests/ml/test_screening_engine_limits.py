"""What a user types to ``--engine ray`` can neither escape the jobs folder nor hang: issue #26's
``--job ../../x`` and ``--address 127.0.0.1:<closed port>``, and Ray's processes after ``kill -9``
of the command. No Ray cluster is started here: the checks run before Ray is imported, and the
reaper is tried on ordinary processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tcdb.ml.ray_reaper import descendants
from tcdb.ml.screening_engine import (
    EngineChoice,
    EngineError,
    EngineUsageError,
    RayLimits,
    check_head,
    deadline,
    head_endpoint,
)
from tests.commands import REPO, invoke_tcdb

ESCAPES = ["../../x", "/abs/dir", "a/../../b", ".."]
COMMANDS = {
    "screen": ("screen", "hydrides"),
    "predict": ("predict", "structure.cif"),
    "morph": ("morph", "run", "dome"),
}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", ESCAPES)
def test_a_job_that_is_a_path_is_refused_before_anything_is_created(tmp_path, command, name):
    db = tmp_path / "db" / "tcdb.duckdb"
    refused = invoke_tcdb("--db", str(db), *COMMANDS[command], "--engine", "ray", "--job", name)
    assert refused.returncode == 2, refused.stderr
    assert f"--job {name!r} is not a job name" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == []  # no database, no job folder


@pytest.mark.parametrize("address", ["nonsense", "host:99999", "host:", ":6379", "http://h:1"])
def test_an_address_of_no_form_is_a_usage_error(address):
    with pytest.raises(EngineUsageError, match="is not 'auto', HOST:PORT or ray://HOST:PORT"):
        EngineChoice("ray", address)


def test_address_forms_that_name_a_head():
    assert head_endpoint("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert head_endpoint("[::1]:6379") == ("::1", 6379)
    assert head_endpoint("ray://head.example:10001") == ("head.example", 10001)
    assert head_endpoint("ray://head.example") == ("head.example", RayLimits().ray_client_port)


def test_a_closed_port_is_refused_in_a_moment_not_retried_for_ever(hydride_run, tmp_path):
    """Ray retried 127.0.0.1:<closed port> every 5 s and had not given up after 590 s."""
    db = hydride_run.copy_to(tmp_path)
    port = _closed_port()
    started = time.perf_counter()
    refused = invoke_tcdb("--db", str(db), "screen", "hydrides", "--engine", "ray",
                          "--address", f"127.0.0.1:{port}")  # fmt: skip
    seconds = time.perf_counter() - started
    assert refused.returncode == 1
    assert f"The Ray head at 127.0.0.1:{port} cannot be reached (connection refused)" in (
        refused.stderr
    )
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert seconds < 5, seconds
    assert not (tmp_path / "jobs").exists()


def test_a_name_that_does_not_resolve_is_refused_within_the_connect_limit():
    limits = RayLimits(head_connect_s=1.0)
    started = time.perf_counter()
    with pytest.raises(EngineError, match="cannot be reached"):
        check_head("no-such-host.invalid:6379", limits)
    assert time.perf_counter() - started < limits.head_connect_s + 1


def test_a_call_that_would_wait_for_ever_is_cut_at_its_deadline():
    started = time.perf_counter()
    with pytest.raises(EngineError, match="did not answer"), deadline(0.2, "It did not answer."):
        time.sleep(30)
    assert time.perf_counter() - started < 1


# ------------------------------------------------------------------------- the reaper

DRIVER = """
import subprocess, sys, time
from tcdb.ml.ray_reaper import descendants, start_reaper
# an "agent" that ignores its parent's death, as Ray's agents do for 60 s, and starts a
# "worker" once the reaper runs, as the raylet starts workers and actors
AGENT = (
    "import subprocess, sys, time; time.sleep(0.3); "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); time.sleep(300)"
)
agent = subprocess.Popen([sys.executable, "-c", AGENT])
reaper = start_reaper([agent.pid])
time.sleep(1.6)  # the reaper adds what its processes started every second
(worker,) = descendants([agent.pid])
print(agent.pid, worker, reaper.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfds and /proc")
def test_what_ray_started_ends_with_a_command_killed_with_sigkill(tmp_path):
    env = os.environ | {"PYTHONPATH": str(REPO)}
    driver = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE, text=True,
                              cwd=tmp_path, env=env)  # fmt: skip
    agent, worker, reaper = map(int, driver.stdout.readline().split())
    assert {agent, worker} <= descendants([driver.pid])
    assert os.getsid(reaper) != os.getsid(driver.pid)  # a group kill of the command spares it
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    started = time.perf_counter()
    while (_alive(agent) or _alive(worker) or _alive(reaper)) and time.perf_counter() - started < 5:
        time.sleep(0.05)
    assert not _alive(agent) and not _alive(worker) and not _alive(reaper)
    assert time.perf_counter() - started < 1.0
