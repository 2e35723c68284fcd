"""BingX through a real Celery worker on Redis and PostgreSQL, talking to the simulated BingX:
a healthy key, a permanent failure and a temporary fault."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def outcomes(connection) -> dict[str, str]:
    return {c["name"]: c["outcome"] for c in connection.last_report["checks"]}


def test_healthy_bingx_futures_key_is_online_through_a_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bingx", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="bingx", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    checks = outcomes(connection)
    assert checks["withdrawal"] == "ok" and checks["futures_permission"] == "ok"
    paths = {record.path for record in simulator.requests}
    assert {
        "/openApi/swap/v2/server/time",
        "/openApi/v1/account/apiPermissions",
        "/openApi/swap/v3/user/balance",
    } <= paths


def test_bingx_withdrawal_key_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bingx", withdrawal=True)
    connection = add(alice, key, exchange="bingx")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "withdrawal_enabled"


def test_bingx_rate_limit_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("bingx")
    simulator.set_fault("bingx", "rate_limited", retry_after=1)
    connection = add(alice, key, exchange="bingx")
    press_test(alice, connection)
    heal_after_retry(simulator, "bingx", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2
