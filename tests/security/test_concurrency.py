"""Simultaneous requests on PostgreSQL: row locks make the state transitions race-free."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db
from django.test import Client
from django.urls import reverse

from connections import tasks
from connections.models import ConnectionCheck
from tests.connections.factories import make_connection
from tests.integration.conftest import require_services

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def hammer(n: int, action) -> list:
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        try:
            barrier.wait()
            results.append(action())
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_many_simultaneous_test_presses_start_exactly_one_test(alice, monkeypatch):
    require_services()
    sent = []
    monkeypatch.setattr(
        tasks.connection_check, "apply_async", lambda args=None, **k: sent.append(args)
    )
    conn = make_connection(alice, exchange="demo")
    url = reverse("connections:test", args=[conn.pk])

    def press():
        client = Client()
        client.force_login(alice)
        return client.post(url, HTTP_HX_REQUEST="true").status_code

    statuses = hammer(12, press)
    assert len(statuses) == 12
    assert ConnectionCheck.objects.filter(connection=conn).count() == 1
    assert len(sent) == 1
    assert sorted(statuses).count(200) == 1 and statuses.count(409) == 11


def test_two_passing_tests_of_one_key_at_once_leave_exactly_one_holder(alice, bob, monkeypatch):
    """Issue 14, point 10: the unique index and row locks decide; no deadlock, one winner."""
    require_services()
    from connections import services
    from connections.exchanges import registry
    from connections.models import Connection
    from tests.connections.factories import mexc_key
    from tests.connections.test_checks import FakeClient, online

    monkeypatch.setattr(registry, "build_client", lambda *a, **k: FakeClient(online))
    for round_ in range(4):
        key = mexc_key()
        conns = [
            make_connection(alice, api_key=key, name=f"A{round_}"),
            make_connection(bob, api_key=key, name=f"B{round_}"),
        ]
        checks = iter(
            [
                services.connection_request_check(connection=c, trigger="user", enqueue=False)
                for c in conns
            ]
        )
        lock = threading.Lock()

        def run(checks=checks, lock=lock):
            with lock:
                check = next(checks)
            return services.connection_run_check(check_id=check.pk)

        results = hammer(2, run)
        assert len(results) == 2, results
        rows = list(Connection.objects.filter(key_fingerprint=conns[0].key_fingerprint))
        winners = [c for c in rows if c.key_verified]
        assert len(winners) == 1 and winners[0].status == "online"
        (loser,) = [c for c in rows if not c.key_verified]
        assert loser.status == "failed"
        assert loser.problem_category == "key_in_use"
