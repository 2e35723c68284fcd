"""A worker killed mid-test, and a broker that is down when the user presses "Test"."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from connections import services
from tests.integration.conftest import (
    require_services,
    start_worker,
    stop_worker,
    wait_for_status,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_killed_worker_leaves_nothing_testing_and_the_next_test_works(
    simulator, alice, settings, tmp_path
):
    require_services()
    key = simulator.new_key("mexc")
    conn = services.connection_create(
        owner=alice,
        name="MEXC",
        exchange="mexc",
        market="spot",
        api_key=key.api_key,
        api_secret=key.secret,
        withdrawal_off_confirmed=True,
    )
    simulator.latency_ms = 4000  # the test will be in flight when the worker dies
    worker = start_worker(simulator, tmp_path / "worker.log")
    client = Client()
    client.force_login(alice)
    client.post(reverse("connections:test", args=[conn.pk]))
    deadline = time.monotonic() + 30
    while not conn.checks.filter(state="running").exists():
        assert time.monotonic() < deadline, "the test never started"
        time.sleep(0.1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    conn.refresh_from_db()
    assert conn.status == "testing"

    # The reaper's deadline follows from the hard time limit of the attempt that was running
    # (issue 14), not a fixed five minutes; passing it is simulated rather than waited for.
    check = conn.checks.get()
    window = settings.CONNECTION_TEST_TIME_LIMIT + settings.CONNECTION_TEST_REAP_GRACE
    assert check.deadline - check.started_at <= timedelta(seconds=window + 1)
    assert services.connections_reap_stale_tests() == 0
    assert services.connections_reap_stale_tests(now=check.deadline) == 1
    conn.refresh_from_db()
    assert conn.status == "failed" and conn.problem_message == "interrupted"

    simulator.latency_ms = 0
    settings.CONNECTION_TEST_COOLDOWN = 0
    worker = start_worker(simulator, tmp_path / "worker2.log")
    try:
        client.post(reverse("connections:test", args=[conn.pk]))
        wait_for_status(conn)
        assert conn.status == "online"
    finally:
        stop_worker(worker)


def test_broker_outage_gives_a_clear_message_and_keeps_the_connection(alice, settings):
    require_services()
    from backfuture.celery import app

    conn = services.connection_create(
        owner=alice,
        name="Demo",
        exchange="demo",
        market="spot",
        api_key="demo-key-broker",
        api_secret="demo-secret",
    )
    # Point the app at a port where nothing listens, with fresh pools; afterwards put the
    # original broker URL and pools back untouched, so later tests publish normally.
    saved = (app.conf.broker_url, app._pool, app.amqp._producer_pool)
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        client = Client()
        client.force_login(alice)
        response = client.post(reverse("connections:test", args=[conn.pk]), HTTP_HX_REQUEST="true")
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app._pool, app.amqp._producer_pool = saved
    assert response.status_code == 503
    assert "task queue is unavailable" in response.content.decode()
    conn.refresh_from_db()
    assert conn.status == "untested" and conn.testing_since is None
