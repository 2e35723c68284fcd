"""Coinbase through a real Celery worker on Redis, PostgreSQL and the simulator: a healthy key,
a permanent failure (Transfer permission) and a temporary fault that is retried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_healthy_coinbase_key_reaches_online(celery_worker, simulator, alice):
    key = simulator.new_key("coinbase")
    connection = add(alice, key, exchange="coinbase")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    outcomes = {c["name"]: (c["outcome"], c["code"]) for c in connection.last_report["checks"]}
    assert outcomes["withdrawal"] == ("ok", "withdrawal_disabled")
    assert outcomes["ip_restriction"] == ("not_verifiable", "coinbase_ip_allowlist_hidden")
    paths = {record.path for record in simulator.requests}
    assert {"/api/v3/brokerage/key_permissions", "/api/v3/brokerage/accounts"} <= paths


def test_coinbase_transfer_key_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("coinbase", withdrawal=True)
    connection = add(alice, key, exchange="coinbase")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "withdrawal_enabled"


def test_coinbase_temporary_fault_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("coinbase")
    simulator.set_fault("coinbase", "rate_limited", retry_after=1)
    connection = add(alice, key, exchange="coinbase")
    press_test(alice, connection)
    heal_after_retry(simulator, "coinbase", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2
