"""The HTX client against the simulated HTX: real HTTP, Signature V2 verified on the Host header
the request arrived with, HTX's own answers. Every scenario, spot and futures."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    TemporaryExchangeError,
)
from connections.exchanges.htx import HtxClient
from connections.exchanges.symbols import fetch_symbols
from tests.simulator import ExchangeSimulator, SimKey
from tests.simulator.htx import htx_request, htx_signature
from tests.simulator_tests.conftest import checks, credentials

DAY_MS = 86_400_000


def run(sim: ExchangeSimulator, key: SimKey, market: Market, **options: Any):
    return HtxClient(base_urls=sim.urls, **options).run_checks(credentials(key), market)


BOTH = pytest.mark.parametrize("market", [Market.SPOT, Market.FUTURES])


# --- the simulator itself -----------------------------------------------------------------


def test_simulator_signature_is_the_official_sdk_vector():
    params = {
        "AccessKeyId": "123",
        "SignatureMethod": "HmacSHA256",
        "SignatureVersion": "2",
        "Timestamp": "123",
    }
    assert htx_signature("456", "GET", "host", "/url", params) == (
        "Hhiaq8xYQPiBZOyWV37MdQutLo4f0ZOHiJtG3p+nILc="
    )


def test_simulator_verifies_the_host_with_its_port(sim):
    key = sim.new_key("htx")
    good = htx_request(sim.urls["htx"], "GET", "/v2/user/uid", key.api_key, key.secret).send()
    assert good.json() == {"code": 200, "data": key.uid}
    # Signed for the exchange's host instead of the one called: refused like HTX would.
    bad = htx_request("https://api.huobi.pro", "GET", "/v2/user/uid", key.api_key, key.secret)
    bad.url = bad.url.replace("https://api.huobi.pro", sim.urls["htx"])
    body = bad.send().json()
    assert body["err-code"] == "api-signature-not-valid"
    assert "Verification failure [校验失败]" in body["err-msg"]


def test_public_endpoints(sim):
    spot = requests.get(sim.urls["htx"] + "/v1/common/timestamp", timeout=5).json()
    futures = requests.get(sim.urls["htx_futures"] + "/api/v1/timestamp", timeout=5).json()
    now = time.time() * 1000
    assert spot["status"] == "ok" and abs(spot["data"] - now) < 2000
    assert futures["status"] == "ok" and abs(futures["ts"] - now) < 2000


# --- healthy keys -------------------------------------------------------------------------


def test_healthy_spot_key_is_online(sim):
    key = sim.new_key("htx", ip_whitelist=["127.0.0.1"])
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
        "key_expiry": ("ok", "key_does_not_expire"),
    }
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert report.raw_permissions == ["readOnly", "trade"]
    assert {(r.exchange, r.path, r.status) for r in sim.requests} == {
        ("htx", "/v1/common/timestamp", 200),
        ("htx", "/v2/user/uid", 200),
        ("htx", "/v1/account/accounts", 200),
        ("htx", "/v2/user/api-key", 200),
        ("htx", f"/v1/account/accounts/{key.uid + 7_000_000}/balance", 200),
    }


def test_healthy_futures_key_is_online(sim):
    key = sim.new_key("htx", ip_whitelist=["127.0.0.1"])
    report = run(sim, key, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert checks(report)["balances"] == ("ok", "futures_balances_read")
    assert checks(report)["trade_permission"] == ("ok", "futures_trade_enabled")
    assert checks(report)["futures_permission"] == ("ok", "futures_enabled")
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    assert ("htx_futures", "/linear-swap-api/v1/swap_cross_account_info", 200) in {
        (r.exchange, r.path, r.status) for r in sim.requests
    }


# --- permissions and key facts ------------------------------------------------------------


@BOTH
def test_key_without_trade(sim, market):
    report = run(sim, sim.new_key("htx", trade=False), market)
    assert report.verdict == "failed"
    futures = market == Market.FUTURES
    category = Category.FUTURES_NOT_PERMITTED if futures else Category.NO_TRADE_PERMISSION
    assert report.category == category
    code = "futures_permission_missing" if futures else "trade_permission_missing"
    assert checks(report)["trade_permission"] == ("failed", code)
    assert checks(report)["credentials"] == ("ok", "credentials_accepted")


@BOTH
def test_withdrawal_on_fails_the_key(sim, market):
    report = run(sim, sim.new_key("htx", withdrawal=True), market)
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert checks(report)["withdrawal"] == ("failed", "withdrawal_enabled")
    assert "withdraw" in report.raw_permissions


@BOTH
def test_unbound_key_warns_and_counts_down_ninety_days(sim, market):
    report = run(sim, sim.new_key("htx"), market)
    assert report.verdict == "online"
    assert checks(report)["ip_restriction"] == ("warning", "ip_not_set")
    assert checks(report)["key_expiry"] == ("ok", "key_expires_on")
    assert report.check(CheckName.KEY_EXPIRY).params["days"] == 90
    assert report.ip_restricted is False


@BOTH
def test_key_expiring_soon_is_a_warning(sim, market):
    expires = int(time.time() * 1000) + 5 * DAY_MS + 3_600_000
    report = run(sim, sim.new_key("htx", expires_at_ms=expires), market)
    assert report.verdict == "online"
    assert checks(report)["key_expiry"] == ("warning", "key_expires_soon")
    assert report.check(CheckName.KEY_EXPIRY).params["days"] == 5
    assert report.key_expires_at is not None


def test_multi_assets_collateral_account_is_read_from_v5(sim):
    key = sim.new_key("htx", multi_assets=True)
    report = run(sim, key, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert report.free_balance("USDT") == pytest.approx(1250.5)
    paths = {r.path for r in sim.requests}
    assert "/v5/account/balance" in paths
    assert "/linear-swap-api/v1/swap_cross_account_info" not in paths


def test_multi_assets_account_without_futures_fails_futures(sim):
    key = sim.new_key("htx", multi_assets=True, futures=False)
    report = run(sim, key, Market.FUTURES)
    assert report.category == Category.FUTURES_NOT_PERMITTED


def test_futures_missing_fails_futures(sim):
    report = run(sim, sim.new_key("htx", futures=False), Market.FUTURES)
    assert report.category == Category.FUTURES_NOT_PERMITTED
    got = checks(report)
    assert got["balances"] == ("failed", "futures_account_unreadable")
    assert got["futures_permission"] == ("failed", "futures_permission_missing")
    assert report.check(CheckName.BALANCES).params["exchange_code"] == "1220"


def test_futures_missing_does_not_matter_for_spot(sim):
    report = run(sim, sim.new_key("htx", futures=False), Market.SPOT)
    assert report.verdict == "online"


@BOTH
def test_sub_user_key_that_may_not_introspect_is_not_an_invalid_key(sim, market):
    report = run(sim, sim.new_key("htx", sub_user=True), market)
    assert report.verdict == "online", report.to_dict()
    got = checks(report)
    assert got["credentials"] == ("ok", "credentials_accepted")
    assert got["balances"][0] == "ok"
    for name in ("withdrawal", "ip_restriction", "key_expiry"):
        assert got[name] == ("not_verifiable", "key_info_refused")
    assert got["trade_permission"][0] in {"not_verifiable", "ok"}
    assert "1002 forbidden" in report.message


def test_user_without_spot_account_cannot_show_balances(sim):
    report = run(sim, sim.new_key("htx", no_spot_account=True), Market.SPOT)
    assert checks(report)["balances"] == ("not_verifiable", "htx_no_spot_account")


# --- permanent refusals -------------------------------------------------------------------


@BOTH
def test_ip_fault_reports_the_callers_ip(sim, market):
    key = sim.new_key("htx")
    sim.set_fault("htx", "ip_not_allowed", ip="198.51.100.7")
    report = run(sim, key, market)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "198.51.100.7"
    assert checks(report)["ip_restriction"] == ("failed", "ip_not_whitelisted")


@BOTH
def test_key_whitelisted_elsewhere_reports_the_callers_ip(sim, market):
    key = sim.new_key("htx", ip_whitelist=["203.0.113.10"])
    sim.caller_ip = "192.0.2.44"
    report = run(sim, key, market)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "192.0.2.44"


def test_derivatives_ip_refusal_names_no_ip(sim):
    key = sim.new_key("htx")
    sim.set_fault("htx_futures", "ip_not_allowed")
    report = run(sim, key, Market.FUTURES)
    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip is None
    assert checks(report)["balances"][0] == "failed"


@BOTH
def test_frozen_account_is_restricted(sim, market):
    key = sim.new_key("htx")
    sim.set_fault("htx", "account_frozen")
    report = run(sim, key, market)
    assert report.category == Category.ACCOUNT_RESTRICTED


def test_frozen_derivatives_account_is_restricted(sim):
    key = sim.new_key("htx")
    sim.set_fault("htx_futures", "account_frozen")
    report = run(sim, key, Market.FUTURES)
    assert report.category == Category.ACCOUNT_RESTRICTED


@BOTH
def test_unknown_key_is_invalid(sim, market):
    key = sim.new_key("htx")
    sim.remove_key("htx", key.api_key)
    report = run(sim, key, market)
    assert report.category == Category.INVALID_KEY
    assert "Incorrect Access key" in report.message
    assert checks(report)["credentials"][0] == "failed"


@BOTH
def test_wrong_secret_is_invalid(sim, market):
    key = sim.new_key("htx")
    wrong = Credentials(key.api_key, "0" * len(key.secret))
    report = HtxClient(base_urls=sim.urls).run_checks(wrong, market)
    assert report.category == Category.INVALID_KEY
    assert "校验失败" in report.message
    assert wrong.api_secret not in report.message


def test_expired_key_is_invalid(sim):
    key = sim.new_key("htx", expires_at_ms=int(time.time() * 1000) - DAY_MS)
    report = run(sim, key, Market.SPOT)
    assert report.category == Category.INVALID_KEY


# --- clock --------------------------------------------------------------------------------


@BOTH
def test_client_signs_with_the_exchange_clock(sim, market):
    key = sim.new_key("htx")
    sim.set_fault("htx", "clock_skew", offset_ms=600_000)
    report = run(sim, key, market)
    assert report.verdict == "online", report.to_dict()
    assert report.clock_skew_ms == pytest.approx(600_000, abs=2_000)
    assert checks(report)["reachable"] == ("warning", "clock_skew_high")


# --- temporary problems -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "fault", "market", "options"),
    [
        ("htx", "maintenance", Market.SPOT, {}),
        ("htx_futures", "maintenance", Market.FUTURES, {}),
        ("htx", "html_502", Market.SPOT, {}),
        ("htx_futures", "html_502", Market.FUTURES, {}),
        ("htx", "reset", Market.SPOT, {}),
        ("htx", "malformed_json", Market.SPOT, {"path": "/v2/user/api-key"}),
        ("htx", "truncated_json", Market.SPOT, {"path": "/v2/user/uid"}),
        ("htx", "ip_banned", Market.SPOT, {}),
        ("htx_futures", "ip_banned", Market.FUTURES, {}),
    ],
)
def test_exchange_side_faults_are_temporary(sim, host, fault, market, options):
    key = sim.new_key("htx")
    sim.set_fault(host, fault, **options)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.category == Category.EXCHANGE_UNAVAILABLE
    assert key.secret not in caught.value.message


@pytest.mark.parametrize(
    ("host", "market"), [("htx", Market.SPOT), ("htx_futures", Market.FUTURES)]
)
def test_rate_limit_is_temporary_with_retry_after(sim, host, market):
    key = sim.new_key("htx")
    sim.set_fault(host, "rate_limited", retry_after=4)
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, market)
    assert caught.value.retry_after == 4


def test_enforced_derivatives_quota_is_temporary(sim):
    key = sim.new_key("htx")
    # One test makes two private derivatives calls (asset mode, account).
    sim.set_rate_limit("htx", "futures_private", limit=2)
    assert run(sim, key, Market.FUTURES).verdict == "online"
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.FUTURES)
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 3


def test_down_exchange_is_temporary(sim):
    key = sim.new_key("htx")
    sim.set_fault("htx", "timeout", seconds=2, path="/v2/user/api-key")
    with pytest.raises(TemporaryExchangeError) as caught:
        run(sim, key, Market.SPOT, read_timeout=0.3)
    assert "timeout" in caught.value.message


# --- pairs --------------------------------------------------------------------------------


def test_pairs_from_the_simulator(sim):
    assert fetch_symbols("htx", "spot", sim.urls) == ("BTC/USDT", "ETH/USDT")
    # SOL-USDT is suspended (contract_status 3); BTC-USDT-261225 is a dated future.
    assert fetch_symbols("htx", "futures", sim.urls) == ("BTC/USDT", "ETH/USDT")
