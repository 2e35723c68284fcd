"""Bitget through a real Celery worker on Redis and PostgreSQL, against the simulator: a
healthy key (live and demo), a permanent failure and a temporary fault that is retried."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from connections import services
from tests.integration.conftest import wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def add(owner, key, *, market="spot", demo=False, passphrase=None):
    return services.connection_create(
        owner=owner,
        name=f"bitget {market} {key.api_key[-4:]}",
        exchange="bitget",
        market=market,
        api_key=key.api_key,
        api_secret=key.secret,
        passphrase=passphrase or key.passphrase or "",
        withdrawal_off_confirmed=True,
        demo=demo,
    )


def press_test(owner, connection):
    client = Client()
    client.force_login(owner)
    response = client.post(reverse("connections:test", args=[connection.pk]))
    assert response.status_code == 302


def outcomes(connection):
    return {c["name"]: (c["outcome"], c["code"]) for c in connection.last_report["checks"]}


def test_healthy_futures_key_reaches_online_through_a_real_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bitget", ip_whitelist=["127.0.0.1"])
    connection = add(alice, key, market="futures")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert outcomes(connection)["futures_permission"] == ("ok", "futures_enabled")
    assert outcomes(connection)["withdrawal"] == ("ok", "withdrawal_disabled")
    paths = {record.path for record in simulator.requests}
    assert {"/api/v2/spot/account/info", "/api/v2/mix/account/accounts"} <= paths


def test_demo_key_on_a_demo_connection_is_online(celery_worker, simulator, alice):
    key = simulator.new_key("bitget", demo=True)
    connection = add(alice, key, demo=True)
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report


def test_wrong_passphrase_fails_through_the_worker(celery_worker, simulator, alice):
    key = simulator.new_key("bitget")
    connection = add(alice, key, passphrase="not the one set on Bitget")
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "failed"
    assert connection.problem_category == "invalid_key"
    assert outcomes(connection)["credentials"] == ("failed", "bitget_key_or_passphrase")


def test_temporary_fault_is_retried_then_succeeds(celery_worker, simulator, alice):
    key = simulator.new_key("bitget")
    simulator.set_fault("bitget", "maintenance", times=1)
    connection = add(alice, key)
    press_test(alice, connection)
    wait_for_status(connection)
    assert connection.status == "online", connection.last_report
    assert connection.checks.get().attempts >= 2
