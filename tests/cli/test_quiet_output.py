"""Commands that load TensorFlow print no TensorFlow, absl or CUDA line unless asked to.

TensorFlow's C++ side writes its oneDNN, ``cudart_stub`` and ``cuInit`` lines straight to file
descriptor 2; ``tcdb.ml.tensorflow_runtime`` silences what it can before the import and catches
the rest on the descriptor, to log it at DEBUG.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys

import pytest

from tcdb.core.logs import quiet_levels
from tcdb.ml import tensorflow_runtime
from tests.commands import REPO, invoke_tcdb

# what TensorFlow, absl and CUDA write, as a user saw it before: absl's prefix (I0000 00:00:…
# port.cc:153]), its notice before initialisation, oneDNN, the CUDA stubs and cuInit
TENSORFLOW_NOISE = re.compile(
    r"^[IWEF]\d{4} |absl::InitializeLog|oneDNN|cudart|cuInit|CUDA|cuda_", re.MULTILINE
)

# In a fresh process: the command's logging at INFO on stderr, and a handler that keeps what
# the runtime's own logger says at DEBUG (kept off the terminal), then one small computation.
LOAD_AND_COMPUTE = """
import json, logging
from tcdb.core.logs import configure

configure("INFO")
kept = []

class Keep(logging.Handler):
    def emit(self, record):
        kept.append([record.levelname, record.getMessage()])

runtime_log = logging.getLogger("tcdb.ml.tensorflow_runtime")
runtime_log.setLevel(logging.DEBUG)
runtime_log.propagate = False
runtime_log.addHandler(Keep())

from tcdb.ml.tensorflow_runtime import tensorflow

tf = tensorflow()
print("sum", float(tf.reduce_sum(tf.constant([1.0, 2.0]) * 2.0)))
tf.get_logger().warning("5 out of the last 5 calls triggered tf.function retracing")
logging.getLogger("tcdb.ml").warning("a warning of tcdb's own")
print(json.dumps(kept))
"""


def test_loading_tensorflow_prints_nothing_and_logs_its_lines_at_debug():
    """One fresh process (TensorFlow is imported once per process): nothing of TensorFlow's on
    stdout or stderr, its Python logger's warnings included, while tcdb's own warning is
    there; and what TensorFlow wrote at import reached the log at DEBUG."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "CUDA_", "TCDB_"))}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_COMPUTE],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result, kept = done.stdout.splitlines()[-2:]
    assert result == "sum 6.0"
    assert "a warning of tcdb's own" in done.stderr
    assert not TENSORFLOW_NOISE.search(done.stderr), done.stderr
    assert "retracing" not in done.stderr
    assert not TENSORFLOW_NOISE.search("\n".join(done.stdout.splitlines()[:-1]))
    records = json.loads(kept)
    caught = [message for level, message in records if level == "DEBUG"]
    assert any("oneDNN" in message for message in caught), records
    assert any("absl::InitializeLog" in message for message in caught), records
    assert all(level == "DEBUG" for level, _ in records), records


def test_native_writes_are_caught_and_python_writes_are_not(capfd):
    """What native code writes to descriptor 2 (``os.write``, as C++ does) is caught, line by
    line; a Python print to stderr before and after still reaches the descriptor."""
    lines: list[str] = []
    print("before", file=sys.stderr)
    with tensorflow_runtime.native_stderr_captured(lines):
        os.write(2, b"I0000 00:00:17.5    42 port.cc:153] first\nsecond line\n")
    print("after", file=sys.stderr)
    assert lines == ["I0000 00:00:17.5    42 port.cc:153] first", "second line"]
    assert capfd.readouterr().err == "before\nafter\n"


def test_lines_are_caught_even_when_the_import_fails():
    lines: list[str] = []
    with pytest.raises(ImportError), tensorflow_runtime.native_stderr_captured(lines):
        os.write(2, b"F0000 00:00:1.0    7 loader.cc:1] cannot load\n")
        raise ImportError("no such library")
    assert lines == ["F0000 00:00:1.0    7 loader.cc:1] cannot load"]


def test_tensorflow_lines_are_debug_and_foreign_lines_are_warnings(caplog):
    """A notice's continuation line stays with it; a line before any of TensorFlow's is kept
    at WARNING, so nothing else written during the import is hidden."""
    caplog.set_level(logging.DEBUG, logger=tensorflow_runtime.LOG.name)
    tensorflow_runtime.log_native_lines(
        [
            "Illegal value in libfoo",
            "WARNING: All log messages before absl::InitializeLog() is called are written to",
            "I0000 00:00:1796663471.381321    4794 cpu_feature_guard.cc:227] This binary is",
            "To enable the following instructions: AVX2, rebuild TensorFlow.",
            "",
        ]
    )
    logged = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert logged[0] == (logging.WARNING, "Illegal value in libfoo")
    assert [level for level, _ in logged[1:]] == [logging.DEBUG, logging.DEBUG]
    assert logged[2][1].endswith("This binary is\nTo enable the following instructions: AVX2, "
                                 "rebuild TensorFlow.")  # fmt: skip


@pytest.mark.parametrize(
    ("given", "debug", "expected"),
    [
        ({}, False, {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}),
        ({}, True, {"CUDA_VISIBLE_DEVICES": ""}),
        (
            {"TF_CPP_MIN_LOG_LEVEL": "1", "CUDA_VISIBLE_DEVICES": "0"},
            False,
            {"TF_CPP_MIN_LOG_LEVEL": "1", "CUDA_VISIBLE_DEVICES": "0"},
        ),
    ],
)
def test_the_users_own_variables_are_kept(monkeypatch, given, debug, expected):
    for name in ("TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "TF_USE_LEGACY_KERAS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    assert tensorflow_runtime.quiet_environment(debug) == {"TF_USE_LEGACY_KERAS": "1", **expected}


def test_tensorflow_python_loggers_show_errors_only_unless_debug():
    assert quiet_levels(logging.INFO)["tensorflow"] == logging.ERROR
    assert quiet_levels(logging.INFO)["absl"] == logging.ERROR
    assert quiet_levels(logging.INFO)["sqlalchemy"] == logging.WARNING
    assert quiet_levels(logging.DEBUG)["tf_keras"] == logging.DEBUG
    assert quiet_levels(logging.CRITICAL)["tensorflow"] == logging.CRITICAL


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--log-level", "LOUD", "config"), {}), (("config",), {"TCDB_LOG_LEVEL": "LOUD"})],
)
def test_an_unknown_log_level_is_one_sentence(args, env):
    result = invoke_tcdb(*args, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: The log level 'LOUD'")
    assert result.stderr.count("\n") == 1 and "TCDB_LOG_LEVEL" in result.stderr
    assert result.stdout == ""
