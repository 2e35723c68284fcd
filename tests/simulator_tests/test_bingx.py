"""The BingX client against the simulated BingX: real HTTP, real signatures, BingX's answers.
Every scenario, for spot and futures."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
import requests

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.bingx import BingxClient, classify
from connections.exchanges.http import Reply
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator_tests.conftest import check

MARKETS = [Market.SPOT, Market.FUTURES]


def run(
    sim: ExchangeSimulator,
    key: SimKey,
    market: Market,
    *,
    secret: str | None = None,
    **options: Any,
):
    client = BingxClient(base_urls=sim.urls, **options)
    return client.run_checks(Credentials(key.api_key, secret or key.secret), market)


def paths(sim: ExchangeSimulator) -> set[tuple[str, str, int]]:
    return {(r.exchange, r.path, r.status) for r in sim.requests}


# --- healthy ------------------------------------------------------------------------------


def test_healthy_spot_key_is_online(sim):
    key = sim.new_key("bingx", ip_whitelist=["127.0.0.1"])
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert report.category is None
    assert check(report, CheckName.CREDENTIALS) == (Outcome.OK, "credentials_accepted")
    assert check(report, CheckName.BALANCES) == (Outcome.OK, "balances_read")
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.OK, "spot_trade_enabled")
    assert check(report, CheckName.FUTURES_PERMISSION) == (Outcome.SKIPPED, "not_futures_market")
    assert check(report, CheckName.WITHDRAWAL) == (Outcome.OK, "withdrawal_disabled")
    assert check(report, CheckName.IP_RESTRICTION) == (Outcome.OK, "ip_restricted")
    assert check(report, CheckName.KEY_EXPIRY) == (Outcome.NOT_VERIFIABLE, "not_reported")
    assert report.raw_permissions == [
        "Spot Trading (1)",
        "Read (2)",
        "Perpetual Futures Trading (3)",
    ]
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert paths(sim) == {
        ("bingx", "/openApi/swap/v2/server/time", 200),
        ("bingx", "/openApi/v1/account/apiPermissions", 200),
        ("bingx", "/openApi/spot/v1/account/balance", 200),
    }


def test_healthy_futures_key_is_online(sim):
    key = sim.new_key("bingx", ip_whitelist=["127.0.0.0/24"])
    report = run(sim, key, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.BALANCES) == (Outcome.OK, "futures_balances_read")
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.OK, "futures_trade_enabled")
    assert check(report, CheckName.FUTURES_PERMISSION) == (Outcome.OK, "futures_enabled")
    assert check(report, CheckName.WITHDRAWAL) == (Outcome.OK, "withdrawal_disabled")
    assert report.balances == [{"asset": "USDT", "equity": "1250.5", "available": "1250.5"}]
    assert ("bingx", "/openApi/swap/v3/user/balance", 200) in paths(sim)


# --- permissions --------------------------------------------------------------------------


def test_spot_key_without_trade_fails(sim):
    report = run(sim, sim.new_key("bingx", trade=False), Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.FAILED, "trade_permission_missing")
    assert check(report, CheckName.CREDENTIALS) == (Outcome.OK, "credentials_accepted")


def test_futures_key_without_spot_trade_is_online(sim):
    # A futures connection needs code 3 only.
    report = run(sim, sim.new_key("bingx", trade=False), Market.FUTURES)
    assert report.verdict == "online", report.to_dict()


def test_futures_missing_fails_as_futures_not_permitted(sim):
    report = run(sim, sim.new_key("bingx", futures=False), Market.FUTURES)
    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert check(report, CheckName.FUTURES_PERMISSION) == (
        Outcome.FAILED,
        "futures_permission_missing",
    )
    assert check(report, CheckName.TRADE_PERMISSION) == (
        Outcome.FAILED,
        "futures_permission_missing",
    )


def test_spot_key_without_futures_is_online_on_spot(sim):
    report = run(sim, sim.new_key("bingx", futures=False), Market.SPOT)
    assert report.verdict == "online"


@pytest.mark.parametrize("market", MARKETS)
def test_withdrawal_on_fails_as_withdrawal_enabled(sim, market):
    report = run(sim, sim.new_key("bingx", withdrawal=True), market)
    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert check(report, CheckName.WITHDRAWAL) == (Outcome.FAILED, "withdrawal_enabled")
    assert "Withdraw (5)" in report.raw_permissions
    assert "Withdraw (5)" in report.message


@pytest.mark.parametrize("market", MARKETS)
def test_transfer_permissions_are_not_withdrawal(sim, market):
    report = run(sim, sim.new_key("bingx", permissions=[4, 7]), market)
    assert report.verdict == "online", report.to_dict()
    assert {"universal_transfer", "sub_account_transfer"} <= set(report.permissions)


@pytest.mark.parametrize("market", MARKETS)
def test_no_ip_whitelist_is_a_warning(sim, market):
    report = run(sim, sim.new_key("bingx"), market)
    assert report.verdict == "online"
    assert check(report, CheckName.IP_RESTRICTION) == (Outcome.WARNING, "ip_not_set")
    assert report.ip_restricted is False


@pytest.mark.parametrize("market", MARKETS)
def test_key_without_read_fails_credentials(sim, market):
    report = run(sim, sim.new_key("bingx", read=False), market)
    assert report.verdict == "failed"
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, "read_permission_missing")


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_ip_blocked_fails_as_ip_not_allowed_without_an_ip(sim, market):
    # BingX's 100419 names no IP (§7.6): the report cannot show the caller's.
    key = sim.new_key("bingx", ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip is None
    assert check(report, CheckName.CREDENTIALS)[0] == Outcome.FAILED


@pytest.mark.parametrize("market", MARKETS)
def test_ip_fault_fails_as_ip_not_allowed(sim, market):
    key = sim.new_key("bingx")
    sim.set_fault("bingx", "ip_not_allowed")
    report = run(sim, key, market)
    assert report.category == Category.IP_NOT_ALLOWED


@pytest.mark.parametrize("market", MARKETS)
def test_frozen_account_fails_as_account_restricted(sim, market):
    key = sim.new_key("bingx")
    sim.set_fault("bingx", "account_frozen")
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.ACCOUNT_RESTRICTED


@pytest.mark.parametrize("market", MARKETS)
def test_unknown_key_fails_as_invalid_key(sim, market):
    key = sim.new_key("bingx")
    sim.remove_key("bingx", key.api_key)
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.INVALID_KEY
    assert "100413" in report.message


@pytest.mark.parametrize("market", MARKETS)
def test_wrong_secret_fails_as_invalid_key(sim, market):
    key = sim.new_key("bingx")
    wrong = "0" * len(key.secret)
    report = run(sim, key, market, secret=wrong)
    assert report.category == Category.INVALID_KEY
    assert "100001" in report.message
    assert wrong not in report.message and key.secret not in report.message


def test_signature_fault_fails_as_invalid_key(sim):
    key = sim.new_key("bingx")
    sim.set_fault("bingx", "invalid_signature")
    assert run(sim, key, Market.SPOT).category == Category.INVALID_KEY


# --- clock --------------------------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_client_signs_with_the_exchange_clock(sim, market):
    sim.set_fault("bingx", "clock_skew", offset_ms=30_000)
    report = run(sim, sim.new_key("bingx"), market)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(30_000, abs=2_000)


def test_timestamp_outside_the_window_is_refused_as_clock_skew(sim):
    # A request stamped 10 s late, signed by hand (an independent HMAC): BingX's 100421,
    # which the client reads as a clock problem.
    key = sim.new_key("bingx")
    query = f"recvWindow=5000&timestamp={int(time.time() * 1000) - 10_000}"
    signature = hmac.new(key.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    response = requests.get(
        f"{sim.urls['bingx']}/openApi/spot/v1/account/balance?{query}&signature={signature}",
        headers={"X-BX-APIKEY": key.api_key},
        timeout=5,
    )
    assert response.json()["code"] == 100421
    answer = Reply(
        "spot_balance",
        response.status_code,
        response.headers,
        response.text,
        response.json(),
        json_ok=True,
        latency_ms=1,
        sent_at=0.0,
        received_at=0.0,
    )
    assert classify(answer).category == Category.CLOCK_SKEW


# --- temporary ----------------------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("maintenance", {}),
        ("html_502", {}),
        ("reset", {}),
        ("ip_banned", {}),
        ("malformed_json", {"path": "/openApi/v1/account/apiPermissions"}),
        ("truncated_json", {"path": "/openApi/spot/v1/account/balance"}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, market, fault, options):
    key = sim.new_key("bingx")
    sim.set_fault("bingx", fault, **options)
    if fault == "truncated_json" and market == Market.FUTURES:
        sim.clear_faults("bingx")
        sim.set_fault("bingx", fault, path="/openApi/swap/v3/user/balance")
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message


@pytest.mark.parametrize("market", MARKETS)
def test_rate_limit_is_temporary_with_retry_after(sim, market):
    key = sim.new_key("bingx")
    sim.set_fault("bingx", "rate_limited", retry_after=2)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.retry_after == 2


def test_rate_limit_without_retry_after_uses_the_unblock_time(sim):
    # 100410 with HTTP 200 and no Retry-After header: the time in BingX's message is used.
    key = sim.new_key("bingx")
    sim.set_fault("bingx", "rate_limited", status=200, unblock_in=20)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert 15 <= caught.value.retry_after <= 20


def test_enforced_quota_is_temporary(sim):
    key = sim.new_key("bingx")
    sim.set_rate_limit("bingx", "account", limit=1, window_s=10)
    run(sim, key, Market.SPOT)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 10


# --- expiry -------------------------------------------------------------------------------


def test_expiry_is_not_reported(sim):
    # BingX reports no key expiry (§7.3): a soon-expiring key cannot be told apart.
    key = sim.new_key("bingx", expires_at_ms=int(time.time() * 1000) + 86_400_000)
    report = run(sim, key, Market.SPOT)
    assert check(report, CheckName.KEY_EXPIRY) == (Outcome.NOT_VERIFIABLE, "not_reported")


# --- demo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_demo_connection_talks_only_to_the_vst_host(sim, market):
    report = run(sim, sim.new_key("bingx"), market, demo=True)
    assert report.verdict == "online", report.to_dict()
    assert {r.exchange for r in sim.requests} == {"bingx_demo"}


def test_one_key_serves_live_and_demo(sim):
    # BingX has no separate demo keys: the account's key works on the VST host too, so "a
    # demo key on the live host" is no error case on BingX.
    key = sim.new_key("bingx", demo=True)
    assert run(sim, key, Market.FUTURES).verdict == "online"
    assert run(sim, key, Market.FUTURES, demo=True).verdict == "online"


# --- pairs --------------------------------------------------------------------------------


def get_json(url: str) -> Any:
    return requests.get(url, timeout=5).json()


def test_pairs_are_the_api_tradable_ones(sim):
    client = BingxClient(base_urls=sim.urls)
    assert client.pairs(get_json, Market.SPOT) == ["BTC/USDT", "ETH/USDT"]
    assert client.pairs(get_json, Market.FUTURES) == ["BTC/USDT", "ETH/USDT"]
    assert {r.path for r in sim.requests} == {
        "/openApi/spot/v1/common/symbols",
        "/openApi/swap/v2/quote/contracts",
    }
