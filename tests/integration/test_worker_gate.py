"""Gate through a real Celery worker on Redis and PostgreSQL against the simulator: a
healthy key, a permanent refusal and a temporary fault that is retried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_healthy_gate_futures_key_is_online_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("gate", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="gate", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    outcomes = {c["name"]: c["outcome"] for c in connection.last_report["checks"]}
    assert outcomes["futures_permission"] == "ok" and outcomes["ip_restriction"] == "ok"
    assert connection.last_report["key_pairs"] == []
    paths = {record.path for record in simulator.requests}
    assert {"/api/v4/account/main_keys", "/api/v4/futures/usdt/accounts"} <= paths


def test_gate_key_with_writable_wallet_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("gate", withdrawal=True)
    connection = add(alice, key, exchange="gate")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "withdrawal_enabled"


def test_gate_temporary_fault_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("gate")
    simulator.set_fault("gate", "maintenance")
    connection = add(alice, key, exchange="gate")
    press_test(alice, connection)
    heal_after_retry(simulator, "gate", connection)
    wait_for_status(connection)
    assert connection.status == "online"
    assert connection.checks.get().attempts >= 2
