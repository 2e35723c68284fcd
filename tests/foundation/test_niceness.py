"""The re-check worker's `nice` holds against other sessions (backfuture/niceness.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backfuture import niceness

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def autogroup(tmp_path):
    path = tmp_path / "autogroup"
    path.write_text("/autogroup-85 nice 0\n")
    return path


@pytest.fixture
def niced_leader(monkeypatch):
    monkeypatch.setattr(niceness.os, "nice", lambda increment: 10)
    monkeypatch.setattr(niceness.os, "getsid", lambda pid: os.getpid())


def test_a_niced_session_leader_gives_its_group_its_nice_value(autogroup, niced_leader):
    assert niceness.carry_nice_to_autogroup(autogroup) == "set"
    assert autogroup.read_text() == "10"


def test_a_group_already_as_low_is_left_alone(autogroup, niced_leader):
    autogroup.write_text("/autogroup-85 nice 15\n")
    assert niceness.carry_nice_to_autogroup(autogroup) == "already"
    assert autogroup.read_text() == "/autogroup-85 nice 15\n"


def test_a_worker_that_does_not_lead_its_session_never_lowers_the_others(autogroup, monkeypatch):
    # Started from a terminal or by a shell that forked: the group is the session's.
    monkeypatch.setattr(niceness.os, "nice", lambda increment: 10)
    monkeypatch.setattr(niceness.os, "getsid", lambda pid: os.getpid() + 1)
    assert niceness.carry_nice_to_autogroup(autogroup) == "not session leader"
    assert autogroup.read_text() == "/autogroup-85 nice 0\n"


def test_a_worker_at_normal_priority_changes_nothing(autogroup, monkeypatch):
    monkeypatch.setattr(niceness.os, "nice", lambda increment: 0)
    monkeypatch.setattr(niceness.os, "getsid", lambda pid: os.getpid())
    assert niceness.carry_nice_to_autogroup(autogroup) == "not niced"
    assert autogroup.read_text() == "/autogroup-85 nice 0\n"


def test_without_autogrouping_nothing_is_written(tmp_path, niced_leader):
    assert niceness.carry_nice_to_autogroup(tmp_path / "absent") == "no autogroup"
    assert not (tmp_path / "absent").exists()


def test_a_refusal_is_logged_and_the_worker_goes_on(autogroup, niced_leader, monkeypatch, caplog):
    def refuse(self, text):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_text", refuse)
    assert niceness.carry_nice_to_autogroup(autogroup) == "refused"
    assert "Could not lower" in caplog.text


_PROBE = (
    "from backfuture.niceness import AUTOGROUP, carry_nice_to_autogroup; "
    "print(carry_nice_to_autogroup()); "
    "print(AUTOGROUP.read_text().strip() if AUTOGROUP.exists() else '')"
)


def _probe(*, new_session: bool) -> list[str]:
    result = subprocess.run(
        ["nice", "-n", "7", sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        start_new_session=new_session,
    )
    return result.stdout.splitlines()


def test_on_this_kernel_a_niced_process_in_its_own_session_lowers_its_group():
    # As the Procfile's `exec nice -n 10 celery …` under a process manager, and the benchmarks.
    outcome, group = _probe(new_session=True)
    if niceness.AUTOGROUP.exists():
        assert outcome == "set"
        assert group.endswith("nice 7")
    else:
        assert outcome == "no autogroup"


def test_on_this_kernel_a_niced_process_in_the_tests_session_leaves_the_group_alone():
    before = niceness.AUTOGROUP.read_text() if niceness.AUTOGROUP.exists() else None
    outcome, *_ = _probe(new_session=False)
    assert outcome == ("not session leader" if before is not None else "no autogroup")
    if before is not None:
        assert niceness.AUTOGROUP.read_text() == before
