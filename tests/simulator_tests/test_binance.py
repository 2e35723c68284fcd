"""The Binance client against the simulated Binance: real HTTP, real HMAC and Ed25519
signatures, Binance's own answers, every scenario for spot and futures."""

from __future__ import annotations

import time
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
from connections.exchanges.binance import BinanceClient
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator.binance import new_ed25519_key
from tests.simulator_tests.conftest import check

MARKETS = [Market.SPOT, Market.FUTURES]


def run(sim: ExchangeSimulator, key: SimKey, market: Market, *, demo: bool = False, **options):
    client = BinanceClient(base_urls=sim.urls, demo=demo, **options)
    return client.run_checks(Credentials(key.api_key, key.secret), market)


def hmac_key(sim: ExchangeSimulator, **options: Any) -> SimKey:
    return sim.new_key("binance", **options)


KEYS = {"hmac": hmac_key, "ed25519": new_ed25519_key}


def key_or_ip_code(market: Market) -> str:
    # A futures round also calls fapi, whose -2015 names the IP it saw (observed, §1.6).
    return "binance_key_or_ip_ip" if market == Market.FUTURES else "binance_key_or_ip"


# --- healthy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KEYS)
@pytest.mark.parametrize("market", MARKETS)
def test_healthy_key_is_online(sim, kind, market):
    key = KEYS[kind](sim, ip_whitelist=["127.0.0.1"])
    report = run(sim, key, market)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.CREDENTIALS) == (Outcome.OK, "credentials_accepted")
    assert check(report, CheckName.WITHDRAWAL) == (Outcome.OK, "withdrawal_disabled")
    assert check(report, CheckName.IP_RESTRICTION) == (Outcome.OK, "ip_restricted_unlisted")
    assert check(report, CheckName.KEY_EXPIRY) == (Outcome.NOT_VERIFIABLE, "not_reported")
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    paths = {(r.exchange, r.path, r.status) for r in sim.requests}
    if market == Market.SPOT:
        assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.OK, "spot_trade_enabled")
        assert check(report, CheckName.FUTURES_PERMISSION)[0] == Outcome.SKIPPED
        assert paths == {
            ("binance", "/api/v3/time", 200),
            ("binance", "/sapi/v1/account/apiRestrictions", 200),
            ("binance", "/api/v3/account", 200),
        }
    else:
        assert check(report, CheckName.FUTURES_PERMISSION) == (Outcome.OK, "futures_enabled")
        assert paths == {
            ("binance", "/api/v3/time", 200),
            ("binance_futures", "/fapi/v1/time", 200),
            ("binance", "/sapi/v1/account/apiRestrictions", 200),
            ("binance_futures", "/fapi/v3/balance", 200),
        }


@pytest.mark.parametrize("market", MARKETS)
def test_key_without_ip_whitelist_is_online_with_a_warning(sim, market):
    report = run(sim, hmac_key(sim), market)
    assert report.verdict == "online"
    assert check(report, CheckName.IP_RESTRICTION) == (Outcome.WARNING, "ip_not_set")
    assert report.ip_restricted is False


# --- permissions -----------------------------------------------------------------------------


def test_spot_key_without_trading_fails_on_trading(sim):
    report = run(sim, hmac_key(sim, trade=False), Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.FAILED, "trade_permission_missing")
    assert check(report, CheckName.BALANCES)[0] == Outcome.OK


def test_futures_key_without_trading_on_spot_is_still_online(sim):
    # A futures connection needs Enable Futures, not Spot & Margin Trading.
    report = run(sim, hmac_key(sim, trade=False), Market.FUTURES)
    assert report.verdict == "online", report.to_dict()


def test_futures_missing_says_a_key_older_than_the_futures_account_cannot_get_it(sim):
    report = run(sim, hmac_key(sim, futures=False), Market.FUTURES)
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert check(report, CheckName.FUTURES_PERMISSION) == (
        Outcome.FAILED,
        "binance_futures_disabled",
    )
    # The balance call's -2015 came after an accepted introspection: a permission, not the key.
    assert check(report, CheckName.CREDENTIALS) == (Outcome.OK, "credentials_accepted")
    assert check(report, CheckName.BALANCES) == (Outcome.FAILED, "futures_account_unreadable")


def test_portfolio_margin_account_is_detected_and_explained(sim):
    report = run(sim, hmac_key(sim, portfolio_margin=True), Market.FUTURES)
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert check(report, CheckName.FUTURES_PERMISSION) == (
        Outcome.FAILED,
        "binance_portfolio_margin",
    )
    assert check(report, CheckName.TRADE_PERMISSION)[0] == Outcome.FAILED


def test_portfolio_margin_spot_connection_is_unaffected(sim):
    report = run(sim, hmac_key(sim, portfolio_margin=True), Market.SPOT)
    assert report.verdict == "online"


@pytest.mark.parametrize("market", MARKETS)
def test_withdrawal_on_fails_and_leads_the_headline(sim, market):
    key = hmac_key(sim, withdrawal=True, ip_whitelist=["127.0.0.1"])
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert check(report, CheckName.WITHDRAWAL) == (Outcome.FAILED, "withdrawal_enabled")
    assert "enableWithdrawals" in report.raw_permissions


def test_legacy_trading_expiry_soon_is_a_warning(sim):
    expires = int(time.time() * 1000) + 5 * 86_400_000
    report = run(sim, hmac_key(sim, expires_at_ms=expires), Market.SPOT)
    assert report.verdict == "online"
    assert check(report, CheckName.KEY_EXPIRY) == (Outcome.WARNING, "key_expires_soon")


# --- the key, its secret, the IP -------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_unknown_key_cannot_be_told_from_a_wrong_ip(sim, market):
    key = hmac_key(sim)
    sim.remove_key("binance", key.api_key)
    report = run(sim, key, market)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, key_or_ip_code(market))


@pytest.mark.parametrize("kind", KEYS)
@pytest.mark.parametrize("market", MARKETS)
def test_wrong_secret_is_an_invalid_signature(sim, kind, market):
    key = KEYS[kind](sim)
    other = KEYS[kind](sim)
    report = BinanceClient(base_urls=sim.urls).run_checks(
        Credentials(key.api_key, other.secret), market
    )
    assert report.category == Category.INVALID_KEY
    result = report.check(CheckName.CREDENTIALS)
    assert result.params["exchange_code"] == "-1022"
    assert other.secret not in report.message


@pytest.mark.parametrize("market", MARKETS)
def test_ip_blocked_reports_the_ip_binance_saw(sim, market):
    key = hmac_key(sim)
    sim.set_fault("binance", "ip_not_allowed", ip="198.51.100.7")
    report = run(sim, key, market)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, "binance_key_or_ip_ip")
    assert report.reported_ip == "198.51.100.7"


def test_key_whitelisted_elsewhere_fails_as_key_or_ip(sim):
    key = hmac_key(sim, ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "failed"
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, "binance_key_or_ip")
    assert report.reported_ip is None  # the spot host did not say


def test_futures_key_whitelisted_elsewhere_shows_the_ip_fapi_reported(sim):
    # apiRestrictions answers the bare -2015; the fapi balance call of the same round appends
    # "request ip: x" (observed, §1.6): the report shows it.
    key = hmac_key(sim, ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, Market.FUTURES)
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, "binance_key_or_ip_ip")
    assert report.reported_ip == "192.0.2.44"


@pytest.mark.parametrize("market", MARKETS)
def test_frozen_account_is_restricted(sim, market):
    key = hmac_key(sim)
    sim.set_fault("binance", "account_frozen")
    report = run(sim, key, market)
    assert report.category == Category.ACCOUNT_RESTRICTED


# --- clock and temporary faults --------------------------------------------------------------


@pytest.mark.parametrize("market", MARKETS)
def test_client_signs_with_the_exchange_clock(sim, market):
    key = hmac_key(sim)
    sim.set_fault("binance", "clock_skew", offset_ms=30_000)
    report = run(sim, key, market)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(30_000, abs=2_000)
    assert check(report, CheckName.REACHABLE)[1] == "clock_skew_high"


@pytest.mark.parametrize("market", MARKETS)
@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("maintenance", {}),
        ("html_502", {}),
        ("reset", {}),
        ("malformed_json", {"path": "/sapi/v1/account/apiRestrictions"}),
        ("ip_banned", {}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, market, fault, options):
    key = hmac_key(sim)
    sim.set_fault("binance", fault, **options)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message


def test_futures_host_down_is_temporary(sim):
    key = hmac_key(sim)
    sim.set_fault("binance_futures", "html_502")
    with pytest.raises(TemporaryExchangeError):
        run(sim, key, Market.FUTURES)


@pytest.mark.parametrize("market", MARKETS)
def test_rate_limit_is_temporary_with_retry_after(sim, market):
    key = hmac_key(sim)
    sim.set_fault("binance", "rate_limited", retry_after=7)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.retry_after == 7
    assert caught.value.exchange_code == "-1003"


def test_simulated_weight_limit_answers_429_with_retry_after(sim):
    key = hmac_key(sim)
    sim.set_rate_limit("binance", "spot", limit=10)  # account weighs 20
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.retry_after and caught.value.retry_after > 0


# --- demo mode -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KEYS)
@pytest.mark.parametrize("market", MARKETS)
def test_demo_key_is_online_in_demo_mode_with_a_test_order(sim, kind, market):
    key = KEYS[kind](sim, demo=True)
    report = run(sim, key, market, demo=True)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.OK, "order_test_ok")
    for name in (CheckName.WITHDRAWAL, CheckName.IP_RESTRICTION):
        assert check(report, name) == (Outcome.NOT_VERIFIABLE, "binance_demo_no_key_info")
    roles = {r.exchange for r in sim.requests}
    assert roles <= {"binance_demo", "binance_futures_demo"}
    # Asked, answered 404 by the simulated demo host (the cautious reading of §10.1).
    assert ("binance_demo", "/sapi/v1/account/apiRestrictions", 404) in {
        (r.exchange, r.path, r.status) for r in sim.requests
    }


def test_demo_key_without_trading_fails_in_demo_mode(sim):
    report = run(sim, hmac_key(sim, demo=True, trade=False), Market.SPOT, demo=True)
    assert report.category == Category.NO_TRADE_PERMISSION
    assert check(report, CheckName.TRADE_PERMISSION) == (Outcome.FAILED, "trade_permission_missing")


def test_demo_key_without_futures_fails_in_demo_mode(sim):
    report = run(sim, hmac_key(sim, demo=True, futures=False), Market.FUTURES, demo=True)
    assert report.verdict == "failed"
    # Nothing else vouched for the key: Binance's -2015 cannot be told apart here.
    assert check(report, CheckName.CREDENTIALS) == (
        Outcome.FAILED,
        "binance_key_ip_or_permission",
    )


@pytest.mark.parametrize("market", MARKETS)
def test_demo_key_on_the_live_hosts_is_refused(sim, market):
    report = run(sim, hmac_key(sim, demo=True), market, demo=False)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == (Outcome.FAILED, key_or_ip_code(market))


@pytest.mark.parametrize("market", MARKETS)
def test_live_key_in_demo_mode_is_refused(sim, market):
    report = run(sim, hmac_key(sim), market, demo=True)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == (
        Outcome.FAILED,
        "binance_key_ip_or_permission",
    )


# --- public pairs ----------------------------------------------------------------------------


def test_pairs_from_the_simulated_exchange_info(sim):
    from connections.exchanges.symbols import fetch_symbols

    assert fetch_symbols("binance", "spot", sim.urls) == (
        "BTC/USDT",
        "ETH/BTC",
        "ETH/USDT",
        "SOL/USDT",
    )
    assert fetch_symbols("binance", "futures", sim.urls) == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
