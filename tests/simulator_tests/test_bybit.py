"""The Bybit client against the simulated Bybit (live and demo hosts): real HTTP, real
signatures, Bybit's own answers. Every scenario, spot and futures."""

from __future__ import annotations

import time
from typing import Any

import pytest

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    TemporaryExchangeError,
)
from connections.exchanges.bybit import BybitClient
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator_tests.conftest import check, checks, credentials

DAY_MS = 86_400_000
BOTH = pytest.mark.parametrize("market", [Market.SPOT, Market.FUTURES])


def run(sim: ExchangeSimulator, key: SimKey, market: Market, *, demo: bool = False, **options):
    client = BybitClient(base_urls=sim.urls, demo=demo, **options)
    return client.run_checks(credentials(key), market)


def bound_key(sim: ExchangeSimulator, **options: Any) -> SimKey:
    return sim.new_key("bybit", ip_whitelist=["127.0.0.1"], **options)


# --- healthy keys -------------------------------------------------------------------------


def test_healthy_ip_bound_spot_key_is_online_with_every_check_verified(sim):
    report = run(sim, bound_key(sim), Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert checks(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "bybit_account_mode"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("ok", "key_never_expires"),
    }
    assert report.check(CheckName.CREDENTIALS).params["mode"] == "Unified Trading Account 2.0"
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert "Spot:SpotTrade" in report.raw_permissions
    assert {(r.exchange, r.path, r.status) for r in sim.requests} == {
        ("bybit", "/v5/market/time", 200),
        ("bybit", "/v5/user/query-api", 200),
        ("bybit", "/v5/account/wallet-balance", 200),
        ("bybit", "/v5/account/info", 200),
    }


def test_healthy_futures_key_is_online_with_available_margin(sim):
    report = run(sim, bound_key(sim, balances={"USDT": ("900", "100")}), Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.TRADE_PERMISSION) == ("ok", "futures_trade_enabled")
    assert check(report, CheckName.FUTURES_PERMISSION) == ("ok", "futures_enabled")
    assert report.balances[0] == {"asset": "USDT", "equity": "1000", "available": "900"}
    assert report.free_balance("USDT") == pytest.approx(900)


def test_spot_balance_free_is_wallet_balance_minus_locked(sim):
    report = run(sim, bound_key(sim, balances={"USDT": ("70", "30")}), Market.SPOT)
    assert report.balances[0] == {"asset": "USDT", "free": "70", "locked": "30"}


def test_classic_account_is_named(sim):
    report = run(sim, bound_key(sim, account_mode=1), Market.SPOT)
    assert report.check(CheckName.CREDENTIALS).params["mode"] == "Classic Account"


# --- permissions ----------------------------------------------------------------------------


def test_key_without_spot_trade_fails_trading(sim):
    report = run(sim, bound_key(sim, trade=False), Market.SPOT)
    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    assert check(report, CheckName.TRADE_PERMISSION) == ("failed", "trade_permission_missing")
    assert check(report, CheckName.CREDENTIALS)[0] == "ok"


@BOTH
def test_read_only_key_fails_trading_and_says_why(sim, market):
    report = run(sim, bound_key(sim, read_only=True), market)
    assert report.verdict == "failed"
    assert check(report, CheckName.TRADE_PERMISSION) == ("failed", "bybit_read_only_key")


def test_key_without_contract_permission_fails_futures(sim):
    report = run(sim, bound_key(sim, futures=False), Market.FUTURES)
    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert check(report, CheckName.FUTURES_PERMISSION) == ("failed", "futures_permission_missing")
    # The unified wallet is still readable: the key itself is fine.
    assert check(report, CheckName.BALANCES)[0] == "ok"


@BOTH
def test_key_with_withdraw_is_refused(sim, market):
    report = run(sim, bound_key(sim, withdrawal=True), market)
    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert check(report, CheckName.WITHDRAWAL) == ("failed", "withdrawal_enabled")
    assert "Wallet:Withdraw" in report.raw_permissions


def test_transfers_between_own_accounts_pass_with_a_recommendation(sim):
    report = run(sim, bound_key(sim, transfer=True, sub_transfer=True), Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.WITHDRAWAL) == ("ok", "bybit_transfer_allowed")
    params = report.check(CheckName.WITHDRAWAL).params
    assert params["permissions"] == "AccountTransfer, SubMemberTransfer"


# --- IP binding and expiry ------------------------------------------------------------------


@BOTH
def test_unbound_key_warns_and_shows_its_90_day_expiry(sim, market):
    report = run(sim, sim.new_key("bybit"), market)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.IP_RESTRICTION) == ("warning", "ip_not_set")
    assert check(report, CheckName.KEY_EXPIRY) == ("ok", "key_expires_on")
    assert report.check(CheckName.KEY_EXPIRY).params["days"] in (88, 89)
    assert report.key_expires_at is not None


def test_unbound_key_expiring_within_14_days_is_a_warning(sim):
    key = sim.new_key("bybit", expires_at_ms=int(time.time() * 1000) + 5 * DAY_MS + 60_000)
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "online"
    assert check(report, CheckName.KEY_EXPIRY) == ("warning", "key_expires_soon")
    assert report.check(CheckName.KEY_EXPIRY).params["days"] == 5


@BOTH
def test_expired_key_fails_with_bybits_expiry_code(sim, market):
    key = sim.new_key("bybit", expires_at_ms=int(time.time() * 1000) - DAY_MS)
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "bybit_key_expired")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "33004"


@BOTH
def test_key_bound_to_other_ips_fails_without_inventing_our_ip(sim, market):
    key = sim.new_key("bybit", ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.IP_NOT_ALLOWED
    assert check(report, CheckName.CREDENTIALS) == ("failed", "ip_not_allowed")
    assert check(report, CheckName.IP_RESTRICTION) == ("failed", "ip_not_whitelisted_unreported")
    # 10010 names no IP: none is reported.
    assert report.reported_ip is None
    assert report.ip_restricted is True


def test_ip_fault_fails_as_ip_not_allowed(sim):
    key = bound_key(sim)
    sim.set_fault("bybit", "ip_not_allowed")
    report = run(sim, key, Market.SPOT)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "10010"


# --- keys that are wrong --------------------------------------------------------------------


@BOTH
def test_unknown_key_fails_naming_the_environment_mismatch(sim, market):
    key = bound_key(sim)
    sim.remove_key("bybit", key.api_key)
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "bybit_key_unknown")
    assert check(report, CheckName.BALANCES) == ("skipped", "not_run")


@BOTH
def test_wrong_secret_fails_as_invalid_key(sim, market):
    key = bound_key(sim)
    wrong = Credentials(key.api_key, "X" * len(key.secret), "")
    report = BybitClient(base_urls=sim.urls).run_checks(wrong, market)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "invalid_key")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "10004"
    assert wrong.api_secret not in report.message


def test_signature_fault_fails_as_invalid_key(sim):
    key = bound_key(sim)
    sim.set_fault("bybit", "invalid_signature")
    report = run(sim, key, Market.SPOT)
    assert report.category == Category.INVALID_KEY


@BOTH
def test_frozen_account_fails_as_account_restricted(sim, market):
    key = bound_key(sim)
    sim.set_fault("bybit", "account_frozen")
    report = run(sim, key, market)
    assert report.verdict == "failed"
    assert report.category == Category.ACCOUNT_RESTRICTED
    assert check(report, CheckName.CREDENTIALS) == ("failed", "account_restricted")


# --- demo trading ---------------------------------------------------------------------------


@BOTH
def test_demo_key_on_demo_host_is_online_with_what_demo_cannot_tell(sim, market):
    key = bound_key(sim, demo=True)
    report = run(sim, key, market, demo=True)
    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.CREDENTIALS) == ("ok", "bybit_account_mode")
    assert check(report, CheckName.BALANCES)[0] == "ok"
    reason = ("not_verifiable", "bybit_demo_no_key_info")
    assert check(report, CheckName.TRADE_PERMISSION) == reason
    assert check(report, CheckName.WITHDRAWAL) == reason
    assert check(report, CheckName.IP_RESTRICTION) == reason
    assert check(report, CheckName.KEY_EXPIRY) == reason
    # The unified wallet answers any key: it is not taken as proof of futures access.
    if market == Market.FUTURES:
        assert check(report, CheckName.FUTURES_PERMISSION) == reason
    # Only the demo host was asked, and never for query-api (demo trading has none).
    assert {r.exchange for r in sim.requests} == {"bybit_demo"}
    assert "/v5/user/query-api" not in {r.path for r in sim.requests}


@BOTH
def test_demo_key_on_live_host_fails_as_unknown_key(sim, market):
    report = run(sim, bound_key(sim, demo=True), market)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "bybit_key_unknown")


@BOTH
def test_live_key_on_demo_host_fails_as_unknown_key(sim, market):
    report = run(sim, bound_key(sim), market, demo=True)
    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "bybit_key_unknown")


# --- clock ----------------------------------------------------------------------------------


@BOTH
def test_client_signs_with_bybits_clock(sim, market):
    key = bound_key(sim)
    sim.set_fault("bybit", "clock_skew", offset_ms=30_000)
    report = run(sim, key, market)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(30_000, abs=2_000)
    assert check(report, CheckName.REACHABLE) == ("warning", "clock_skew_high")


# --- temporary problems: the client raises so the task can retry --------------------------


@BOTH
@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("maintenance", {}),
        ("html_502", {}),
        ("reset", {}),
        ("malformed_json", {"path": "/v5/user/query-api"}),
        ("truncated_json", {"path": "/v5/account/wallet-balance"}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, market, fault, options):
    key = bound_key(sim)
    sim.set_fault("bybit", fault, **options)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message


@BOTH
def test_rate_limit_is_temporary_with_the_reset_time(sim, market):
    key = bound_key(sim)
    sim.set_fault("bybit", "rate_limited", path="/v5/account/wallet-balance", retry_after=3)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.exchange_code == "10006"
    assert caught.value.retry_after == pytest.approx(3, abs=1)


def test_rate_limit_from_the_documented_quota(sim):
    # query-api allows 10 requests per second per UID (rate-limit.mdx).
    key = bound_key(sim)
    sim.set_rate_limit("bybit", "query_api", limit=1)
    run(sim, key, Market.SPOT)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.exchange_code == "10006"
    assert 0 < caught.value.retry_after <= 1.5


def test_ip_ban_is_temporary_for_ten_minutes(sim):
    key = bound_key(sim)
    sim.set_fault("bybit", "ip_banned")
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)
    assert caught.value.retry_after == 600


def test_timeout_is_temporary(sim):
    key = bound_key(sim)
    sim.set_fault("bybit", "timeout", seconds=2, path="/v5/account/wallet-balance")
    with pytest.raises(TemporaryExchangeError):
        run(sim, key, Market.SPOT, read_timeout=0.5)


def test_account_info_failure_does_not_fail_the_test(sim):
    key = bound_key(sim)
    sim.set_fault("bybit", "maintenance", path="/v5/account/info")
    report = run(sim, key, Market.SPOT)
    assert report.verdict == "online", report.to_dict()
    # query-api's `uta` flag still names the account type.
    assert report.check(CheckName.CREDENTIALS).params["mode"] == "Unified Trading Account"
