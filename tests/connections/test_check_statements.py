"""A test's statements on the worker's side (docs/performance.md, section 1): what a test
costs in SQL from the task's first read to the result written, pinned so a repeated read
(the same row fetched twice) cannot come back unnoticed."""

from __future__ import annotations

import re
import time

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from connections import services, throttle
from connections.exchanges import registry
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.connections.test_checks import FakeClient, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(monkeypatch):
    """Run one test of `connection` on the worker's side; its statements (throttle aside:
    its state is in the cache, which may be the database in some set-ups)."""
    monkeypatch.setattr(throttle, "take_slot", lambda *args, **kwargs: (0.0, time.time()))
    monkeypatch.setattr(registry, "build_client", lambda *args, **kwargs: FakeClient(online))

    def run(connection: Connection) -> list[str]:
        check = services.connection_request_check(
            connection=connection, trigger="schedule", enqueue=False
        )
        with CaptureQueriesContext(db_connection) as queries:
            assert services.connection_run_check(check_id=check.pk) == "online"
        return [q["sql"] for q in queries.captured_queries]

    return run


def _reads_of_secrets(statements: list[str]) -> int:
    return sum(1 for s in statements if s.startswith("SELECT") and '"api_secret"' in s)


def test_a_passing_test_reads_the_connection_and_its_key_once(alice, run):
    connection = make_connection(alice, exchange="demo")
    first = run(connection)
    # The task's read of the check with its connection: its sealed key is used, not read again
    # after the check is marked running; the result's lock (check and connection in one
    # statement) reads the row once more.
    assert _reads_of_secrets(first) == 2, first
    # The first passing test also claims the key (docs/security.md, one key one connection).
    assert len(first) == 11, first
    again = run(connection)
    assert _reads_of_secrets(again) == 2, again
    assert len(again) == 8, again


def test_the_result_writes_what_it_changes_not_the_key(alice, run):
    connection = make_connection(alice, exchange="demo")
    updates = [s for s in run(connection) if s.startswith('UPDATE "connections_connection"')]
    written = set(re.findall(r'"(\w+)" = ', updates[-1].split(" WHERE ")[0]))
    assert {"status", "last_report", "last_tested_at", "updated_at"} <= written
    assert not written & {"api_key", "api_secret", "passphrase", "name", "owner_id"}, written
    connection.refresh_from_db()
    assert connection.status == "online" and connection.key_verified


def test_the_test_view_reads_the_connection_once(
    alice, alice_client, monkeypatch, django_capture_on_commit_callbacks
):
    """The view's scoped read is the lock the test starts under: session, user, the locked
    row, the cooldown read, the check, the row's update, the event, in one transaction."""
    from django.urls import reverse

    from connections import tasks

    sent = []
    monkeypatch.setattr(
        tasks.connection_check, "apply_async", lambda args=None, **options: sent.append(args)
    )
    connection = make_connection(alice, exchange="demo")
    alice_client.get(reverse("connections:detail", args=[connection.pk]))  # session in place
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(db_connection) as queries,
    ):
        response = alice_client.post(reverse("connections:test", args=[connection.pk]))
    assert response.status_code == 302 and len(sent) == 1
    statements = [q["sql"] for q in queries.captured_queries]
    reads = [s for s in statements if s.startswith('SELECT "connections_connection"."id"')]
    assert len(reads) == 1 and reads[0].endswith("FOR UPDATE"), statements
    assert len(statements) == 9, [s.split()[0] for s in statements]


@pytest.mark.django_db(transaction=True)
def test_a_connection_locked_by_the_caller_needs_the_callers_transaction(alice):
    connection = make_connection(alice, exchange="demo")
    with pytest.raises(RuntimeError):
        services.connection_request_check(
            connection=connection, trigger="user", enqueue=False, locked=True
        )
