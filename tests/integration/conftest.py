"""Fixtures that run the real thing: a Celery worker process on Redis and PostgreSQL, and the
local exchange simulator. In CI (BACKFUTURE_REQUIRE_SERVICES=1) a missing service fails the
run instead of skipping it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import services_required
from tests.simulator import ExchangeSimulator

ROOT = Path(settings.BASE_DIR)


def require_services() -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    problems = []
    if "postgresql" not in engine:
        problems.append("DATABASE_URL is not PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    if problems:
        message = "needs PostgreSQL and Redis: " + "; ".join(problems)
        if services_required():
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def simulator():
    with ExchangeSimulator() as sim:
        yield sim


@pytest.fixture
def exchange_urls(simulator, settings):
    settings.EXCHANGE_URLS = dict(simulator.urls)
    return simulator.urls


def worker_env(simulator: ExchangeSimulator, **extra: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,  # the test database pytest-django created
        "REDIS_URL": settings.REDIS_URL,
        "EXCHANGE_URLS": simulator.urls_setting(),
        "CONNECTION_TEST_RETRY_BASE": "0.2",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def start_worker(simulator, log_path: Path, *, concurrency: int = 2) -> subprocess.Popen:
    """Start a real `celery worker` process on Redis and the test database; wait for a ping.

    It runs in its own process group so a test can kill it together with its pool children.
    """
    from backfuture.celery import app

    hostname = f"test-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
    with log_path.open("a") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backfuture",
                "worker",
                "--purge",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                hostname,
            ],
            cwd=ROOT,
            env=worker_env(simulator),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("celery worker exited:\n" + log_path.read_text()[-3000:])
        # Only our worker's answer counts: another worker on the same broker may answer too.
        if any(hostname in reply for reply in app.control.ping(timeout=0.5)):
            process.log_path = log_path
            return process
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("celery worker did not answer a ping in 60 s:\n" + log_path.read_text()[-3000:])


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def celery_worker(transactional_db, simulator, tmp_path):
    """A real worker process, consuming from Redis and writing to the test database."""
    require_services()
    process = start_worker(simulator, tmp_path / "worker.log")
    try:
        yield process
    finally:
        stop_worker(process)
        connection.close()


def wait_for_status(connection_obj, statuses=("online", "failed"), timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection_obj.refresh_from_db()
        if connection_obj.status in statuses:
            return connection_obj
        time.sleep(0.2)
    raise AssertionError(f"status stayed {connection_obj.status!r} for {timeout} s")
