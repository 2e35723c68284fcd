"""HTX through a real Celery worker on Redis and PostgreSQL, against the local simulator: a
healthy key, a permanent failure and a temporary fault that is retried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_healthy_htx_futures_key_goes_online_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("htx", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="htx", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    outcomes = {c["name"]: c["outcome"] for c in connection.last_report["checks"]}
    assert outcomes["withdrawal"] == "ok" and outcomes["key_expiry"] == "ok"
    paths = {record.path for record in simulator.requests}
    assert {"/v2/user/uid", "/v2/user/api-key", "/linear-swap-api/v1/swap_cross_account_info"} <= (
        paths
    )


def test_htx_withdrawal_key_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("htx", withdrawal=True)
    connection = add(alice, key, exchange="htx")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "withdrawal_enabled"


def test_htx_maintenance_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("htx")
    simulator.set_fault("htx", "maintenance")
    connection = add(alice, key, exchange="htx")
    press_test(alice, connection)
    heal_after_retry(simulator, "htx", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2
