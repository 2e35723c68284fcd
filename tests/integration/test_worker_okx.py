"""OKX through a real Celery worker on Redis and PostgreSQL, against the simulated OKX: a
healthy key, a permanent failure, a temporary fault that is retried, and a demo key."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, outcomes, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_healthy_futures_key_is_online_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("okx", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="okx", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    checks = outcomes(connection)
    assert checks["futures_permission"] == ("ok", "okx_futures_enabled")
    assert checks["withdrawal"] == ("ok", "withdrawal_disabled")
    assert checks["ip_restriction"] == ("ok", "ip_restricted")
    paths = {record.path for record in simulator.requests}
    assert {"/api/v5/public/time", "/api/v5/account/config", "/api/v5/account/balance"} <= paths


def test_wrong_passphrase_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("okx")
    # The passphrase is case-sensitive (exchanges-more.md §2.8): typed in lower case here.
    connection = add(alice, key, exchange="okx", passphrase=key.passphrase.lower())
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "invalid_key"
    assert outcomes(connection)["credentials"] == ("failed", "passphrase_wrong")


def test_maintenance_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("okx")
    simulator.set_fault("okx", "maintenance")
    connection = add(alice, key, exchange="okx")
    press_test(alice, connection)
    heal_after_retry(simulator, "okx", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2


def test_demo_key_on_a_demo_connection_uses_the_demo_host(celery_worker, simulator, alice):
    key = simulator.new_key("okx", demo=True)
    connection = add(alice, key, exchange="okx", demo=True)
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert {r.exchange for r in simulator.requests} == {"okx_demo"}
