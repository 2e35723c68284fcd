"""KuCoin connection tests against `responses` mocks of the documented endpoints."""

from __future__ import annotations

import pytest
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.kucoin import KucoinClient

from .conftest import NOW_MS, FakeClock, load, outcomes

SPOT = "https://api.kucoin.com"
FUTURES = "https://api-futures.kucoin.com"


def key_info(permission: str = "General,Spot", whitelist: str | None = "203.**.154,103.**.34"):
    """The spec example (§2.4) with the permission and whitelist of the case at hand."""
    body = load("kucoin_api_key")
    body["data"]["permission"] = permission
    if whitelist is None:
        del body["data"]["ipWhitelist"]
    else:
        body["data"]["ipWhitelist"] = whitelist
    return body


def timestamps(rsps, *, futures=False, ms=NOW_MS):
    body = load("kucoin_timestamp")  # shape from the docs, time set to the fake clock's
    body["data"] = ms
    rsps.add(responses.GET, f"{SPOT}/api/v1/timestamp", json=body)
    if futures:
        rsps.add(responses.GET, f"{FUTURES}/api/v1/timestamp", json=body)


def kucoin_spot(rsps, *, api_key=None, api_key_status=200, accounts=None, headers=None):
    timestamps(rsps)
    rsps.add(
        responses.GET,
        f"{SPOT}/api/v1/user/api-key",
        json=key_info() if api_key is None else api_key,
        status=api_key_status,
        headers=headers,
    )
    rsps.add(
        responses.GET,
        f"{SPOT}/api/v1/accounts",
        json=load("kucoin_accounts") if accounts is None else accounts,
    )


def kucoin_futures(rsps, *, api_key=None, overview=None, overview_status=200):
    timestamps(rsps, futures=True)
    rsps.add(
        responses.GET,
        f"{SPOT}/api/v1/user/api-key",
        json=key_info("General,Futures") if api_key is None else api_key,
    )
    rsps.add(
        responses.GET,
        f"{FUTURES}/api/v1/account-overview?currency=USDT",
        json=load("kucoin_account_overview") if overview is None else overview,
        status=overview_status,
    )


def run(credentials, market=Market.SPOT, **kwargs):
    return KucoinClient(clock=FakeClock(), **kwargs).run_checks(credentials, market)


def test_healthy_spot_key_is_online(rsps, kucoin_credentials):
    kucoin_spot(rsps)

    report = run(kucoin_credentials)

    assert report.verdict == "online"
    assert report.category is None
    assert outcomes(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    # Zero balances dropped, USDT first.
    assert report.balances == [
        {"asset": "USDT", "free": "40.12618754", "locked": "0"},
        {"asset": "LTC", "free": "0.171021", "locked": "0"},
    ]
    assert str(report.free_balance("usdt")) == "40.12618754"
    assert report.free_balance("BTC") is None
    assert report.permissions == ["read", "spot"]
    assert report.raw_permissions == ["General", "Spot"]
    assert report.ip_restricted is True
    assert report.check(CheckName.IP_RESTRICTION).params == {"count": 2}
    assert report.key_expires_at is None
    assert report.clock_skew_ms == 0
    assert set(report.latencies_ms) == {"time", "api_key", "accounts"}
    assert sorted(c.request.path_url for c in rsps.calls) == [
        "/api/v1/accounts",
        "/api/v1/timestamp",
        "/api/v1/user/api-key",
    ]


def test_healthy_futures_key_is_online(rsps, kucoin_credentials):
    kucoin_futures(rsps)

    report = run(kucoin_credentials, Market.FUTURES)

    assert report.verdict == "online"
    assert outcomes(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "futures_balances_read"),
        "trade_permission": ("ok", "futures_trade_enabled"),
        "futures_permission": ("ok", "futures_enabled"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    assert report.balances == [
        {"asset": "USDT", "equity": "394.439280806", "available": "290.326799096"}
    ]
    assert str(report.free_balance("USDT")) == "290.326799096"
    assert report.permissions == ["read", "futures"]
    assert set(report.latencies_ms) == {"time", "futures_time", "api_key", "account_overview"}


def test_trade_hf_and_trade_accounts_are_summed(rsps, kucoin_credentials):
    accounts = load("kucoin_accounts")
    accounts["data"].append(
        {
            "id": "x1",
            "currency": "USDT",
            "type": "trade_hf",
            "balance": "10",
            "available": "9.5",
            "holds": "0.5",
        }
    )
    accounts["data"].append(
        {
            "id": "x2",
            "currency": "ETH",
            "type": "main",
            "balance": "3",
            "available": "3",
            "holds": "0",
        }
    )
    kucoin_spot(rsps, accounts=accounts)

    report = run(kucoin_credentials)

    assert report.balances[0] == {"asset": "USDT", "free": "49.62618754", "locked": "0.5"}
    assert "ETH" not in {row["asset"] for row in report.balances}  # funding account, not spot


def test_withdrawal_permission_fails_the_connection(rsps, kucoin_credentials):
    # The spec's own example key has Transfer (withdrawals) among its permissions.
    kucoin_spot(rsps, api_key=load("kucoin_api_key"))

    report = run(kucoin_credentials)

    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    withdrawal = report.check(CheckName.WITHDRAWAL)
    assert (withdrawal.outcome, withdrawal.code) == (Outcome.FAILED, "withdrawal_enabled")
    assert "withdraw" in report.permissions
    assert "Transfer" in report.raw_permissions
    assert "Transfer" in report.message


@pytest.mark.parametrize("whitelist", ["", None])
def test_no_ip_whitelist_is_a_warning(rsps, kucoin_credentials, whitelist):
    kucoin_spot(rsps, api_key=key_info("General,Spot", whitelist))

    report = run(kucoin_credentials)

    assert report.verdict == "online"
    ip_check = report.check(CheckName.IP_RESTRICTION)
    assert (ip_check.outcome, ip_check.code) == (Outcome.WARNING, "ip_not_set")
    assert report.ip_restricted is False


def test_futures_connection_without_futures_permission(rsps, kucoin_credentials):
    kucoin_futures(
        rsps,
        api_key=key_info("General,Spot"),
        overview=load("kucoin_errors")["no_permission"],
        overview_status=400,
    )

    report = run(kucoin_credentials, Market.FUTURES)

    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert report.check(CheckName.CREDENTIALS).outcome == Outcome.OK
    balances = report.check(CheckName.BALANCES)
    assert (balances.code, balances.category) == (
        "futures_account_unreadable",
        Category.FUTURES_NOT_PERMITTED,
    )
    trade = report.check(CheckName.TRADE_PERMISSION)
    assert (trade.outcome, trade.category) == (Outcome.FAILED, Category.FUTURES_NOT_PERMITTED)
    futures = report.check(CheckName.FUTURES_PERMISSION)
    assert (futures.outcome, futures.code) == (Outcome.FAILED, "futures_permission_missing")


def test_futures_connection_does_not_need_spot_permission(rsps, kucoin_credentials):
    kucoin_futures(rsps, api_key=key_info("General,Futures"))

    report = run(kucoin_credentials, Market.FUTURES)

    assert report.verdict == "online"
    assert "spot" not in report.permissions


def test_spot_connection_without_spot_permission(rsps, kucoin_credentials):
    kucoin_spot(rsps, api_key=key_info("General,Futures"))

    report = run(kucoin_credentials)

    assert report.category == Category.NO_TRADE_PERMISSION
    trade = report.check(CheckName.TRADE_PERMISSION)
    assert (trade.outcome, trade.code) == (Outcome.FAILED, "trade_permission_missing")


def test_legacy_trade_permission_counts_as_spot_trading(rsps, kucoin_credentials):
    kucoin_spot(rsps, api_key=key_info("General,Trade"))

    report = run(kucoin_credentials)

    assert report.check(CheckName.TRADE_PERMISSION).outcome == Outcome.OK


# Codes from exchanges.md §2.7 / §12, returned by the key-info call.
@pytest.mark.parametrize(
    ("code", "status", "category"),
    [
        ("400001", 400, Category.INVALID_KEY),
        ("400003", 401, Category.INVALID_KEY),
        ("400004", 401, Category.INVALID_KEY),
        ("400005", 401, Category.INVALID_KEY),
        ("400002", 401, Category.CLOCK_SKEW),
        ("400006", 403, Category.IP_NOT_ALLOWED),
        ("411100", 403, Category.ACCOUNT_RESTRICTED),
        ("400500", 403, Category.ACCOUNT_RESTRICTED),
    ],
)
def test_error_codes_fail_the_credentials_check(rsps, kucoin_credentials, code, status, category):
    kucoin_spot(rsps, api_key={"code": code, "msg": "refused"}, api_key_status=status)

    report = run(kucoin_credentials)

    assert report.verdict == "failed"
    assert report.category == category
    credentials = report.check(CheckName.CREDENTIALS)
    assert (credentials.outcome, credentials.category) == (Outcome.FAILED, category)
    assert credentials.params["exchange_code"] == code
    assert report.message == f"{code} refused"
    later = [c.outcome for c in report.checks[2:] if c.name != CheckName.IP_RESTRICTION]
    assert set(later) == {Outcome.SKIPPED}


@pytest.mark.parametrize("name", ["missing_header", "invalid_sign"])
def test_real_invalid_key_bodies(rsps, kucoin_credentials, name):
    kucoin_spot(rsps, api_key=load("kucoin_errors")[name], api_key_status=400)

    assert run(kucoin_credentials).category == Category.INVALID_KEY


def test_ip_error_body_from_the_wild(rsps, kucoin_credentials):
    kucoin_spot(rsps, api_key=load("kucoin_errors")["invalid_ip"], api_key_status=403)

    report = run(kucoin_credentials)

    assert report.category == Category.IP_NOT_ALLOWED
    assert report.ip_restricted is True
    assert report.reported_ip is None
    assert report.message == "400006 Invalid request ip"


def test_ip_in_a_kucoin_message_is_extracted(rsps, kucoin_credentials):
    # Hypothetical message text: KuCoin's wording with an IP is not documented.
    body = {"code": "400006", "msg": "Invalid request ip, the current clientIp is:198.51.100.4"}
    kucoin_spot(rsps, api_key=body, api_key_status=403)

    assert run(kucoin_credentials).reported_ip == "198.51.100.4"


def test_key_info_refused_for_lack_of_permission(rsps, kucoin_credentials):
    kucoin_spot(rsps, api_key=load("kucoin_errors")["no_permission"], api_key_status=400)

    report = run(kucoin_credentials)

    credentials = report.check(CheckName.CREDENTIALS)
    assert (credentials.outcome, credentials.code) == (Outcome.FAILED, "read_permission_missing")
    assert report.category == Category.NO_TRADE_PERMISSION


@pytest.mark.parametrize(
    ("code", "status"),
    [("429000", 429), ("200002", 429), ("1015", 429), ("500000", 500), ("503", 503)],
)
def test_unavailable_codes_raise_temporary_errors(rsps, kucoin_credentials, code, status):
    kucoin_spot(
        rsps,
        api_key={"code": code, "msg": "Too Many Requests"},
        api_key_status=status,
        headers={"Retry-After": "7"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run(kucoin_credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE
    assert excinfo.value.exchange_code == code
    assert excinfo.value.retry_after == 7


def test_kucoin_rate_limit_reset_header_is_a_retry_hint(rsps, kucoin_credentials):
    kucoin_spot(
        rsps,
        api_key={"code": "429000", "msg": "Too Many Requests"},
        api_key_status=429,
        headers={"gw-ratelimit-reset": "2500"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run(kucoin_credentials)

    assert excinfo.value.retry_after == 2.5


def test_temporary_fault_on_the_balance_call_raises(rsps, kucoin_credentials):
    timestamps(rsps)
    rsps.add(responses.GET, f"{SPOT}/api/v1/user/api-key", json=key_info())
    rsps.add(responses.GET, f"{SPOT}/api/v1/accounts", body="<html>502</html>", status=502)

    with pytest.raises(TemporaryExchangeError, match="HTML"):
        run(kucoin_credentials)


def test_base_urls_are_honoured_including_http_and_port(rsps, kucoin_credentials):
    spot, futures = "http://127.0.0.1:9001", "http://127.0.0.1:9002"
    body = load("kucoin_timestamp")
    body["data"] = NOW_MS
    rsps.add(responses.GET, f"{spot}/api/v1/timestamp", json=body)
    rsps.add(responses.GET, f"{futures}/api/v1/timestamp", json=body)
    rsps.add(responses.GET, f"{spot}/api/v1/user/api-key", json=key_info("General,Futures"))
    rsps.add(
        responses.GET,
        f"{futures}/api/v1/account-overview?currency=USDT",
        json=load("kucoin_account_overview"),
    )

    report = run(
        kucoin_credentials,
        Market.FUTURES,
        base_urls={"kucoin": spot, "kucoin_futures": futures, "mexc": "http://ignored"},
    )

    assert report.verdict == "online"
