"""One protocol starts every test (services._start_checks): a person's, support's or the
command's one test (connection_request_check) and the re-check scheduler's batches
(_request_rechecks) write the same rows and events, follow the same deadline rule, undo the
same way when the broker refuses, and a batch costs the same statements whatever its size."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from backfuture.celery import DEFAULT_QUEUE
from connections import services, tasks
from connections.models import AuditEvent, Connection, ConnectionCheck
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db


def _online(owner, n: int, **fields) -> list[Connection]:
    connections = [make_connection(owner, exchange="demo") for _ in range(n)]
    Connection.objects.filter(pk__in=[c.pk for c in connections]).update(status="online", **fields)
    return connections


def _event_shape(event: AuditEvent, connection: Connection) -> dict:
    assert event.object_id == connection.pk and event.connection_id_ref == connection.pk
    assert event.object_label == connection.name and event.owner_id == connection.owner_id
    return {
        "action": event.action,
        "actor": event.actor_id,
        "actor_kind": event.actor_kind,
        "object_type": event.object_type,
        "data": sorted(event.data),
        "trigger": event.data["trigger"],
    }


def test_both_paths_write_the_same_rows_events_and_deadline_rule(
    alice, sent, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTION_TEST_TIME_LIMIT = 50
    settings.CONNECTION_TEST_REAP_GRACE = 10
    settings.CONNECTION_TEST_QUEUE_WAIT = 60
    one, batched = _online(alice, 2)
    with django_capture_on_commit_callbacks(execute=True):
        single = services.connection_request_check(
            connection=one, trigger="schedule", countdown=30.0
        )
    with django_capture_on_commit_callbacks(execute=True):
        (batch,) = services._request_rechecks([(30.0, batched.pk)], started=time.monotonic())

    events = {e.data["check"]: e for e in AuditEvent.objects.filter(action="test_requested")}
    assert set(events) == {single.pk, batch.pk}
    assert _event_shape(events[single.pk], one) == _event_shape(events[batch.pk], batched)
    assert _event_shape(events[single.pk], one)["actor_kind"] == "system"
    for connection, check in ((one, single), (batched, batch)):
        connection.refresh_from_db()
        check.refresh_from_db()
        assert connection.status == "testing" and connection.current_check_id == check.pk
        assert connection.testing_since is not None
        assert check.trigger == "schedule" and check.state == "queued"
        # Time limit + grace + the time it may wait in the queue + its countdown.
        waits = (check.deadline - check.created_at).total_seconds()
        assert 149 < waits <= 150.5, waits
    ((single_args, single_options), (batch_args, batch_options)) = sent
    assert single_args == [single.pk] and batch_args == [batch.pk]
    assert single_options["queue"] == batch_options["queue"] == DEFAULT_QUEUE
    # The one test keeps its countdown; a re-check gets what is left of its slot.
    assert single_options["countdown"] == 30.0
    assert 29 < batch_options["countdown"] <= 30.0


def test_a_person_is_the_actor_of_the_event_of_the_test_they_start(alice, sent):
    (connection,) = _online(alice, 1)
    check = services.connection_request_check(
        connection=connection, trigger="user", requested_by=alice, enqueue=False
    )
    event = AuditEvent.objects.get(action="test_requested")
    assert event.actor_id == alice.pk and event.actor_kind == "user"
    assert event.data == {"trigger": "user", "check": check.pk}
    # The returned check is the one started, its connection as the lock left it.
    assert check.requested_by == alice and check.connection.status == "testing"
    assert check.connection.current_check == check and sent == []


@pytest.mark.django_db(transaction=True)  # autocommit, as beat runs it: publishing at commit
def test_a_refusal_mid_batch_undoes_exactly_the_unpublished_checks(alice, monkeypatch):
    first, second, third = _online(alice, 3)
    Connection.objects.filter(pk=second.pk).update(status="failed")  # waiting out a backoff
    tried = []

    def refuses_the_second(args=None, **options):
        tried.append(args[0])
        if len(tried) == 2:
            raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.connection_check, "apply_async", refuses_the_second)
    planned = [(0.0, first.pk), (1.0, second.pk), (2.0, third.pk)]
    started = services._request_rechecks(planned, started=time.monotonic())

    assert [check.connection_id for check in started] == [first.pk]
    assert len(tried) == 2  # the third was not tried against a broker that just refused
    statuses = dict(Connection.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "testing", second.pk: "failed", third.pk: "online"}
    checks = {c.connection_id: c for c in ConnectionCheck.objects.all()}
    assert checks[first.pk].state == "queued" and checks[first.pk].message == ""
    for undone in (second, third):
        assert checks[undone.pk].state == "finished"
        assert checks[undone.pk].message == "queue_unavailable"
        assert Connection.objects.get(pk=undone.pk).testing_since is None


def _statements(planned: list[tuple[float, int]], callbacks_ctx) -> int:
    with callbacks_ctx(execute=True), CaptureQueriesContext(db_connection) as queries:
        assert len(services._request_rechecks(planned, started=time.monotonic())) == len(planned)
    return len(queries)


def test_a_batch_costs_the_same_statements_whatever_its_size(
    alice, sent, django_capture_on_commit_callbacks
):
    """docs/performance.md, section 3: the lock, one INSERT of checks, one UPDATE, one INSERT
    of events per batch, not a statement per re-check."""
    old = {"last_tested_at": alice.date_joined - timedelta(hours=1)}
    counts = {
        size: _statements(
            [(0.0, c.pk) for c in _online(alice, size, **old)], django_capture_on_commit_callbacks
        )
        for size in (1, 25)
    }
    assert counts[1] == counts[25], counts
    assert len(sent) == 26
    # A person's test costs the same plus its cooldown read.
    (connection,) = _online(alice, 1)
    with CaptureQueriesContext(db_connection) as queries:
        services.connection_request_check(connection=connection, trigger="user", enqueue=False)
    assert len(queries) == counts[1] + 1, [q["sql"][:60] for q in queries]
