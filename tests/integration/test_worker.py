"""Issue 5's integration test: the "Test" button, a real Celery worker on Redis, PostgreSQL and
the local exchange simulator, end to end."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_pressing_test_reaches_online_through_a_real_worker(celery_worker, simulator, alice):
    key = simulator.new_key("mexc")
    connection = add(alice, key, exchange="mexc")
    client = press_test(alice, connection)
    connection.refresh_from_db()
    assert connection.status in {"testing", "online"}
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    outcomes = {c["name"]: c["outcome"] for c in connection.last_report["checks"]}
    assert outcomes["credentials"] == "ok" and outcomes["trade_permission"] == "ok"
    assert outcomes["withdrawal"] == "not_verifiable"
    # The page polled by htmx now answers "final" (286).
    status = client.get(reverse("connections:status", args=[connection.pk]), HTTP_HX_REQUEST="true")
    assert status.status_code == 286 and "Online" in status.content.decode()
    # The simulator really saw signed calls.
    paths = {record.path for record in simulator.requests}
    assert {"/api/v3/time", "/api/v3/account", "/api/v3/order/test"} <= paths


def test_kucoin_withdrawal_key_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("kucoin", withdrawal=True)
    connection = add(alice, key, exchange="kucoin")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "withdrawal_enabled"


def test_temporary_fault_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("kucoin")
    simulator.set_fault("kucoin", "maintenance")
    connection = add(alice, key, exchange="kucoin")
    press_test(alice, connection)
    heal_after_retry(simulator, "kucoin", connection)
    wait_for_status(connection)
    assert connection.status == "online"
    check = connection.checks.get()
    assert check.attempts >= 2
