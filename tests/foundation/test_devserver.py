"""`scripts/dev run` (the devserver command): stops every child, checks its port first, keeps
the demo password (issue 19, point 18)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backfuture.users.management.commands import devserver

ROOT = Path(__file__).resolve().parents[2]
# Generous: migrations on SQLite on a loaded CI machine; every wait ends as soon as it can.
START_TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dev_env(var_dir: Path) -> dict[str, str]:
    """The embedded default of a fresh checkout, with its var/ in a temporary folder."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_DEBUG="true",
        DJANGO_SETTINGS_MODULE="backfuture.settings",
        BACKFUTURE_VAR_DIR=str(var_dir),
    )
    return env


def alive(pid: int) -> bool:
    """A zombie (exited, not yet reaped by init) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def processes_mentioning(text: str) -> set[int]:
    """Live processes whose command line contains `text` (the worker names the var/ folder)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_every_child_and_frees_the_port(tmp_path, stop_signal):
    port = free_port()
    log = tmp_path / "devserver.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "devserver", "--addr", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=dev_env(tmp_path / "var"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(
            lambda: "BackFuture is running" in log.read_text() or server.poll() is not None,
            START_TIMEOUT,
        ), log.read_text()
        assert server.poll() is None, log.read_text()
        # runserver, the Celery worker and its pool processes.
        assert wait_for(lambda: len(descendants(server.pid)) >= 3, START_TIMEOUT), log.read_text()
        children = descendants(server.pid)

        server.send_signal(stop_signal)
        assert server.wait(timeout=60) == 0, log.read_text()
    finally:
        if server.poll() is None:
            server.kill()

    assert "Stopped." in log.read_text()
    assert not {pid for pid in children if alive(pid)}
    assert not processes_mentioning(str(tmp_path))
    assert devserver.port_is_free("127.0.0.1", port)


def test_a_taken_port_stops_before_printing_the_url_or_a_password(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "devserver", "--addr", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=dev_env(tmp_path / "var"),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--addr 127.0.0.1:{port + 1}" in result.stderr
    assert "running at" not in result.stdout
    assert "Demo login" not in result.stdout
    assert not (tmp_path / "var" / "demo-password").exists()


@pytest.mark.django_db
def test_demo_password_is_stable_across_runs_of_one_checkout(settings, tmp_path):
    from django.contrib.auth import get_user_model

    settings.VAR_DIR = tmp_path
    command = devserver.Command()
    first = command._demo_user()
    second = command._demo_user()
    assert first == second
    assert (tmp_path / "demo-password").read_text().strip() == first
    assert (tmp_path / "demo-password").stat().st_mode & 0o077 == 0
    demo = get_user_model().objects.get(email=devserver.DEMO_EMAIL)
    assert demo.check_password(first)


def test_addr_without_a_port_is_a_clear_error():
    with pytest.raises(CommandError, match="host:port"):
        call_command("devserver", "--addr", "localhost")
