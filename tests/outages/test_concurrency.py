"""The outage beat jobs beside a concurrent write (issue 17): each locks a connection and reads
it again before acting, so a key replaced meanwhile is judged by its new value.

A second thread holds the connection's row lock and replaces the key; the job runs in a third
and is let through once PostgreSQL shows it waiting for that lock (or it has finished without
needing it: the outcome must be the same either way)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from connections import services
from connections.models import Connection, ExchangeIncident, KeyExpiryReminder
from strategies.models import Strategy
from tests.connections.factories import make_connection
from tests.strategies.factories import stored_strategy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("mail_at_once"),
]


def _waiting_for_a_lock() -> bool:
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def _beside_a_key_replacement(connection, job) -> None:
    """Run `job()` while another transaction holds `connection` and replaces its key."""
    if db_connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    locked, job_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def replace() -> None:
        try:
            with transaction.atomic():
                Connection.objects.select_for_update().get(pk=connection.pk)
                locked.set()
                for _ in range(200):  # until the job waits for this lock, or is done
                    if job_done.is_set() or _waiting_for_a_lock():
                        break
                    threading.Event().wait(0.05)
                services.connection_replace_key(
                    connection=connection,
                    api_key="mx0vglREPLACED0001",
                    api_secret="s" * 32,
                    withdrawal_off_confirmed=True,
                    actor=connection.owner,
                )
        except BaseException as error:
            errors.append(error)
        finally:
            db_connection.close()

    def run_job() -> None:
        try:
            job()
        except BaseException as error:
            errors.append(error)
        finally:
            job_done.set()
            db_connection.close()

    holder = threading.Thread(target=replace)
    holder.start()
    assert locked.wait(10)
    worker = threading.Thread(target=run_job)
    worker.start()
    worker.join(30)
    holder.join(30)
    assert not errors, errors


def test_key_expiry_reminder_is_not_sent_for_a_key_replaced_meanwhile(alice):
    connection = make_connection(alice)
    stored_strategy(alice, connection, status="enabled")
    Connection.objects.filter(pk=connection.pk).update(
        status="online",
        key_expires_at=timezone.now(),  # expires today: strategies would pause
    )
    _beside_a_key_replacement(connection, services.connections_key_expiry)
    assert not KeyExpiryReminder.objects.exists()
    strategy = Strategy.objects.get()
    assert strategy.pause_reason == "key_replaced"  # paused by the replacement, not by expiry
    assert mail.outbox == []


def test_incident_escalation_leaves_a_connection_whose_key_was_replaced_meanwhile(alice, bob):
    connections = [make_connection(owner) for owner in (alice, alice, bob, bob, bob)]
    Connection.objects.update(status="online")
    for c in connections:
        stored_strategy(c.owner, c, name=f"S{c.pk}", status="enabled")
    incident = ExchangeIncident.objects.create(
        exchange="mexc",
        started_at=timezone.now() - timedelta(minutes=31),
        detected_at=timezone.now() - timedelta(minutes=30),
    )
    replaced = connections[0]
    _beside_a_key_replacement(replaced, lambda: services.incident_escalate(incident=incident))
    replaced.refresh_from_db()
    assert replaced.status == "untested"
    assert replaced.strategies.get().pause_reason == "key_replaced"
    others = Connection.objects.exclude(pk=replaced.pk)
    assert set(others.values_list("status", flat=True)) == {"failed"}
    assert set(
        Strategy.objects.exclude(connection=replaced).values_list("pause_reason", flat=True)
    ) == {"exchange_unavailable"}
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]


def test_the_scheduler_does_not_recheck_a_connection_whose_key_was_replaced_meanwhile(alice):
    connection = make_connection(alice)
    Connection.objects.filter(pk=connection.pk).update(
        status="online", last_tested_at=timezone.now() - timedelta(hours=1)
    )
    enqueued = []
    original = services._enqueue_check
    services._enqueue_check = lambda check_id, **options: enqueued.append(check_id)
    try:
        _beside_a_key_replacement(connection, services.connections_schedule_rechecks)
    finally:
        services._enqueue_check = original
    connection.refresh_from_db()
    assert connection.status == "untested" and connection.current_check_id is None
    assert enqueued == []
