"""Bitget through the real client against the simulator: every scenario, spot and futures,
real HTTP and signatures verified by the simulator's own implementation."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connections.exchanges.base import (
    Category,
    CheckName,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.bitget import BitgetClient
from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator.bitget import bitget_prehash, bitget_request, bitget_signature
from tests.simulator_tests.conftest import check, credentials

MARKETS = [Market.SPOT, Market.FUTURES]


def run(sim: ExchangeSimulator, key: SimKey, market: Market, *, demo: bool = False, **changes):
    client = BitgetClient(base_urls=sim.urls, demo=demo)
    return client.run_checks(credentials(key, **changes), market)


def assert_failed(report, category: Category, name: CheckName, code: str) -> None:
    assert report.verdict == "failed", report.to_dict()
    assert report.category == category
    assert check(report, name) == (Outcome.FAILED, code)


def temporary(sim: ExchangeSimulator, key: SimKey, market: Market, **kwargs: Any):
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market, **kwargs)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message
    assert (key.passphrase or "") not in caught.value.message
    return caught.value


# --- the simulator's signing ----------------------------------------------------------------


def test_simulator_signing_reproduces_the_derived_vectors():
    # exchanges-more.md §4.2 (independent of the client's code).
    secret = "22582BD0CFF14C41EDBF1AB98506286D"
    prehash = bitget_prehash("1659076670000", "GET", "/api/v2/spot/account/info", "", "")
    assert bitget_signature(secret, prehash) == "CCNE83s8KA/q2dCuZ6P9qH9mABE94986ANHB2IcYx8w="
    prehash = bitget_prehash(
        "16273667805456", "GET", "/api/mix/v2/market/depth", "symbol=BTCUSDT&limit=20", ""
    )
    assert prehash == "16273667805456GET/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT"
    assert bitget_signature(secret, prehash) == "30l+qfOwyfwL90Ss/Wz2h2be1+vlW/DKH5rcFIsocEI="


def test_plain_signed_request_is_accepted(sim):
    key = sim.new_key("bitget")
    response = bitget_request(
        sim.urls["bitget"],
        "GET",
        "/api/v2/mix/account/accounts",
        key.api_key,
        key.secret,
        key.passphrase or "",
        {"productType": "USDT-FUTURES"},
    ).send()
    assert response.status_code == 200
    assert response.json()["data"][0]["marginCoin"] == "USDT"


# --- healthy keys -------------------------------------------------------------------------


def test_healthy_spot_key_is_online(sim):
    key = sim.new_key("bitget", ip_whitelist=["127.0.0.1"])
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert {c.name.value: (c.outcome.value, c.code) for c in report.checks} == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert report.raw_permissions == ["stow", "coow", "cpow"]
    assert {(r.path, r.status) for r in sim.requests} == {
        ("/api/v2/public/time", 200),
        ("/api/v2/spot/account/info", 200),
        ("/api/v2/spot/account/assets", 200),
    }


def test_healthy_futures_key_is_online(sim):
    key = sim.new_key("bitget", ip_whitelist=["127.0.0.1"])
    report = run(sim, key, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.OK, "futures_trade_enabled")
    assert check(report, CheckName.FUTURES_PERMISSION) == (Outcome.OK, "futures_enabled")
    assert check(report, CheckName.WITHDRAWAL) == (Outcome.OK, "withdrawal_disabled")
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert {r.path for r in sim.requests} == {
        "/api/v2/public/time",
        "/api/v2/spot/account/info",
        "/api/v2/mix/account/accounts",
    }


@pytest.mark.parametrize("market", MARKETS)
def test_coarse_permissions_leave_trading_and_withdrawal_unverified(sim, market):
    key = sim.new_key("bitget", coarse_authorities=True)
    report = run(sim, key, market)
    assert report.verdict == "online", report.to_dict()
    assert report.raw_permissions == ["trade", "readonly"]
    assert check(report, CheckName.TRADE_PERMISSION) == (
        Outcome.NOT_VERIFIABLE,
        "bitget_coarse_permissions",
    )
    assert check(report, CheckName.WITHDRAWAL) == (
        Outcome.NOT_VERIFIABLE,
        "bitget_coarse_permissions",
    )
    if market == Market.FUTURES:
        assert check(report, CheckName.FUTURES_PERMISSION) == (
            Outcome.OK,
            "futures_account_readable",
        )


def test_futures_only_key_without_spot_read_is_online_with_less_known(sim):
    key = sim.new_key("bitget", spot_read=False)
    report = run(sim, key, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.FUTURES_PERMISSION) == (Outcome.OK, "futures_account_readable")
    for name in (CheckName.TRADE_PERMISSION, CheckName.WITHDRAWAL, CheckName.IP_RESTRICTION):
        assert check(report, name) == (Outcome.NOT_VERIFIABLE, "key_info_refused")


def test_key_without_spot_read_fails_a_spot_connection(sim):
    key = sim.new_key("bitget", spot_read=False)
    report = run(sim, key, Market.SPOT)
    assert_failed(
        report, Category.NO_TRADE_PERMISSION, CheckName.BALANCES, "read_permission_missing"
    )


# --- permanent problems ---------------------------------------------------------------------


def test_key_without_trade_permission_fails_spot(sim):
    key = sim.new_key("bitget", trade=False)
    report = run(sim, key, Market.SPOT)
    assert_failed(
        report, Category.NO_TRADE_PERMISSION, CheckName.TRADE_PERMISSION, "trade_permission_missing"
    )
    assert check(report, CheckName.CREDENTIALS) == (Outcome.OK, "credentials_accepted")


def test_key_without_futures_permission_fails_futures(sim):
    key = sim.new_key("bitget", futures=False)
    report = run(sim, key, Market.FUTURES)
    assert_failed(
        report,
        Category.FUTURES_NOT_PERMITTED,
        CheckName.FUTURES_PERMISSION,
        "futures_permission_missing",
    )
    assert check(report, CheckName.BALANCES) == (Outcome.FAILED, "futures_account_unreadable")


def test_spot_only_key_is_fine_for_spot(sim):
    key = sim.new_key("bitget", futures=False)
    assert run(sim, key, Market.SPOT).verdict == "online"


@pytest.mark.parametrize("market", MARKETS)
def test_withdrawal_permission_fails_the_connection(sim, market):
    key = sim.new_key("bitget", withdrawal=True, ip_whitelist=["127.0.0.1"])
    report = run(sim, key, market)
    assert_failed(report, Category.WITHDRAWAL_ENABLED, CheckName.WITHDRAWAL, "withdrawal_enabled")
    assert "wwow" in report.raw_permissions


@pytest.mark.parametrize("market", MARKETS)
def test_no_ip_whitelist_is_a_warning(sim, market):
    report = run(sim, sim.new_key("bitget"), market)
    assert report.verdict == "online"
    assert check(report, CheckName.IP_RESTRICTION) == (Outcome.WARNING, "ip_not_set")
    assert report.ip_restricted is False


@pytest.mark.parametrize("market", MARKETS)
def test_key_whitelisted_elsewhere_fails_as_ip_not_allowed(sim, market):
    key = sim.new_key("bitget", ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, market)
    assert_failed(
        report, Category.IP_NOT_ALLOWED, CheckName.IP_RESTRICTION, "ip_not_whitelisted_unreported"
    )
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, "ip_not_allowed")
    # "40018 Invalid IP" names no address (caller IP in the text UNVERIFIED, §10.4).
    assert report.reported_ip is None
    assert report.ip_restricted is True


def test_ip_fault_fails_as_ip_not_allowed(sim):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "ip_not_allowed", ip="198.51.100.7")
    report = run(sim, key, Market.SPOT)
    assert_failed(report, Category.IP_NOT_ALLOWED, CheckName.CREDENTIALS, "ip_not_allowed")


def test_ip_error_naming_the_callers_ip_is_reported(sim):
    # Should Bitget name the address, the client shows it (hypothetical wording).
    key = sim.new_key("bitget")
    body = {"code": "40018", "msg": "Invalid IP, request ip: 198.51.100.7", "data": None}
    sim.set_fault("bitget", "ip_not_allowed", body=body)
    report = run(sim, key, Market.FUTURES)
    assert report.reported_ip == "198.51.100.7"


@pytest.mark.parametrize("market", MARKETS)
def test_frozen_account_fails_as_account_restricted(sim, market):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "account_frozen")
    report = run(sim, key, market)
    assert_failed(report, Category.ACCOUNT_RESTRICTED, CheckName.CREDENTIALS, "account_restricted")


def test_unified_trading_account_is_named(sim):
    key = sim.new_key("bitget", unified=True)
    report = run(sim, key, Market.SPOT)
    assert_failed(
        report, Category.ACCOUNT_RESTRICTED, CheckName.CREDENTIALS, "bitget_unified_account"
    )


@pytest.mark.parametrize("market", MARKETS)
def test_unknown_key_fails_as_invalid_key(sim, market):
    key = sim.new_key("bitget")
    sim.remove_key("bitget", key.api_key)
    report = run(sim, key, market)
    assert_failed(report, Category.INVALID_KEY, CheckName.CREDENTIALS, "invalid_key")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "40037"


@pytest.mark.parametrize("market", MARKETS)
def test_wrong_secret_fails_as_invalid_key(sim, market):
    key = sim.new_key("bitget")
    wrong = "0" * len(key.secret)
    report = run(sim, key, market, api_secret=wrong)
    assert_failed(report, Category.INVALID_KEY, CheckName.CREDENTIALS, "invalid_key")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "40009"
    assert wrong not in report.message


@pytest.mark.parametrize("market", MARKETS)
def test_wrong_passphrase_says_key_or_passphrase(sim, market):
    key = sim.new_key("bitget")
    report = run(sim, key, market, passphrase="not the passphrase")
    assert_failed(report, Category.INVALID_KEY, CheckName.CREDENTIALS, "bitget_key_or_passphrase")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "40012"


def test_signature_fault_fails_as_invalid_key(sim):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "invalid_signature")
    report = run(sim, key, Market.SPOT)
    assert_failed(report, Category.INVALID_KEY, CheckName.CREDENTIALS, "invalid_key")


def test_key_expiry_is_not_reported(sim):
    report = run(sim, sim.new_key("bitget", expires_at_ms=1), Market.SPOT)
    assert check(report, CheckName.KEY_EXPIRY) == (Outcome.NOT_VERIFIABLE, "not_reported")


# --- demo trading ---------------------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_demo_key_in_demo_mode_is_online(sim, market):
    key = sim.new_key("bitget", demo=True)
    report = run(sim, key, market, demo=True)
    assert report.verdict == "online", report.to_dict()


@pytest.mark.parametrize("market", MARKETS)
def test_demo_key_on_live_fails_as_environment_mismatch(sim, market):
    key = sim.new_key("bitget", demo=True)
    report = run(sim, key, market)
    assert_failed(
        report, Category.INVALID_KEY, CheckName.CREDENTIALS, "bitget_environment_mismatch"
    )


@pytest.mark.parametrize("market", MARKETS)
def test_live_key_in_demo_mode_fails_as_environment_mismatch(sim, market):
    key = sim.new_key("bitget")
    report = run(sim, key, market, demo=True)
    assert_failed(
        report, Category.INVALID_KEY, CheckName.CREDENTIALS, "bitget_environment_mismatch"
    )


# --- clock ------------------------------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_client_signs_with_the_exchange_clock(sim, market):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "clock_skew", offset_ms=45_000)  # beyond the 30 s window
    report = run(sim, key, market)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(45_000, abs=2_000)
    assert check(report, CheckName.REACHABLE) == (Outcome.WARNING, "clock_skew_high")


# --- temporary problems: the client raises so the task can retry ----------------------------


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("html_502", {}),
        ("reset", {}),
        ("ip_banned", {}),
        ("malformed_json", {"path": "/api/v2/spot/account/info"}),
        ("truncated_json", {"path": "/api/v2/mix/account/accounts"}),
    ],
)
@pytest.mark.parametrize("market", MARKETS)
def test_exchange_down_is_temporary(sim, market, fault, options):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", fault, **options)
    if fault == "truncated_json" and market == Market.SPOT:
        sim.set_fault("bitget", fault, path="/api/v2/spot/account/assets")
    temporary(sim, key, market)


def test_timeout_within_the_budget_is_temporary(sim):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "timeout", seconds=5)
    client = BitgetClient(base_urls=sim.urls, read_timeout=0.5, budget=2)
    with pytest.raises(TemporaryExchangeError):
        client.run_checks(credentials(key), Market.SPOT)


@pytest.mark.parametrize("market", MARKETS)
def test_maintenance_is_temporary(sim, market):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "maintenance", path="/api/v2/spot/account/info")
    error = temporary(sim, key, market)
    assert error.exchange_code == "40200"


@pytest.mark.parametrize("market", MARKETS)
def test_rate_limit_is_temporary_with_retry_after(sim, market):
    key = sim.new_key("bitget")
    sim.set_fault("bitget", "rate_limited", retry_after=4)
    error = temporary(sim, key, market)
    assert error.exchange_code == "429"
    assert error.retry_after == 4


def test_documented_key_info_limit_of_one_per_second(sim):
    # "Frequency limit: 1 time/1 s (User ID)" (§4.3): a second test within the second is told
    # to wait, through the simulator's own quota.
    key = sim.new_key("bitget")
    assert run(sim, key, Market.SPOT).verdict == "online"
    error = temporary(sim, key, Market.SPOT)
    assert error.retry_after is not None and 0 < error.retry_after <= 1


# --- public pair lists ------------------------------------------------------------------------


def test_spot_pairs_are_the_online_symbols(sim):
    # NEWCOIN is gray, OLDCOIN offline, HALTED halted.
    assert fetch_symbols("bitget", "spot", sim.urls) == ("BTC/USDT", "ETH/BTC", "ETH/USDT")


def test_futures_pairs_are_the_normal_perpetuals(sim):
    # SOLUSDT is under maintenance; BTCUSDT_250926 is a dated (delivery) contract.
    assert fetch_symbols("bitget", "futures", sim.urls) == ("BTC/USDT", "ETH/USDT")
    paths = {(r.path, r.status) for r in sim.requests}
    assert ("/api/v2/mix/market/contracts", 200) in paths


def test_pair_list_error_answer_is_unavailable(sim):
    sim.set_fault("bitget", "maintenance", path="/api/v2/spot/public/symbols", status=200)
    with pytest.raises(SymbolListUnavailable, match="40200"):
        fetch_symbols("bitget", "spot", sim.urls)


def test_public_endpoints_need_no_key(sim):
    response = requests.get(f"{sim.urls['bitget']}/api/v2/public/time", timeout=5)
    assert response.json()["data"]["serverTime"].isdigit()
