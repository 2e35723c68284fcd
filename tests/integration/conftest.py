"""Fixtures that run the real thing: a Celery worker process on Redis and PostgreSQL, and the
local exchange simulator. In CI (BACKFUTURE_REQUIRE_SERVICES=1) a missing service fails the
run instead of skipping it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from connections import services
from tests.conftest import services_required
from tests.simulator import ExchangeSimulator
from tests.workers import WorkerFailed, spawn_worker, stop_worker

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
    """A real worker on Redis and the test database, talking to `simulator`."""
    try:
        return spawn_worker(worker_env(simulator), log_path, concurrency=concurrency)
    except WorkerFailed as failure:
        pytest.fail(str(failure))


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


def add(owner, key, *, exchange, market="spot", demo=False, passphrase=None):
    """A connection for a simulator key, withdrawal confirmed off; `passphrase` overrides the
    key's own (to test a wrong one)."""
    return services.connection_create(
        owner=owner,
        name=f"{exchange} {market} {key.api_key[-4:]}",
        exchange=exchange,
        market=market,
        api_key=key.api_key,
        api_secret=key.secret,
        passphrase=passphrase or key.passphrase or "",
        withdrawal_off_confirmed=True,
        demo=demo,
    )


def press_test(owner, connection_obj) -> Client:
    """The owner presses "Test", as the page does; returns the logged-in client."""
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("connections:test", args=[connection_obj.pk]))
    assert response.status_code == 302
    return client


def outcomes(connection_obj) -> dict[str, tuple[str, str]]:
    """Check name → (outcome, code) of the connection's last report."""
    return {c["name"]: (c["outcome"], c["code"]) for c in connection_obj.last_report["checks"]}


def heal_after_retry(simulator, exchange: str, connection_obj, timeout: float = 30.0):
    """Clear `exchange`'s faults once the worker has recorded a retry of the connection's test
    (the fault set without `times`, so every call meets it until then). A single faulty answer
    (`times=1`) could land in a round whose answers are dropped unread (signed again after a
    skew measured on a loaded machine, or sent back to the queue by our throttle): the test
    would then pass at once, without the retry it is there to show."""
    deadline = time.monotonic() + timeout
    check = connection_obj.checks.get()
    while not check.retry_category and time.monotonic() < deadline:
        time.sleep(0.02)
        check.refresh_from_db()
    simulator.clear_faults(exchange)
    assert check.retry_category, "the worker recorded no retry"
    return check


def wait_for_status(connection_obj, statuses=("online", "failed"), timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection_obj.refresh_from_db()
        if connection_obj.status in statuses:
            return connection_obj
        time.sleep(0.2)
    raise AssertionError(f"status stayed {connection_obj.status!r} for {timeout} s")
