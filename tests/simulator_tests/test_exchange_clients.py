"""Our exchange clients (connections/exchanges) against the simulator: real HTTP, real
signatures, the exchanges' own answers."""

from __future__ import annotations

from typing import Any

import pytest

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.kucoin import KucoinClient
from connections.exchanges.mexc import MexcClient
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator_tests.conftest import credentials


def run(sim: ExchangeSimulator, key: SimKey, market: Market, **options: Any):
    client_class = MexcClient if key.exchange == "mexc" else KucoinClient
    client = client_class(base_urls=sim.urls, **options)
    return client.run_checks(credentials(key), market)


def outcome(report, name: CheckName) -> Outcome:
    result = report.check(name)
    assert result is not None
    return result.outcome


# --- healthy keys -------------------------------------------------------------------------


def test_healthy_mexc_spot_key_is_online(sim):
    report = run(sim, sim.new_key("mexc"), Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert outcome(report, CheckName.CREDENTIALS) == Outcome.OK
    assert outcome(report, CheckName.TRADE_PERMISSION) == Outcome.OK
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    # Time, account and order/test: the calls the client is meant to make, all answered.
    assert {(r.exchange, r.path, r.status) for r in sim.requests} == {
        ("mexc", "/api/v3/time", 200),
        ("mexc", "/api/v3/account", 200),
        ("mexc", "/api/v3/order/test", 200),
    }


def test_healthy_mexc_futures_key_is_online(sim):
    report = run(sim, sim.new_key("mexc"), Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert outcome(report, CheckName.FUTURES_PERMISSION) == Outcome.OK
    assert report.free_balance("USDT") == pytest.approx(1250.5)


def test_healthy_kucoin_spot_key_is_online(sim):
    report = run(sim, sim.new_key("kucoin", ip_whitelist=["127.0.0.1"]), Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert report.raw_permissions == ["General", "Futures", "Spot"]
    assert outcome(report, CheckName.WITHDRAWAL) == Outcome.OK
    assert outcome(report, CheckName.IP_RESTRICTION) == Outcome.OK
    assert report.free_balance("USDT") == pytest.approx(1250.5)


def test_healthy_kucoin_futures_key_is_online(sim):
    report = run(sim, sim.new_key("kucoin"), Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert outcome(report, CheckName.FUTURES_PERMISSION) == Outcome.OK
    assert report.free_balance("USDT") == pytest.approx(1250.5)


def test_kucoin_version_3_key_is_online(sim):
    # The client sends KC-API-KEY-VERSION 2, which KuCoin accepts for version 3 keys too.
    report = run(sim, sim.new_key("kucoin", key_version=3), Market.SPOT)
    assert report.verdict == "online", report.to_dict()


# --- permanent problems -------------------------------------------------------------------


def test_kucoin_key_with_withdrawal_fails_as_withdrawal_enabled(sim):
    report = run(sim, sim.new_key("kucoin", withdrawal=True), Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert outcome(report, CheckName.WITHDRAWAL) == Outcome.FAILED


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_ip_fault_fails_as_ip_not_allowed_with_the_reported_ip(sim, exchange):
    key = sim.new_key(exchange)
    sim.set_fault(exchange, "ip_not_allowed", ip="198.51.100.7")
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "198.51.100.7"


def test_mexc_futures_ip_fault_reports_the_ip(sim):
    key = sim.new_key("mexc")
    sim.set_fault("mexc_futures", "ip_not_allowed", ip="198.51.100.8")
    report = run(sim, key, Market.FUTURES)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "198.51.100.8"


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_key_whitelisted_elsewhere_reports_the_callers_ip(sim, exchange):
    key = sim.new_key(exchange, ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, Market.SPOT)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "192.0.2.44"


def test_mexc_key_without_trade_permission_fails(sim):
    report = run(sim, sim.new_key("mexc", trade=False), Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    assert outcome(report, CheckName.CREDENTIALS) == Outcome.OK


def test_kucoin_key_without_futures_permission_fails_on_futures(sim):
    report = run(sim, sim.new_key("kucoin", futures=False), Market.FUTURES)
    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_revoked_key_fails_as_invalid_key(sim, exchange):
    key = sim.new_key(exchange)
    sim.remove_key(exchange, key.api_key)
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.INVALID_KEY


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_wrong_secret_fails_as_invalid_key(sim, exchange):
    key = sim.new_key(exchange)
    wrong = Credentials(key.api_key, "0" * len(key.secret), key.passphrase or "")
    client = (MexcClient if exchange == "mexc" else KucoinClient)(base_urls=sim.urls)
    report = client.run_checks(wrong, Market.SPOT)
    assert report.category == Category.INVALID_KEY
    assert wrong.api_secret not in report.message


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_frozen_account_fails_as_account_restricted(sim, exchange):
    key = sim.new_key(exchange)
    sim.set_fault(exchange, "account_frozen")
    report = run(sim, key, Market.SPOT)
    assert report.category == Category.ACCOUNT_RESTRICTED


# --- clock --------------------------------------------------------------------------------


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_client_signs_with_the_exchange_clock(sim, exchange):
    key = sim.new_key(exchange)
    sim.set_fault(exchange, "clock_skew", offset_ms=30_000)
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(30_000, abs=2_000)


# --- temporary problems: the client raises so the task can retry --------------------------


@pytest.mark.parametrize(
    ("exchange", "fault", "options"),
    [
        ("mexc", "maintenance", {}),
        ("kucoin", "maintenance", {}),
        ("mexc", "html_502", {}),
        ("kucoin", "html_502", {}),
        ("mexc", "reset", {}),
        ("kucoin", "malformed_json", {"path": "/api/v1/user/api-key"}),
        ("mexc", "truncated_json", {"path": "/api/v3/account"}),
        ("mexc", "ip_banned", {}),
        ("kucoin", "ip_banned", {}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, exchange, fault, options):
    key = sim.new_key(exchange)
    sim.set_fault(exchange, fault, **options)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_rate_limit_is_temporary_with_retry_after(sim, exchange):
    key = sim.new_key(exchange)
    sim.set_fault(exchange, "rate_limited", retry_after=2)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.retry_after == 2


def test_enforced_kucoin_quota_is_temporary_with_retry_after(sim):
    key = sim.new_key("kucoin")
    # One api-key call (weight 20) fits, the accounts call (5) of the same test does not.
    sim.set_rate_limit("kucoin", "management", limit=20)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 30
    assert sim.stats()["kucoin"]["rate_limited"] == 1


def test_timeout_is_temporary(sim):
    key = sim.new_key("kucoin")
    sim.set_fault("kucoin", "timeout", seconds=2, path="/api/v1/user/api-key")
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT, read_timeout=0.3)
    assert "timeout" in caught.value.message


def test_latency_shows_in_the_report(sim):
    sim.latency_ms = 50
    report = run(sim, sim.new_key("kucoin"), Market.SPOT)
    assert report.verdict == "online"
    assert all(ms >= 50 for ms in report.latencies_ms.values()), report.latencies_ms


def test_ip_ban_on_a_signed_call_is_temporary_whatever_its_wording(sim):
    # MEXC documents HTTP 418 + Retry-After for IP bans (exchanges.md §3.8) but not the body;
    # this one is Binance's wording, which MEXC's API otherwise mirrors.
    key = sim.new_key("mexc")
    sim.set_fault(
        "mexc",
        "ip_banned",
        path="/api/v3/account",
        body={"code": -1003, "msg": "Way too much request weight used; IP banned until 1."},
    )
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.retry_after == 120
