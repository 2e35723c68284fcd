"""MEXC connection tests against `responses` mocks of the documented endpoints."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Market,
    Outcome,
    PermanentExchangeError,
    TemporaryExchangeError,
)
from connections.exchanges.mexc import MexcClient

from .conftest import NOW_MS, FakeClock, load, outcomes

SPOT = "https://api.mexc.com"
FUTURES = "https://contract.mexc.com"


def spot_time(rsps, base=SPOT, ms=NOW_MS):
    body = load("mexc_time")  # shape from the docs, time set to the fake clock's
    body["serverTime"] = ms
    rsps.add(responses.GET, f"{base}/api/v3/time", json=body)


def contract_ping(rsps, base=FUTURES, ms=NOW_MS):
    body = load("mexc_contract_ping")
    body["data"] = ms
    rsps.add(responses.GET, f"{base}/api/v1/contract/ping", json=body)


def mexc_spot(rsps, *, account=None, account_status=200, order=None, order_status=200):
    spot_time(rsps)
    rsps.add(
        responses.GET,
        f"{SPOT}/api/v3/account",
        json=load("mexc_account") if account is None else account,
        status=account_status,
    )
    rsps.add(
        responses.POST,
        f"{SPOT}/api/v3/order/test",
        json=load("mexc_order_test") if order is None else order,
        status=order_status,
    )


def mexc_futures(rsps, *, assets=None, status=200):
    spot_time(rsps)
    contract_ping(rsps)
    rsps.add(
        responses.GET,
        f"{FUTURES}/api/v1/private/account/assets",
        json=load("mexc_contract_assets") if assets is None else assets,
        status=status,
    )


def run(credentials, market=Market.SPOT, **kwargs):
    return MexcClient(clock=kwargs.pop("clock", FakeClock()), **kwargs).run_checks(
        credentials, market
    )


def test_healthy_spot_key_is_online(rsps, mexc_credentials):
    mexc_spot(rsps)

    report = run(mexc_credentials)

    assert report.verdict == "online"
    assert report.category is None
    assert outcomes(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "order_test_ok"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("not_verifiable", "mexc_cannot_tell"),
        "ip_restriction": ("not_verifiable", "mexc_unbound_expires_90d"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    assert [c.name for c in report.checks] == list(CheckName)
    assert report.balances == [
        {"asset": "MAIN", "free": "1020000", "locked": "0"},
        {"asset": "NBNTEST", "free": "1111078", "locked": "33"},
    ]
    assert report.check(CheckName.BALANCES).params == {"count": 2}
    assert report.permissions == ["read", "spot"]
    assert report.raw_permissions == []
    assert report.ip_restricted is None
    assert report.key_expires_at is None
    assert report.clock_skew_ms == 0
    assert report.check(CheckName.REACHABLE).params == {"skew_ms": 0}
    assert set(report.latencies_ms) == {"time", "account", "order_test"}
    assert report.started_at is not None and report.finished_at is not None
    assert report.message == ""
    # Exactly the documented calls; never a withdrawal or capital/* endpoint.
    assert sorted(urlsplit(c.request.url).path for c in rsps.calls) == [
        "/api/v3/account",
        "/api/v3/order/test",
        "/api/v3/time",
    ]


def test_healthy_futures_key_is_online_with_trading_not_verifiable(rsps, mexc_credentials):
    mexc_futures(rsps)

    report = run(mexc_credentials, Market.FUTURES)

    assert report.verdict == "online"
    assert outcomes(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "futures_balances_read"),
        "trade_permission": ("not_verifiable", "mexc_futures_api_orders_closed"),
        "futures_permission": ("ok", "futures_account_readable"),
        "withdrawal": ("not_verifiable", "mexc_cannot_tell"),
        "ip_restriction": ("not_verifiable", "mexc_unbound_expires_90d"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    # BTC is all zeros and dropped; JSON numbers become exact decimal strings.
    assert report.balances == [{"asset": "USDT", "equity": "0.03176562", "available": "0.03176562"}]
    assert str(report.free_balance("USDT")) == "0.03176562"
    assert report.permissions == ["read", "futures"]
    assert set(report.latencies_ms) == {"time", "futures_time", "futures_account"}
    # No spot signed call for a futures connection (a futures-only key may not read spot).
    assert not any("/api/v3/account" in c.request.url for c in rsps.calls)


def test_clock_skew_above_one_second_warns_but_stays_online(rsps, mexc_credentials):
    spot_time(rsps, ms=NOW_MS + 2_500)
    rsps.add(responses.GET, f"{SPOT}/api/v3/account", json=load("mexc_account"))
    rsps.add(responses.POST, f"{SPOT}/api/v3/order/test", json={})

    report = run(mexc_credentials)

    reachable = report.check(CheckName.REACHABLE)
    assert (reachable.outcome, reachable.code) == (Outcome.WARNING, "clock_skew_high")
    assert reachable.params == {"skew_ms": 2500}
    assert report.clock_skew_ms == 2500
    assert report.verdict == "online"


# Spot codes from exchanges.md §3.7 / §12, returned by the signed account read.
@pytest.mark.parametrize(
    ("code", "msg", "category"),
    [
        (700001, "API-key format invalid", Category.INVALID_KEY),
        (700002, "Signature for this request is not valid.", Category.INVALID_KEY),
        (602, "Signature verification failed", Category.INVALID_KEY),
        (10072, "invalid access key", Category.INVALID_KEY),
        (401, "No authority", Category.INVALID_KEY),
        (402, "api key expired", Category.INVALID_KEY),
        (400, "api key required", Category.INVALID_KEY),
        (700003, "Timestamp for this request is outside of the recvWindow", Category.CLOCK_SKEW),
        (700005, "recvWindow must less than 60000", Category.CLOCK_SKEW),
        (10073, "invalid Request-Time", Category.CLOCK_SKEW),
        (700006, "IP non white list", Category.IP_NOT_ALLOWED),
        (60005, "your account is abnormal", Category.ACCOUNT_RESTRICTED),
        (730100, "Unusual user status", Category.ACCOUNT_RESTRICTED),
        (30018, "market order is disabled", Category.ACCOUNT_RESTRICTED),
        (26, "operation not allowed", Category.ACCOUNT_RESTRICTED),
    ],
)
def test_spot_error_codes_fail_the_credentials_check(rsps, mexc_credentials, code, msg, category):
    mexc_spot(rsps, account={"code": code, "msg": msg}, account_status=400)

    report = run(mexc_credentials)

    assert report.verdict == "failed"
    assert report.category == category
    credentials = report.check(CheckName.CREDENTIALS)
    assert credentials.outcome == Outcome.FAILED
    assert credentials.category == category
    assert credentials.params["exchange_code"] == str(code)
    assert report.message == f"{code} {msg}"
    assert report.check(CheckName.BALANCES).outcome == Outcome.SKIPPED
    assert report.check(CheckName.TRADE_PERMISSION).outcome == Outcome.SKIPPED
    assert report.check(CheckName.REACHABLE).outcome == Outcome.OK


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (429, 429),
        (510, 429),
        (500, 500),
        (501, 500),
        (503, 503),
        (504, 504),
        (604, 200),
        (801, 200),
        (11444, 200),
    ],
)
def test_spot_unavailable_codes_raise_temporary_errors(rsps, mexc_credentials, code, status):
    mexc_spot(rsps, account={"code": code, "msg": "please try again"}, account_status=status)

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run(mexc_credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE
    assert excinfo.value.temporary is True
    assert excinfo.value.exchange_code == str(code)


def test_maintenance_body_raises_temporary_error(rsps, mexc_credentials):
    mexc_spot(rsps, account=load("mexc_errors")["maintenance"], account_status=503)

    with pytest.raises(TemporaryExchangeError, match="Under maintenance"):
        run(mexc_credentials)


def test_ip_error_reports_the_ip_mexc_saw(rsps, mexc_credentials):
    mexc_spot(rsps, account=load("mexc_errors")["ip_not_whitelisted"], account_status=400)

    report = run(mexc_credentials)

    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip == "203.0.113.77"
    assert report.ip_restricted is True
    assert report.message == "700006 IP [203.0.113.77] not in the whitelist"
    ip_check = report.check(CheckName.IP_RESTRICTION)
    assert (ip_check.outcome, ip_check.code) == (Outcome.FAILED, "ip_not_whitelisted")
    assert ip_check.params["reported_ip"] == "203.0.113.77"


def test_ip_error_without_an_ip_in_the_message(rsps, mexc_credentials):
    mexc_spot(rsps, account=load("mexc_errors")["ip_non_white_list"], account_status=400)

    report = run(mexc_credentials)

    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip is None


@pytest.mark.parametrize(
    ("code", "msg"),
    [
        (700007, "No permission to access the endpoint"),
        (30020, "no permission for the symbol"),
        (70011, "Pair user ban trade apikey"),
        (403, "Access Denied"),
    ],
)
def test_order_test_without_trade_permission_fails(rsps, mexc_credentials, code, msg):
    mexc_spot(rsps, order={"code": code, "msg": msg}, order_status=400)

    report = run(mexc_credentials)

    assert report.verdict == "failed"
    assert report.category == Category.NO_TRADE_PERMISSION
    trade = report.check(CheckName.TRADE_PERMISSION)
    assert (trade.outcome, trade.code) == (Outcome.FAILED, "trade_permission_missing")
    assert report.check(CheckName.CREDENTIALS).outcome == Outcome.OK
    assert report.check(CheckName.BALANCES).outcome == Outcome.OK
    assert report.permissions == ["read"]


@pytest.mark.parametrize(
    ("code", "msg"),
    [
        (30002, "The minimum transaction volume cannot be less than :"),
        (30004, "Insufficient position"),
        (10101, "Insufficient balance"),
        (30010, "no valid trade price"),
    ],
)
def test_order_rule_rejection_still_proves_trade_permission(rsps, mexc_credentials, code, msg):
    mexc_spot(rsps, order={"code": code, "msg": msg}, order_status=400)

    report = run(mexc_credentials)

    assert report.verdict == "online"
    trade = report.check(CheckName.TRADE_PERMISSION)
    assert (trade.outcome, trade.code) == (Outcome.OK, "order_test_validated")
    assert trade.params == {"exchange_code": str(code)}
    assert "spot" in report.permissions


def test_account_read_refused_but_key_genuine(rsps, mexc_credentials):
    mexc_spot(
        rsps,
        account={"code": 700007, "msg": "No permission to access the endpoint"},
        account_status=400,
    )

    report = run(mexc_credentials)

    assert report.check(CheckName.CREDENTIALS).outcome == Outcome.OK
    balances = report.check(CheckName.BALANCES)
    assert (balances.outcome, balances.code) == (Outcome.FAILED, "read_permission_missing")
    assert report.category == Category.NO_TRADE_PERMISSION


def test_unknown_code_with_neutral_message_is_temporary(rsps, mexc_credentials):
    mexc_spot(rsps, account={"code": 987654, "msg": "something odd"}, account_status=400)

    with pytest.raises(TemporaryExchangeError, match="unrecognised"):
        run(mexc_credentials)


def test_unknown_code_with_a_clear_auth_message_is_permanent(rsps, mexc_credentials):
    mexc_spot(rsps, account={"code": 987654, "msg": "Api key info invalid"}, account_status=400)

    report = run(mexc_credentials)

    assert report.category == Category.INVALID_KEY


def test_code_400_with_a_parameter_message_is_not_blamed_on_the_key(rsps, mexc_credentials):
    # Code 400 is "api key required" in the table, but MEXC also uses it for parameter errors.
    mexc_spot(rsps, order={"code": 400, "msg": "param error"}, order_status=400)

    with pytest.raises(TemporaryExchangeError):
        run(mexc_credentials)


# Futures codes from exchanges.md §3.7 / §12, returned by the contract account read.
@pytest.mark.parametrize(
    ("code", "category"),
    [
        (401, Category.INVALID_KEY),
        (402, Category.INVALID_KEY),
        (602, Category.INVALID_KEY),
        (1000, Category.INVALID_KEY),
        (406, Category.IP_NOT_ALLOWED),
        (513, Category.CLOCK_SKEW),
    ],
)
def test_futures_error_codes_fail_the_credentials_check(rsps, mexc_credentials, code, category):
    mexc_futures(rsps, assets={"success": False, "code": code, "message": "refused"}, status=200)

    report = run(mexc_credentials, Market.FUTURES)

    assert report.category == category
    assert report.check(CheckName.CREDENTIALS).outcome == Outcome.FAILED
    assert report.check(CheckName.FUTURES_PERMISSION).outcome == Outcome.SKIPPED


def test_futures_signature_body_from_the_wild(rsps, mexc_credentials):
    mexc_futures(rsps, assets=load("mexc_errors")["contract_signature"])

    report = run(mexc_credentials, Market.FUTURES)

    assert report.category == Category.INVALID_KEY
    assert report.message == "602 Signature verification failed!"


@pytest.mark.parametrize("code", [701, 702, 703, 704, 511])
def test_futures_permission_codes_mean_futures_not_permitted(rsps, mexc_credentials, code):
    mexc_futures(rsps, assets={"success": False, "code": code, "message": "permission required"})

    report = run(mexc_credentials, Market.FUTURES)

    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert report.check(CheckName.CREDENTIALS).outcome == Outcome.OK
    futures = report.check(CheckName.FUTURES_PERMISSION)
    assert (futures.outcome, futures.code) == (Outcome.FAILED, "futures_permission_missing")
    assert report.check(CheckName.BALANCES).category == Category.FUTURES_NOT_PERMITTED


@pytest.mark.parametrize("code", [500, 501, 510, 9999])
def test_futures_unavailable_codes_raise_temporary_errors(rsps, mexc_credentials, code):
    mexc_futures(rsps, assets={"success": False, "code": code, "message": "System busy"})

    with pytest.raises(TemporaryExchangeError):
        run(mexc_credentials, Market.FUTURES)


def test_futures_internal_error_envelope_from_the_docs(rsps, mexc_credentials):
    mexc_futures(rsps, assets=load("mexc_errors")["contract_internal"])

    with pytest.raises(TemporaryExchangeError, match="System internal error"):
        run(mexc_credentials, Market.FUTURES)


def test_base_urls_are_honoured_including_http_and_port(rsps, mexc_credentials):
    spot, futures = "http://127.0.0.1:8765", "http://127.0.0.1:8766/"
    spot_time(rsps, base=spot)
    contract_ping(rsps, base=futures.rstrip("/"))
    rsps.add(
        responses.GET,
        "http://127.0.0.1:8766/api/v1/private/account/assets",
        json=load("mexc_contract_assets"),
    )

    report = run(
        mexc_credentials, Market.FUTURES, base_urls={"mexc": spot, "mexc_futures": futures}
    )

    assert report.verdict == "online"
    assert {c.request.url.split("/api")[0] for c in rsps.calls} == {
        "http://127.0.0.1:8765",
        "http://127.0.0.1:8766",
    }


def test_public_endpoint_failure_is_temporary_whatever_it_says(rsps, mexc_credentials):
    rsps.add(responses.GET, f"{SPOT}/api/v3/time", json={"code": 700002, "msg": "odd"}, status=400)

    with pytest.raises(TemporaryExchangeError, match="public endpoint"):
        run(mexc_credentials)


def test_permanent_errors_are_reported_not_raised(rsps, mexc_credentials):
    mexc_spot(rsps, account=load("mexc_errors")["signature_invalid"], account_status=400)

    try:
        report = run(mexc_credentials)
    except PermanentExchangeError:  # pragma: no cover - the contract says report, not raise
        pytest.fail("a permanent problem must produce a failed report")
    assert report.verdict == "failed"
