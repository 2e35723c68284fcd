"""Issue 20 with a real worker on Redis: tests people start are taken before queued re-checks,
and a retry stays on the tests' queue."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import connection as db_connection

from backfuture import niceness
from backfuture.celery import TESTS_QUEUE
from connections import services
from connections.models import ConnectionCheck
from tests.integration.conftest import (
    add,
    heal_after_retry,
    require_services,
    wait_for_status,
    worker_env,
)
from tests.workers import spawn_worker, stop_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _wait_until_running(check: ConnectionCheck, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check.refresh_from_db()
        if check.state != "queued":
            return
        time.sleep(0.02)
    raise AssertionError(f"check {check.pk} was not taken in {timeout} s")


def test_tests_people_start_are_taken_before_queued_rechecks(celery_worker_one, simulator, alice):
    # Every call takes 1 s (a test is one round), so the one thread is busy with the first
    # re-check while the rest are queued, even on a loaded machine.
    simulator.latency_ms = 1000
    connections = [add(alice, simulator.new_key("mexc"), exchange="mexc") for _ in range(6)]
    blocker = services.connection_request_check(connection=connections[0], trigger="schedule")
    _wait_until_running(blocker)
    # Behind it: three re-checks first, then two tests people started.
    rechecks = [
        services.connection_request_check(connection=c, trigger="schedule")
        for c in connections[1:4]
    ]
    people = [
        services.connection_request_check(connection=c, trigger=trigger)
        for c, trigger in zip(connections[4:], ("user", "support"), strict=True)
    ]
    for conn in connections:
        wait_for_status(conn)
        assert conn.status == "online", conn.last_report
    started = {
        c.pk: c.started_at
        for c in ConnectionCheck.objects.filter(pk__in=[c.pk for c in rechecks + people])
    }
    # Round robin between the queues (kombu's default) would take a re-check second.
    assert max(started[c.pk] for c in people) < min(started[c.pk] for c in rechecks)


def test_a_retry_of_a_persons_test_stays_on_the_tests_queue(simulator, alice, tmp_path):
    """A worker that only consumes the tests' queue still finishes a test that was retried."""
    require_services()
    worker = spawn_worker(
        worker_env(simulator), tmp_path / "worker.log", concurrency=1, queues=(TESTS_QUEUE,)
    )
    try:
        simulator.set_fault("mexc", "maintenance")
        conn = add(alice, simulator.new_key("mexc"), exchange="mexc")
        check = services.connection_request_check(connection=conn, trigger="user")
        heal_after_retry(simulator, "mexc", conn)
        wait_for_status(conn)
        assert conn.status == "online", conn.last_report
        check.refresh_from_db()
        assert check.attempts >= 2  # retried (more than once on a slow machine)
    finally:
        stop_worker(worker)
        db_connection.close()


def test_the_tests_worker_starts_a_persons_test_while_the_worker_runs_a_recheck(
    simulator, alice, tmp_path
):
    """The Procfile's shape: `worker` (both queues) and `tests-worker` (only `tests`). With
    the worker's only thread on a re-check and more re-checks queued, a person's test starts at
    once on the tests-worker instead of waiting for that thread (issue 20, 2.)."""
    require_services()
    # A test is one round of calls: 1.5 s each keeps the running re-check going well past
    # the person's test's publication and pickup, even on a loaded machine.
    simulator.latency_ms = 1500
    env = worker_env(simulator)
    # As the Procfile starts them: the worker at nice 10, each in a session of its own.
    worker = spawn_worker(env, tmp_path / "worker.log", concurrency=1, name="worker", nice=10)
    tests_worker = None
    try:
        tests_worker = spawn_worker(
            env, tmp_path / "tests-worker.log", concurrency=1, name="tests", queues=(TESTS_QUEUE,)
        )
        if niceness.why_not_autogrouped(niceness.Proc()) is None:
            # The worker carried its nice to its session's group at start (Celery's
            # worker_init): ranked below the tests-worker's group, not beside it.
            assert Path(f"/proc/{worker.pid}/autogroup").read_text().rstrip().endswith("nice 10")
            assert (
                Path(f"/proc/{tests_worker.pid}/autogroup").read_text().rstrip().endswith("nice 0")
            )
        connections = [add(alice, simulator.new_key("mexc"), exchange="mexc") for _ in range(4)]
        rechecks = [
            services.connection_request_check(connection=c, trigger="schedule")
            for c in connections[:3]
        ]
        _wait_until_running(rechecks[0])
        person = services.connection_request_check(connection=connections[3], trigger="user")
        for conn in connections:
            wait_for_status(conn)
            assert conn.status == "online", conn.last_report
        for check in (*rechecks, person):
            check.refresh_from_db()
        # The worker alone would start it only when the running re-check had finished.
        assert person.started_at < rechecks[0].finished_at
        # ... and the tests-worker never took a re-check.
        assert all(r.started_at >= rechecks[0].started_at for r in rechecks)
        assert rechecks[1].started_at >= rechecks[0].finished_at
    finally:
        stop_worker(worker)
        if tests_worker is not None:
            stop_worker(tests_worker)
        db_connection.close()


@pytest.fixture
def celery_worker_one(transactional_db, simulator, tmp_path):
    """A real worker with one process, consuming both queues as the Procfile's does."""
    require_services()
    worker = spawn_worker(worker_env(simulator), tmp_path / "worker.log", concurrency=1)
    try:
        yield worker
    finally:
        stop_worker(worker)
        db_connection.close()
