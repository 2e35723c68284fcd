"""Fixtures that run the real thing: a Celery worker process on Redis and PostgreSQL, and the
local exchange simulator. In CI (BACKFUTURE_REQUIRE_SERVICES=1) a missing service fails the
run instead of skipping it.
"""

from __future__ import annotations

import os
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


@pytest.fixture
def celery_worker(transactional_db, simulator, tmp_path):
    """A real `celery worker` process, consuming from Redis and writing to the test database."""
    require_services()
    from backfuture.celery import app

    log = tmp_path / "worker.log"
    with log.open("w") as out:
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
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=worker_env(simulator),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("celery worker exited:\n" + log.read_text()[-3000:])
            if app.control.ping(timeout=0.5):
                break
        else:
            pytest.fail("celery worker did not answer a ping in 60 s:\n" + log.read_text()[-3000:])
        process.log_path = log
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        connection.close()


def wait_for_status(connection_obj, statuses=("online", "failed"), timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection_obj.refresh_from_db()
        if connection_obj.status in statuses:
            return connection_obj
        time.sleep(0.2)
    raise AssertionError(f"status stayed {connection_obj.status!r} for {timeout} s")
