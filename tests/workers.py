"""Start and stop a real `celery worker` process (tests, browser tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class WorkerFailed(RuntimeError):
    pass


def spawn_worker(
    env: dict[str, str],
    log_path: Path,
    *,
    concurrency: int | None = None,
    loglevel: str = "INFO",
    name: str = "test",
    queues: tuple[str, ...] | None = None,
    pool: str | None = None,
    nice: int = 0,
) -> subprocess.Popen:
    """Start a worker with `env` and wait until *it* answers a ping. Its pool is `pool`, or
    as the Procfile's: the CELERY_WORKER_POOL setting (threads by default).

    It consumes `queues`, by default both as the Procfile's worker does: tests people start,
    then re-checks and beat's tasks (`--purge` empties them first). Only this worker's answer
    counts (another worker on the same broker may answer first). It runs in its own process
    group and session, so stopping it also stops its pool children. `nice` lowers its CPU
    priority, as the Procfile does for the re-check worker (`nice` execs celery: same
    process, which leads its session and so gives its autogroup the same nice value:
    backfuture/niceness.py).
    """
    from backfuture.celery import DEFAULT_QUEUE, TESTS_QUEUE, app

    hostname = f"{name}-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "backfuture",
        "worker",
        "--purge",
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--hostname",
        hostname,
        "--queues",
        ",".join(queues or (TESTS_QUEUE, DEFAULT_QUEUE)),
    ]
    if pool:
        command += ["--pool", pool]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    with log_path.open("a") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkerFailed("celery worker exited:\n" + log_path.read_text()[-3000:])
        if any(hostname in reply for reply in app.control.ping(timeout=0.5)):
            process.log_path = log_path  # type: ignore[attr-defined]
            return process
    os.killpg(process.pid, signal.SIGKILL)
    raise WorkerFailed(
        "celery worker did not answer a ping in 60 s:\n" + log_path.read_text()[-3000:]
    )


def stop_worker(process: subprocess.Popen, timeout: float = 20) -> None:
    """Warm shutdown; the whole process group is killed if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
