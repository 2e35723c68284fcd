"""The end-of-run summary of skipped groups (issue 19, point 21)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import skip_groups

ROOT = Path(__file__).resolve().parents[2]


def skipped(reason: str):
    return SimpleNamespace(longrepr=("tests/x.py", 1, f"Skipped: {reason}"))


def test_skips_are_grouped_by_reason_with_how_to_run_them():
    services = "needs PostgreSQL and Redis: DATABASE_URL is not PostgreSQL; REDIS_URL is not set"
    reports = [skipped(services)] * 3 + [skipped("gettext is not installed on this machine")]
    groups = skip_groups(reports)
    assert [(reason, count) for reason, count, _ in groups] == [
        (services, 3),
        ("gettext is not installed on this machine", 1),
    ]
    assert "DATABASE_URL=postgres://" in groups[0][2]
    assert groups[1][2] == "apt-get install gettext"


def test_a_run_with_skips_prints_the_groups_at_the_end(tmp_path):
    # A run of its own, outside the suite, with the hook from tests/conftest.py.
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_terminal_summary\n")
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', [1, 2])\n"
        "def test_needs_chromium(n):\n"
        "    pytest.skip('Chromium not found at /nowhere')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "pytest", "-c", "/dev/null", "--rootdir", str(tmp_path)]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider", "-p", "no:django", "-q", "test_sample.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = result.stdout.split("skipped groups", 1)[-1]
    assert "2 skipped: Chromium not found at /nowhere" in summary, result.stdout
    assert "to run them: apt-get install chromium" in summary
