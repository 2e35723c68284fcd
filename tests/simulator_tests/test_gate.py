"""Gate: every scenario through the real client against the simulator (real HTTP, real
signatures, Gate's own answers), for spot and USDT perpetual futures."""

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
from connections.exchanges.gate import GateClient
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator_tests.conftest import checks

SPOT, FUTURES = Market.SPOT, Market.FUTURES


def run(sim: ExchangeSimulator, key: SimKey, market: Market, **options: Any):
    client = GateClient(base_urls=sim.urls, **options)
    return client.run_checks(Credentials(key.api_key, key.secret), market)


# --- healthy ---------------------------------------------------------------------------------


def test_healthy_spot_key_is_online(sim):
    report = run(sim, sim.new_key("gate", ip_whitelist=["127.0.0.1"]), SPOT)
    assert report.verdict == "online", report.to_dict()
    assert checks(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("not_verifiable", "gate_no_withdrawal_flag"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert report.key_pairs == []
    assert {(r.path, r.status) for r in sim.requests} == {
        ("/api/v4/spot/time", 200),
        ("/api/v4/account/main_keys", 200),
        ("/api/v4/account/detail", 200),
        ("/api/v4/spot/accounts", 200),
    }


def test_healthy_futures_key_is_online(sim):
    report = run(sim, sim.new_key("gate", ip_whitelist=["127.0.0.1"]), FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert checks(report)["trade_permission"] == ("ok", "futures_trade_enabled")
    assert checks(report)["futures_permission"] == ("ok", "futures_enabled")
    assert checks(report)["balances"] == ("ok", "futures_balances_read")
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert {r.path for r in sim.requests} >= {"/api/v4/futures/usdt/accounts"}


def test_key_list_answered_as_one_object_is_read_too(sim):
    key = sim.new_key("gate", single_object=True, ip_whitelist=["127.0.0.1"])
    report = run(sim, key, SPOT)
    assert report.verdict == "online"
    assert checks(report)["trade_permission"] == ("ok", "spot_trade_enabled")


# --- permissions -----------------------------------------------------------------------------


def test_key_without_trade_fails_trading(sim):
    report = run(sim, sim.new_key("gate", trade=False), SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    assert checks(report)["trade_permission"] == ("failed", "trade_permission_missing")


def test_writable_wallet_fails_as_able_to_move_funds(sim):
    report = run(sim, sim.new_key("gate", withdrawal=True, ip_whitelist=["127.0.0.1"]), SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert checks(report)["withdrawal"] == ("failed", "gate_wallet_writable")
    assert "wallet" in report.raw_permissions


def test_read_only_wallet_is_not_taken_for_withdrawal_off(sim):
    key = sim.new_key(
        "gate",
        perms=[
            {"name": "account", "read_only": True},
            {"name": "spot", "read_only": False},
            {"name": "wallet", "read_only": True},
        ],
    )
    report = run(sim, key, SPOT)
    assert checks(report)["withdrawal"] == ("not_verifiable", "gate_no_withdrawal_flag")
    assert "wallet (read-only)" in report.raw_permissions


def test_no_ip_whitelist_is_a_warning_and_names_the_90_day_rule(sim):
    report = run(sim, sim.new_key("gate"), SPOT)
    assert report.verdict == "online"
    assert checks(report)["ip_restriction"] == ("warning", "ip_not_set")
    assert checks(report)["key_expiry"] == ("not_verifiable", "gate_unbound_expires_90d")


def test_futures_missing_fails_on_futures(sim):
    report = run(sim, sim.new_key("gate", futures=False), FUTURES)
    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert checks(report)["futures_permission"] == ("failed", "futures_permission_missing")
    assert checks(report)["balances"] == ("failed", "futures_account_unreadable")


def test_no_futures_account_yet_is_explained(sim):
    report = run(sim, sim.new_key("gate", futures_account=False), FUTURES)
    assert report.verdict == "failed"
    assert checks(report)["balances"] == ("failed", "gate_futures_account_missing")


def test_futures_key_without_account_permission_falls_back_to_balances(sim):
    key = sim.new_key("gate", account=False)
    report = run(sim, key, FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert checks(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "futures_balances_read"),
        "trade_permission": ("not_verifiable", "gate_account_permission_missing"),
        "futures_permission": ("ok", "futures_account_readable"),
        "withdrawal": ("not_verifiable", "gate_account_permission_missing"),
        "ip_restriction": ("not_verifiable", "gate_account_permission_missing"),
        "key_expiry": ("not_verifiable", "key_info_refused"),
    }
    assert "account permission" in report.message


def test_key_limited_to_pairs_is_reported(sim):
    key = sim.new_key("gate", currency_pairs=["BTC_USDT", "ETH_USDT"], ip_whitelist=["127.0.0.1"])
    report = run(sim, key, SPOT)
    assert report.verdict == "online"
    assert report.key_pairs == ["BTC/USDT", "ETH/USDT"]
    trade = report.check(CheckName.TRADE_PERMISSION)
    assert (trade.outcome, trade.code) == (Outcome.OK, "trade_limited_to_pairs")
    assert trade.params["pairs"] == "BTC/USDT, ETH/USDT"


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("market", [SPOT, FUTURES])
def test_ip_blocked_reports_the_callers_ip(sim, market):
    sim.caller_ip = "203.0.113.50"
    report = run(sim, sim.new_key("gate", ip_whitelist=["192.0.2.1"]), market)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "203.0.113.50"
    assert checks(report)["ip_restriction"] == ("failed", "ip_not_whitelisted")


def test_ip_fault_worded_as_gate_does(sim):
    sim.set_fault("gate", "ip_not_allowed", ip="198.51.100.23")
    report = run(sim, sim.new_key("gate"), SPOT)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "198.51.100.23"


def test_ip_refusal_labelled_forbidden_is_an_ip_refusal(sim):
    body = {"label": "FORBIDDEN", "message": "Request IP not in whitelist: 198.51.100.9"}
    sim.set_fault("gate", "ip_not_allowed", body=body, status=403)
    report = run(sim, sim.new_key("gate"), SPOT)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "198.51.100.9"


def test_frozen_account_fails_as_restricted(sim):
    sim.set_fault("gate", "account_frozen")
    report = run(sim, sim.new_key("gate"), FUTURES)
    assert report.category == Category.ACCOUNT_RESTRICTED
    assert checks(report)["credentials"][0] == "failed"


def test_unknown_key_says_to_create_an_apiv4_key(sim):
    key = sim.new_key("gate")
    sim.remove_key("gate", key.api_key)
    report = run(sim, key, SPOT)
    assert report.category == Category.INVALID_KEY
    assert checks(report)["credentials"] == ("failed", "gate_invalid_key")


def test_wrong_secret_fails_as_invalid_key(sim):
    key = sim.new_key("gate")
    client = GateClient(base_urls=sim.urls)
    report = client.run_checks(Credentials(key.api_key, "f" * 64), SPOT)
    assert report.category == Category.INVALID_KEY
    assert checks(report)["credentials"] == ("failed", "invalid_key")


# --- exchange side ---------------------------------------------------------------------------


def test_client_signs_with_the_exchange_clock(sim):
    sim.set_fault("gate", "clock_skew", offset_ms=120_000)
    report = run(sim, sim.new_key("gate"), SPOT)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(120_000, abs=2_000)
    assert checks(report)["reachable"] == ("warning", "clock_skew_high")


@pytest.mark.parametrize(
    "fault, options",
    [
        ("maintenance", {}),
        ("html_502", {}),
        ("malformed_json", {"path": "/api/v4/account/main_keys"}),
        ("truncated_json", {"path": "/api/v4/spot/accounts"}),
        ("ip_banned", {}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, fault, options):
    sim.set_fault("gate", fault, **options)
    with pytest.raises(TemporaryExchangeError):
        run(sim, sim.new_key("gate"), SPOT)


def test_exchange_down_is_temporary(sim):
    sim.set_fault("gate", "reset")
    with pytest.raises(TemporaryExchangeError):
        run(sim, sim.new_key("gate"), FUTURES, read_timeout=2)


def test_rate_limit_is_temporary_with_retry_after(sim):
    sim.set_fault("gate", "rate_limited", retry_after=7, path="/api/v4/account/main_keys")
    with pytest.raises(TemporaryExchangeError) as info:
        run(sim, sim.new_key("gate"), SPOT)
    assert info.value.retry_after == 7


def test_enforced_quota_is_temporary_with_a_wait(sim):
    key = sim.new_key("gate")
    sim.set_rate_limit("gate", "account", limit=1)
    run(sim, key, SPOT)
    with pytest.raises(TemporaryExchangeError) as info:
        run(sim, key, SPOT)
    assert info.value.retry_after and info.value.retry_after > 0
    assert sim.stats()["gate"]["rate_limited"] >= 1


# --- public lists ----------------------------------------------------------------------------


def test_pairs_are_the_api_tradable_ones(sim):
    from connections.exchanges.symbols import fetch_symbols

    # Untradable, buy-only, delisting and suspended entries are left out.
    assert fetch_symbols("gate", "spot", sim.urls) == ("BTC/USDT", "ETH/USDT", "GT/USDT")
    assert fetch_symbols("gate", "futures", sim.urls) == ("BTC/USDT", "ETH/USDT")


def test_timeout_is_temporary(sim):
    sim.set_fault("gate", "timeout", seconds=2, path="/api/v4/account/main_keys")
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, sim.new_key("gate"), SPOT, read_timeout=0.3)
    assert "timeout" in caught.value.message
