"""Bybit through a real Celery worker on Redis and PostgreSQL, against the simulated Bybit:
a healthy key, a permanent failure and a temporary fault that is retried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_healthy_bybit_futures_key_is_online_through_a_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bybit", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="bybit", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    outcomes = {c["name"]: c["outcome"] for c in connection.last_report["checks"]}
    assert outcomes["futures_permission"] == "ok"
    assert outcomes["withdrawal"] == "ok"
    assert outcomes["key_expiry"] == "ok"
    paths = {record.path for record in simulator.requests}
    assert {"/v5/market/time", "/v5/user/query-api", "/v5/account/wallet-balance"} <= paths


def test_bybit_demo_key_is_tested_on_the_demo_host(celery_worker, simulator, alice):
    key = simulator.new_key("bybit", demo=True)
    connection = add(alice, key, exchange="bybit", demo=True)
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert {record.exchange for record in simulator.requests} == {"bybit_demo"}


def test_bybit_withdrawal_key_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bybit", withdrawal=True)
    connection = add(alice, key, exchange="bybit")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "withdrawal_enabled"


def test_bybit_temporary_fault_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("bybit")
    simulator.set_fault("bybit", "maintenance")
    connection = add(alice, key, exchange="bybit")
    press_test(alice, connection)
    heal_after_retry(simulator, "bybit", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2
