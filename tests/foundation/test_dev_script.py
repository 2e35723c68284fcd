"""`scripts/dev`, the README's commands (issue 19, point 17)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_usage_names_every_command():
    result = subprocess.run(
        ["bash", "scripts/dev"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    for command in ("run [--addr HOST:PORT]", "test", "manage COMMAND", "python", "lock"):
        assert f"scripts/dev {command}" in result.stdout


def test_manage_runs_a_command_with_the_venv_and_development_settings():
    """As the README shows it: no interpreter to pick, no production variables to set."""
    if not (ROOT / ".venv" / "bin" / "python").exists():
        # Not a missing service: a suite run with another interpreter (CI always has .venv).
        pytest.skip("no .venv: scripts/dev creates it (run the suite through `scripts/dev test`)")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_", "VIRTUAL_ENV")) and k != "PYTHONPATH"
    }
    env["PATH"] = "/usr/bin:/bin"  # not the interpreter that runs this test
    result = subprocess.run(
        ["bash", "scripts/dev", "manage", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
