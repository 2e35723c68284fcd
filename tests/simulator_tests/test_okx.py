"""The OKX client against the simulated OKX: every scenario, spot and futures, real HTTP and
real signatures."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connections.exchanges import problems
from connections.exchanges.base import (
    Category,
    CheckName,
    Market,
    TemporaryExchangeError,
)
from connections.exchanges.okx import OkxClient
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator.okx import okx_signature, parse_timestamp_ms
from tests.simulator_tests.conftest import check, checks, credentials

BOTH = [Market.SPOT, Market.FUTURES]


def run(sim: ExchangeSimulator, key: SimKey, market: Market, *, creds=None, **options: Any):
    client = OkxClient(base_urls=sim.urls, **options)
    return client.run_checks(creds or credentials(key), market)


# --- healthy --------------------------------------------------------------------------------


def test_healthy_spot_key(sim):
    key = sim.new_key("okx", ip_whitelist=["127.0.0.1"])

    report = run(sim, key, Market.SPOT)

    assert report.verdict == "online", report.to_dict()
    assert checks(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    assert report.raw_permissions == ["read_only", "trade"]
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert {(r.exchange, r.path, r.status) for r in sim.requests} == {
        ("okx", "/api/v5/public/time", 200),
        ("okx", "/api/v5/account/config", 200),
        ("okx", "/api/v5/account/balance", 200),
    }


def test_healthy_futures_key(sim):
    key = sim.new_key("okx", ip_whitelist=["127.0.0.1"], pos_mode="long_short_mode")

    report = run(sim, key, Market.FUTURES)

    assert report.verdict == "online", report.to_dict()
    assert check(report, CheckName.TRADE_PERMISSION) == ("ok", "futures_trade_enabled")
    assert check(report, CheckName.FUTURES_PERMISSION) == ("ok", "okx_futures_enabled")
    assert report.check(CheckName.FUTURES_PERMISSION).params == {
        "account_mode": "Futures mode",
        "position_mode": "long/short",
    }
    assert check(report, CheckName.BALANCES) == ("ok", "futures_balances_read")
    assert report.free_balance("USDT") == pytest.approx(1250.5)


@pytest.mark.parametrize(("level", "mode"), [(3, "Multi-currency margin"), (4, "Portfolio margin")])
def test_margin_modes_trade_swaps(sim, level, mode):
    key = sim.new_key("okx", acct_lv=level)

    report = run(sim, key, Market.FUTURES)

    assert check(report, CheckName.FUTURES_PERMISSION) == ("ok", "okx_futures_enabled")
    assert report.check(CheckName.FUTURES_PERMISSION).params == {
        "account_mode": mode,
        "position_mode": "net",
    }


# --- permanent problems ---------------------------------------------------------------------


@pytest.mark.parametrize("market", BOTH)
def test_key_without_trade(sim, market):
    report = run(sim, sim.new_key("okx", trade=False), market)

    assert report.verdict == "failed"
    expected = {
        Market.SPOT: (Category.NO_TRADE_PERMISSION, "trade_permission_missing"),
        Market.FUTURES: (Category.FUTURES_NOT_PERMITTED, "futures_permission_missing"),
    }[market]
    assert report.category == expected[0]
    assert check(report, CheckName.TRADE_PERMISSION) == ("failed", expected[1])
    assert check(report, CheckName.BALANCES)[0] == "ok"


@pytest.mark.parametrize("market", BOTH)
def test_key_with_withdrawal_is_refused(sim, market):
    report = run(sim, sim.new_key("okx", withdrawal=True), market)

    assert report.category == Category.WITHDRAWAL_ENABLED
    assert check(report, CheckName.WITHDRAWAL) == ("failed", "withdrawal_enabled")
    assert "withdraw" in report.raw_permissions


@pytest.mark.parametrize("market", BOTH)
def test_no_ip_whitelist_is_a_warning(sim, market):
    report = run(sim, sim.new_key("okx"), market)

    assert report.verdict == "online"
    assert check(report, CheckName.IP_RESTRICTION) == ("warning", "ip_not_set")
    assert report.ip_restricted is False


@pytest.mark.parametrize("market", BOTH)
def test_ip_blocked_reports_the_callers_ip(sim, market):
    key = sim.new_key("okx", ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"

    report = run(sim, key, market)

    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "192.0.2.44"
    assert check(report, CheckName.CREDENTIALS) == ("failed", "ip_not_allowed")
    assert check(report, CheckName.IP_RESTRICTION) == ("failed", "ip_not_whitelisted")
    assert report.check(CheckName.IP_RESTRICTION).params["reported_ip"] == "192.0.2.44"


def test_ip_fault_reports_the_ip(sim):
    key = sim.new_key("okx")
    sim.set_fault("okx", "ip_not_allowed", ip="198.51.100.7")

    report = run(sim, key, Market.SPOT)

    assert report.reported_ip == "198.51.100.7"


@pytest.mark.parametrize("market", BOTH)
def test_frozen_key(sim, market):
    key = sim.new_key("okx")
    sim.set_fault("okx", "account_frozen")

    report = run(sim, key, market)

    assert report.category == Category.ACCOUNT_RESTRICTED
    assert check(report, CheckName.CREDENTIALS) == ("failed", "key_frozen")


def test_futures_line_without_a_position_mode_names_the_account_mode_only(sim):
    key = sim.new_key("okx", pos_mode="")

    futures = run(sim, key, Market.FUTURES).check(CheckName.FUTURES_PERMISSION)

    assert (futures.outcome, futures.code) == ("ok", "okx_futures_enabled_account_mode")
    assert problems.check_detail(futures.code, futures.params) == (
        "enabled (account mode: Futures mode)"
    )


def test_spot_mode_account_fails_futures_with_the_reason(sim):
    key = sim.new_key("okx", futures=False)

    report = run(sim, key, Market.FUTURES)

    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert check(report, CheckName.FUTURES_PERMISSION) == ("failed", "okx_spot_mode_account")
    assert check(report, CheckName.TRADE_PERMISSION) == ("failed", "okx_spot_mode_account")
    assert report.check(CheckName.FUTURES_PERMISSION).params == {"account_mode": "Spot mode"}
    # In Spot mode availEq is "": the available amount falls back to availBal.
    assert report.free_balance("USDT") == pytest.approx(1250.5)


def test_spot_mode_account_is_fine_for_spot(sim):
    report = run(sim, sim.new_key("okx", futures=False), Market.SPOT)

    assert report.verdict == "online", report.to_dict()


@pytest.mark.parametrize("market", BOTH)
def test_unknown_key(sim, market):
    key = sim.new_key("okx")
    sim.remove_key("okx", key.api_key)

    report = run(sim, key, market)

    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "okx_key_not_found")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "50119"


@pytest.mark.parametrize("market", BOTH)
def test_wrong_secret(sim, market):
    key = sim.new_key("okx")
    wrong = credentials(key, api_secret="0" * len(key.secret))

    report = run(sim, key, market, creds=wrong)

    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "secret_wrong")
    assert wrong.api_secret not in report.message


@pytest.mark.parametrize("market", BOTH)
def test_wrong_passphrase(sim, market):
    key = sim.new_key("okx")
    wrong = credentials(key, passphrase=key.passphrase.upper())

    report = run(sim, key, market, creds=wrong)

    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "passphrase_wrong")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "50105"


def test_invalid_signature_fault(sim):
    key = sim.new_key("okx")
    sim.set_fault("okx", "invalid_signature")

    report = run(sim, key, Market.SPOT)

    assert check(report, CheckName.CREDENTIALS) == ("failed", "secret_wrong")


# --- demo trading -----------------------------------------------------------------------------


@pytest.mark.parametrize("market", BOTH)
def test_demo_key_on_the_demo_host(sim, market):
    key = sim.new_key("okx", demo=True)

    report = run(sim, key, market, demo=True)

    assert report.verdict == "online", report.to_dict()
    assert {r.exchange for r in sim.requests} == {"okx_demo"}


@pytest.mark.parametrize("market", BOTH)
def test_demo_key_on_the_live_host(sim, market):
    key = sim.new_key("okx", demo=True)

    report = run(sim, key, market)

    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "demo_key_on_live")
    assert report.check(CheckName.CREDENTIALS).params["exchange_code"] == "50101"


@pytest.mark.parametrize("market", BOTH)
def test_live_key_on_the_demo_host(sim, market):
    key = sim.new_key("okx")

    report = run(sim, key, market, demo=True)

    assert report.category == Category.INVALID_KEY
    assert check(report, CheckName.CREDENTIALS) == ("failed", "live_key_on_demo")


def test_demo_request_without_the_header_is_refused(sim):
    # The simulated demo host, like OKX's docs, wants the header on every demo request.
    key = sim.new_key("okx", demo=True)
    client = OkxClient(base_urls=sim.urls, demo=True)
    client.demo_headers = {}

    report = client.run_checks(credentials(key), Market.SPOT)

    assert check(report, CheckName.CREDENTIALS) == ("failed", "live_key_on_demo")


# --- clock ----------------------------------------------------------------------------------


@pytest.mark.parametrize("market", BOTH)
def test_skew_beyond_okx_window_is_corrected(sim, market):
    # 45 s is beyond OKX's 30 s window (§2.2): the client signs with OKX's clock.
    sim.set_fault("okx", "clock_skew", offset_ms=45_000)

    report = run(sim, sim.new_key("okx"), market)

    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(45_000, abs=2_000)
    assert check(report, CheckName.REACHABLE) == ("warning", "clock_skew_high")


def test_uncorrected_clock_is_refused_as_skew(sim):
    key = sim.new_key("okx")
    sim.set_fault("okx", "clock_skew", offset_ms=45_000)
    timestamp = "2020-12-08T09:08:57.715Z"
    path = "/api/v5/account/config"
    headers = {
        "OK-ACCESS-KEY": key.api_key,
        "OK-ACCESS-SIGN": okx_signature(key.secret, f"{timestamp}GET{path}"),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": key.passphrase,
    }

    answer = requests.get(f"{sim.urls['okx']}{path}", headers=headers, timeout=5)

    assert answer.status_code == 401
    assert answer.json()["code"] == "50102"
    assert parse_timestamp_ms(timestamp) == 1607418537715


# --- temporary problems -----------------------------------------------------------------------


@pytest.mark.parametrize("market", BOTH)
@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("maintenance", {}),
        ("html_502", {}),
        ("reset", {}),
        ("malformed_json", {"path": "/api/v5/account/config"}),
        ("truncated_json", {"path": "/api/v5/account/balance"}),
        ("ip_banned", {"retry_after": 60}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, market, fault, options):
    key = sim.new_key("okx")
    sim.set_fault("okx", fault, **options)

    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)

    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message
    assert key.passphrase not in caught.value.message


def test_down_exchange_is_temporary(sim):
    key = sim.new_key("okx")
    sim.set_fault("okx", "timeout", seconds=2, path="/api/v5/account/config")

    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT, read_timeout=0.3)

    assert "timeout" in caught.value.message


def test_maintenance_answers_in_okx_words(sim):
    key = sim.new_key("okx")
    sim.set_fault("okx", "maintenance")

    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)

    assert "50001" in caught.value.message


@pytest.mark.parametrize("market", BOTH)
def test_rate_limit_is_temporary_without_retry_after(sim, market):
    # 50011 "Too Many Requests"; OKX documents no Retry-After (§2.6), so the task's own
    # backoff applies (a header from a gateway would be honoured: tests/exchanges/test_okx.py).
    key = sim.new_key("okx")
    sim.set_fault("okx", "rate_limited", retry_after=2)

    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)

    assert caught.value.exchange_code == "50011"
    assert caught.value.retry_after is None


def test_ip_ban_retry_after_is_honoured(sim):
    key = sim.new_key("okx")
    sim.set_fault("okx", "ip_banned", retry_after=60)

    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)

    assert caught.value.retry_after == 60


def test_enforced_config_quota_is_temporary(sim):
    # "Get account configuration": 5 requests per 2 s per User ID (§2.3); a longer window
    # keeps the test independent of the machine's speed.
    assert sim.rate_limit("okx", "config").limit == 5
    sim.set_rate_limit("okx", "config", window_s=60)
    key = sim.new_key("okx")
    for _ in range(5):
        assert run(sim, key, Market.SPOT).verdict == "online"

    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT)

    assert caught.value.exchange_code == "50011"
    assert sim.stats()["okx"]["rate_limited"] == 1
