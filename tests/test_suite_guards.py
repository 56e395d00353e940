"""The suite cannot pass by accident: without its source files it stops, it never skips."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.commands import REPO


def _pytest_without_sources(tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    env["TCDB_SOURCES"] = str(tmp_path / "no-such-folder")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/core/test_families.py",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_a_missing_source_folder_stops_the_suite_with_one_sentence_naming_it(tmp_path):
    result = _pytest_without_sources(tmp_path)
    assert result.returncode != 0
    assert f"The source files are not at {tmp_path / 'no-such-folder'}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
