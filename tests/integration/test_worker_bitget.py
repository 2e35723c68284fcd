"""Bitget through a real Celery worker on Redis and PostgreSQL, against the simulator: a
healthy key (live and demo), a permanent failure and a temporary fault that is retried."""

from __future__ import annotations

import pytest

from tests.integration.conftest import add, heal_after_retry, outcomes, press_test, wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_healthy_futures_key_reaches_online_through_a_real_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bitget", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, exchange="bitget", market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert outcomes(connection)["futures_permission"] == ("ok", "futures_enabled")
    assert outcomes(connection)["withdrawal"] == ("ok", "withdrawal_disabled")
    paths = {record.path for record in simulator.requests}
    assert {"/api/v2/spot/account/info", "/api/v2/mix/account/accounts"} <= paths


def test_demo_key_on_a_demo_connection_is_online(celery_worker, simulator, alice):
    key = simulator.new_key("bitget", demo=True)
    connection = add(alice, key, exchange="bitget", demo=True)
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report


def test_wrong_passphrase_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bitget")
    connection = add(alice, key, exchange="bitget", passphrase="not the one set on Bitget")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "invalid_key"
    assert outcomes(connection)["credentials"] == ("failed", "bitget_key_or_passphrase")


def test_temporary_fault_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("bitget")
    simulator.set_fault("bitget", "maintenance")
    connection = add(alice, key, exchange="bitget")
    press_test(alice, connection)
    heal_after_retry(simulator, "bitget", connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2
