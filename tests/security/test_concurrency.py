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
