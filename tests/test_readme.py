"""Every command the README shows is run: here, or by CI (.ci/run)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, run_tcdb

README = (REPO / "README.md").read_text()
RUN_BY_CI = {"make install", "make test"}


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = (line.split("#")[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line]


def test_ci_runs_the_install_and_test_commands():
    ci = (REPO / ".ci" / "run").read_text()
    for command in RUN_BY_CI:
        assert command in readme_commands()
        assert command in ci


def test_readme_tcdb_commands_run(tmp_path: Path):
    commands = [c for c in readme_commands() if c.startswith("tcdb ")]
    assert commands, "the README shows tcdb commands"
    env = {"TCDB_DB": str(tmp_path / "readme.duckdb"), "TCDB_CURATED": str(tmp_path / "curated")}
    for command in commands:
        result = run_tcdb(*command.split()[1:], env=env)
        assert result.returncode == 0, f"{command}: {result.stderr}"


@pytest.mark.parametrize(
    "command", [c for c in readme_commands() if c.startswith("make ") and c not in RUN_BY_CI]
)
def test_readme_make_targets_run(command: str, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    env["TCDB_DB"] = str(tmp_path / "make.duckdb")
    env["TCDB_CURATED"] = str(tmp_path / "curated")
    result = subprocess.run(
        command.split(), cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
