"""Binance through a real Celery worker on Redis and PostgreSQL and the simulator: a healthy
Ed25519 futures key, a permanent failure and a temporary fault that is retried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, press_test, wait_for_status
from tests.simulator.binance import new_ed25519_key

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_ed25519_futures_key_reaches_online_through_a_real_worker(celery_worker, simulator, alice):
    key = new_ed25519_key(simulator, ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="binance", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    outcomes = {c["name"]: c["outcome"] for c in connection.last_report["checks"]}
    assert outcomes["futures_permission"] == "ok" and outcomes["withdrawal"] == "ok"
    paths = {record.path for record in simulator.requests}
    assert {"/sapi/v1/account/apiRestrictions", "/fapi/v3/balance", "/fapi/v1/time"} <= paths


def test_binance_key_without_futures_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("binance", futures=False)
    connection = add(alice, key, exchange="binance", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "futures_not_permitted"
    checks = {c["name"]: c["code"] for c in connection.last_report["checks"]}
    assert checks["futures_permission"] == "binance_futures_disabled"


def test_binance_rate_limit_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("binance")
    simulator.set_fault("binance", "rate_limited", retry_after=1)
    connection = add(alice, key, exchange="binance")
    press_test(alice, connection)
    heal_after_retry(simulator, "binance", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2


def test_demo_connection_is_tested_on_the_demo_hosts(celery_worker, simulator, alice):
    from connections import services

    key = simulator.new_key("binance", demo=True)
    connection = services.connection_create(
        owner=alice,
        name="Binance demo",
        exchange="binance",
        market="spot",
        api_key=key.api_key,
        api_secret=key.secret,
        demo=True,
    )
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert {record.exchange for record in simulator.requests} == {"binance_demo"}
    checks = {c["name"]: c["code"] for c in connection.last_report["checks"]}
    assert checks["trade_permission"] == "order_test_ok"
    assert checks["withdrawal"] == "binance_demo_no_key_info"
