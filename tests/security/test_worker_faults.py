"""A worker killed mid-test, and a broker that is down when the user presses "Test"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.test import Client
from django.urls import reverse

from connections import services
from tests.integration.conftest import ROOT, require_services, wait_for_status, worker_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def start_worker(simulator, log_path):
    from backfuture.celery import app

    out = open(log_path, "a")  # noqa: SIM115 (kept open for the process's lifetime)
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
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"fault-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=worker_env(simulator),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the kill takes its children too
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not app.control.ping(timeout=0.5):
        assert process.poll() is None, log_path.read_text()[-2000:]
    return process


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

    settings.CONNECTION_TEST_REAP_AFTER = 1
    time.sleep(1.2)
    assert services.connections_reap_stale_tests() == 1
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
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=20)


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
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app.pool.force_close_all()
    app._pool = None
    try:
        client = Client()
        client.force_login(alice)
        response = client.post(reverse("connections:test", args=[conn.pk]), HTTP_HX_REQUEST="true")
    finally:
        app.conf.broker_url = original
        app._pool = None
    assert response.status_code == 503
    assert "task queue is unavailable" in response.content.decode()
    conn.refresh_from_db()
    assert conn.status == "untested" and conn.testing_since is None
