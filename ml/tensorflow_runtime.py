"""TensorFlow as the project uses it: legacy Keras (tf-keras), CPU only, and quiet.

cvnn's complex layers work only with the legacy Keras, so every model uses ``tf.keras`` in that
mode; the environment must be set before TensorFlow is first imported, which is why every
module gets TensorFlow from here and never imports it (or tf_keras, or cvnn before it) at module
level. Seeding is here too, so that the networks of every model are made reproducible the same
way.

Quiet: TensorFlow's C++ side writes straight to file descriptor 2, past Python's logging. Before
absl's logging is initialised it ignores ``TF_CPP_MIN_LOG_LEVEL`` and writes its oneDNN and
``cudart_stub`` notices (twice per import), and after it a machine without a GPU gets
``failed call to cuInit`` at error level. So, before the first import:

- ``TF_CPP_MIN_LOG_LEVEL=3`` (errors too: the cuInit line is one), unless the user set it or
  the command logs at DEBUG (``--log-level DEBUG``: then TensorFlow writes all it has to say);
- ``CUDA_VISIBLE_DEVICES=""`` unless the user set it: tcdb runs on the CPU (a user with a GPU
  who wants it sets the variable);
- descriptor 2 is sent to a temporary file while ``import tensorflow`` runs (Python's own
  ``sys.stderr`` still writes to the terminal); the lines caught there are logged afterwards,
  TensorFlow's own at DEBUG (``--log-level DEBUG`` shows them) and any other at WARNING, so
  that nothing else native code writes meanwhile is lost.

The variables stay in the environment, so processes the command starts afterwards (Ray's
workers among them) import TensorFlow the same way.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOG = logging.getLogger(__name__)
FIRST_IMPORT = threading.Lock()

# absl's and TensorFlow's native line prefix (severity and month-day, time, thread, file:line]:
# "I0000 00:00:1796663409.922902    4126 port.cc:153] ...") and the notice absl writes before its
# logging is initialised
NATIVE_LINE = re.compile(
    r"^(?:[IWEF]\d{4} [\d:.]+ +\d+ [^ ]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)


def quiet_environment(debug: bool) -> dict[str, str]:
    """The variables TensorFlow reads at import, as this process should have them: the user's
    own values kept, the project's defaults where none is set."""
    defaults = {"TF_USE_LEGACY_KERAS": "1", "CUDA_VISIBLE_DEVICES": ""}
    if not debug:
        defaults["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return {name: os.environ.get(name, value) for name, value in defaults.items()}


def writes_to_descriptor_2(stream: Any) -> bool:
    """Whether a Python stream is the process's file descriptor 2 (not a test's buffer)."""
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def native_stderr_captured(lines: list[str]) -> Iterator[None]:
    """What native code writes to file descriptor 2 during the block goes to a temporary file,
    whose lines are appended to ``lines`` when the block ends (also when it raises). Python's
    own writes to ``sys.stderr`` (logging, warnings) still reach the terminal as they are made:
    ``sys.stderr`` is pointed at the real descriptor meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    try:
        with tempfile.TemporaryFile() as capture:
            if writes_to_descriptor_2(python_stderr):
                sys.stderr = io.TextIOWrapper(
                    io.FileIO(saved, "w", closefd=False),
                    encoding=python_stderr.encoding,
                    errors=python_stderr.errors,
                    line_buffering=True,
                )
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                sys.stderr = python_stderr
                os.dup2(saved, 2)
                capture.seek(0)
                lines.extend(capture.read().decode("utf-8", "replace").splitlines())
    finally:
        os.close(saved)


def native_records(lines: list[str]) -> Iterator[tuple[bool, str]]:
    """The caught lines as records: ``(True, text)`` for one of TensorFlow's, its continuation
    lines included (a notice may take two lines), ``(False, line)`` for a line before any."""
    record: list[str] = []
    for line in filter(str.strip, lines):
        if NATIVE_LINE.match(line):
            if record:
                yield True, "\n".join(record)
            record = [line]
        elif record:
            record.append(line)
        else:
            yield False, line
    if record:
        yield True, "\n".join(record)


def log_native_lines(lines: list[str]) -> None:
    """TensorFlow's own lines at DEBUG; anything else native code wrote at WARNING."""
    for from_tensorflow, text in native_records(lines):
        if from_tensorflow:
            LOG.debug("tensorflow: %s", text)
        else:
            LOG.warning("%s", text)


def tensorflow() -> Any:
    """The ``tensorflow`` module, imported on first use with the project's settings and without
    a line on the user's terminal."""
    loaded = sys.modules.get("tensorflow")
    if loaded is not None:
        return loaded
    with FIRST_IMPORT:  # two threads swapping descriptor 2 at once could leave it swapped
        loaded = sys.modules.get("tensorflow")
        if loaded is not None:
            return loaded
        shown_on_terminal = logging.getLogger().getEffectiveLevel()
        os.environ.update(quiet_environment(debug=shown_on_terminal <= logging.DEBUG))
        lines: list[str] = []
        try:
            with native_stderr_captured(lines):
                import tensorflow as tf
        finally:
            log_native_lines(lines)
        return tf


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic (process-wide)."""
    import numpy as np

    tf = tensorflow()
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
