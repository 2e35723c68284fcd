"""The re-check worker's `nice` holds against other sessions (backfuture/niceness.py)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backfuture import niceness

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def proc(tmp_path):
    """A kernel that autogroups, with this process in the root CPU cgroup (cgroup v1)."""
    (tmp_path / "autogroup").write_text("/autogroup-85 nice 0\n")
    (tmp_path / "enabled").write_text("1\n")
    (tmp_path / "cgroup").write_text("4:memory:/job\n1:cpu:/\n0::/\n")
    return niceness.Proc(
        autogroup=tmp_path / "autogroup",
        autogroup_enabled=tmp_path / "enabled",
        cgroup=tmp_path / "cgroup",
        cgroup2_root=tmp_path / "sys",
    )


@pytest.fixture
def niced_leader(monkeypatch):
    monkeypatch.setattr(niceness.os, "nice", lambda increment: 10)
    monkeypatch.setattr(niceness.os, "getsid", lambda pid: os.getpid())


def test_a_niced_session_leader_gives_its_group_its_nice_value(proc, niced_leader):
    assert niceness.carry_nice_to_autogroup(proc) == "set"
    assert proc.autogroup.read_text() == "10"


def test_a_group_already_as_low_is_left_alone(proc, niced_leader):
    proc.autogroup.write_text("/autogroup-85 nice 15\n")
    assert niceness.carry_nice_to_autogroup(proc) == "already"
    assert proc.autogroup.read_text() == "/autogroup-85 nice 15\n"


def test_a_worker_that_does_not_lead_its_session_never_lowers_the_others(proc, monkeypatch):
    # Started from a terminal or by a shell that forked: the group is the session's.
    monkeypatch.setattr(niceness.os, "nice", lambda increment: 10)
    monkeypatch.setattr(niceness.os, "getsid", lambda pid: os.getpid() + 1)
    assert niceness.carry_nice_to_autogroup(proc) == "not session leader"
    assert proc.autogroup.read_text() == "/autogroup-85 nice 0\n"


def test_a_worker_at_normal_priority_changes_nothing(proc, monkeypatch):
    monkeypatch.setattr(niceness.os, "nice", lambda increment: 0)
    monkeypatch.setattr(niceness.os, "getsid", lambda pid: os.getpid())
    assert niceness.carry_nice_to_autogroup(proc) == "not niced"
    assert proc.autogroup.read_text() == "/autogroup-85 nice 0\n"


def test_without_autogrouping_nothing_is_written(proc, niced_leader):
    proc.autogroup_enabled.write_text("0\n")  # turned off: nice ranks against everything
    assert niceness.carry_nice_to_autogroup(proc) == "no autogroup"
    proc.autogroup_enabled.unlink()  # a kernel built without it
    assert niceness.carry_nice_to_autogroup(proc) == "no autogroup"
    assert proc.autogroup.read_text() == "/autogroup-85 nice 0\n"


@pytest.mark.parametrize(
    ("cgroup", "cpu_weight_under", "expected"),
    [
        ("1:cpu,cpuacct:/docker/abc\n0::/\n", None, True),  # v1, a container's CPU group
        ("1:cpu,cpuacct:/\n0::/\n", None, False),  # v1, the root CPU group
        ("0::/system.slice/backfuture-worker.service\n", "system.slice", True),  # v2, on
        ("0::/system.slice/backfuture-worker.service\n", None, False),  # v2, controller off
        ("0::/\n", None, False),  # v2 root, or a cgroup namespace's root
    ],
)
def test_a_cpu_cgroup_of_its_own_is_left_to_its_cpu_weight(
    proc, niced_leader, cgroup, cpu_weight_under, expected
):
    proc.cgroup.write_text(cgroup)
    if cpu_weight_under:
        (proc.cgroup2_root / cpu_weight_under).mkdir(parents=True)
        (proc.cgroup2_root / cpu_weight_under / "cpu.weight").write_text("100\n")
    assert niceness.in_cpu_cgroup(proc) is expected
    outcome = niceness.carry_nice_to_autogroup(proc)
    assert outcome == ("cpu cgroup" if expected else "set")


def test_the_kernels_one_change_per_100_ms_is_waited_for(proc, niced_leader, monkeypatch):
    monkeypatch.setattr(niceness.time, "sleep", lambda seconds: None)
    written = []
    original = Path.write_text

    def busy_twice(self, text):
        if len(written) < 2:
            written.append(text)
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")
        return original(self, text)

    monkeypatch.setattr(Path, "write_text", busy_twice)
    assert niceness.carry_nice_to_autogroup(proc) == "set"
    assert proc.autogroup.read_text() == "10"


def test_a_refusal_is_logged_and_the_worker_goes_on(proc, niced_leader, monkeypatch, caplog):
    def refuse(self, text):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "write_text", refuse)
    assert niceness.carry_nice_to_autogroup(proc) == "refused"
    assert "Could not lower" in caplog.text


_PROBE = (
    "import os; from backfuture.niceness import Proc, carry_nice_to_autogroup; "
    "print(carry_nice_to_autogroup()); print(os.nice(0)); "
    "print(Proc().autogroup.read_text().strip() if Proc().autogroup.exists() else '')"
)


def _probe(*, new_session: bool) -> tuple[str, int, str]:
    result = subprocess.run(
        ["nice", "-n", "7", sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        start_new_session=new_session,
    )
    outcome, nice, group = [*result.stdout.splitlines(), ""][:3]
    return outcome, int(nice), group


def test_on_this_kernel_a_niced_process_in_its_own_session_lowers_its_group():
    # As the Procfile's `exec nice -n 10 celery …` under a process manager, and the benchmarks.
    outcome, nice, group = _probe(new_session=True)
    assert nice >= 7  # 7 more than this test runs at
    assert outcome == (niceness.why_not_autogrouped(niceness.Proc()) or "set")
    if outcome == "set":
        assert group.endswith(f"nice {nice}")


def test_on_this_kernel_a_niced_process_in_the_tests_session_leaves_the_group_alone():
    before = niceness.Proc().autogroup.read_text() if niceness.Proc().autogroup.exists() else None
    outcome, _, _ = _probe(new_session=False)
    assert outcome == (niceness.why_not_autogrouped(niceness.Proc()) or "not session leader")
    if before is not None:
        assert niceness.Proc().autogroup.read_text() == before
