"""Bitget: signing (the derived vectors and CCXT as an oracle), the documented answers and the
error table, against `responses` mocks of the documented endpoints."""

from __future__ import annotations

import ccxt
import pytest
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.bitget import (
    BitgetClient,
    classify,
    ip_entries,
    prehash,
    read_authorities,
    sign,
)
from connections.exchanges.http import Reply

from .conftest import NOW_MS, FakeClock, load, outcomes

HOST = "https://api.bitget.com"
INFO = f"{HOST}/api/v2/spot/account/info"
ASSETS = f"{HOST}/api/v2/spot/account/assets"
MIX = f"{HOST}/api/v2/mix/account/accounts?productType=USDT-FUTURES"

# Made up, distinctive so a leak into any output would be found by a substring search.
KEY = "bg_0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SECRET = "5ec2e7b1c0ffee00deadbeef0123456789abcdef0123456789abcdef01234567"
PASSPHRASE = "Bitget Pass-phrase 7"

# exchanges-more.md §4.2: the secret of OKX's docs example, used there only to make the
# derived vectors reproducible.
VECTOR_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(KEY, SECRET, PASSPHRASE)


def key_info(authorities=("stow", "coow", "cpow", "stor"), ips="203.0.113.10"):
    """The docs' example answer (§4.3) with the authorities and ips of the case at hand."""
    body = load("bitget_account_info")
    body["data"]["authorities"] = list(authorities)
    if ips is None:
        del body["data"]["ips"]
    else:
        body["data"]["ips"] = ips
    return body


def server_time(rsps, ms=NOW_MS):
    body = load("bitget_time")  # shape from the docs, time set to the fake clock's
    body["data"]["serverTime"] = str(ms)
    rsps.add(responses.GET, f"{HOST}/api/v2/public/time", json=body)


def bitget(
    rsps,
    *,
    futures=False,
    info=None,
    info_status=200,
    balances=None,
    balances_status=200,
    headers=None,
):
    server_time(rsps)
    rsps.add(
        responses.GET,
        INFO,
        json=key_info() if info is None else info,
        status=info_status,
        headers=headers,
    )
    if futures:
        body = load("bitget_mix_accounts") if balances is None else balances
        rsps.add(responses.GET, MIX, json=body, status=balances_status)
    else:
        body = load("bitget_assets") if balances is None else balances
        rsps.add(responses.GET, ASSETS, json=body, status=balances_status)


def run(credentials, market=Market.SPOT, **kwargs):
    return BitgetClient(clock=FakeClock(), **kwargs).run_checks(credentials, market)


def reply(body, status=400, headers=None, name="account_info") -> Reply:
    return Reply(name, status, headers or {}, "", body, True, 5, 0.0, 0.0)


# --- Signing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "path", "params", "expected"),
    [
        # exchanges-more.md §4.2, derived vectors [C] (the first cross-checked with CCXT there).
        (
            1659076670000,
            "/api/v2/spot/account/info",
            {},
            "CCNE83s8KA/q2dCuZ6P9qH9mABE94986ANHB2IcYx8w=",
        ),
        (
            1659076670000,
            "/api/v2/mix/account/accounts",
            {"productType": "USDT-FUTURES"},
            "8Xg7i7P1JWjcInEwtCQp6i5RAFHFo3KrOtn9UlG9hd4=",
        ),
        # The docs' own pre-hash example, its query given unsorted: the signature sorts it.
        (
            16273667805456,
            "/api/mix/v2/market/depth",
            {"symbol": "BTCUSDT", "limit": "20"},
            "30l+qfOwyfwL90Ss/Wz2h2be1+vlW/DKH5rcFIsocEI=",
        ),
    ],
)
def test_derived_signing_vectors_reproduce(timestamp, path, params, expected):
    assert sign(VECTOR_SECRET, prehash(timestamp, "GET", path, params)) == expected


def test_prehash_is_the_docs_example_string():
    # bitget.com/api-doc/common/signature: "16273667805456GET/api/mix/v2/market/depth?limit=20
    # &symbol=BTCUSDT" — keys in ascending order, values not encoded.
    assert (
        prehash(
            16273667805456, "get", "/api/mix/v2/market/depth", {"symbol": "BTCUSDT", "limit": "20"}
        )
        == "16273667805456GET/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT"
    )
    assert prehash(1, "GET", "/p") == "1GET/p"


def oracle(path: str, api: str, params: dict, *, demo: bool = False) -> dict:
    """What CCXT's bitget.sign() produces for the same request at the fake clock's time."""
    exchange = ccxt.bitget({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    exchange.milliseconds = lambda: NOW_MS
    if demo:
        exchange.set_sandbox_mode(True)
    return exchange.sign(path, ["private", api], "GET", params)


# CCXT adds its broker code (X-CHANNEL-API-CODE, `ccxt:bitget.py` L11617), which is not ours
# to send. We also send what the docs' request examples show and CCXT leaves out on GET:
# `Content-Type: application/json` and `locale: en-US` (exchanges-more.md §4.2).
CCXT_ONLY = {"X-CHANNEL-API-CODE"}
OURS_ONLY = {"Content-Type": "application/json", "locale": "en-US"}


def sent_headers(call) -> dict[str, str]:
    wanted = {"ACCESS-KEY", "ACCESS-SIGN", "ACCESS-TIMESTAMP", "ACCESS-PASSPHRASE", "paptrading"}
    return {k: v for k, v in call.request.headers.items() if k in wanted or k in OURS_ONLY}


@pytest.mark.parametrize("market", [Market.SPOT, Market.FUTURES])
def test_signed_calls_equal_ccxts_sign(rsps, credentials, market):
    futures = market == Market.FUTURES
    bitget(rsps, futures=futures)

    assert run(credentials, market).verdict == "online"

    calls = {c.request.url: c for c in rsps.calls}
    expected = [oracle("v2/spot/account/info", "spot", {})]
    if futures:
        expected.append(oracle("v2/mix/account/accounts", "mix", {"productType": "USDT-FUTURES"}))
    for signed in expected:
        call = calls[signed["url"]]  # same URL, query included
        ccxt_headers = {k: v for k, v in signed["headers"].items() if k not in CCXT_ONLY}
        assert sent_headers(call) == {**ccxt_headers, **OURS_ONLY}
        assert "X-CHANNEL-API-CODE" not in call.request.headers
        assert not call.request.body


def test_demo_calls_carry_paptrading_as_ccxt_sandbox_does(rsps, credentials):
    bitget(rsps, futures=True)

    assert run(credentials, Market.FUTURES, demo=True).verdict == "online"

    by_path = {c.request.path_url: c for c in rsps.calls}
    # CCXT special-cases the public time call: no demo header there (`ccxt:bitget.py` sign()).
    assert "paptrading" not in {k.lower() for k in by_path["/api/v2/public/time"].request.headers}
    signed = oracle("v2/mix/account/accounts", "mix", {"productType": "USDT-FUTURES"}, demo=True)
    assert signed["headers"]["PAPTRADING"] == "1"
    call = by_path["/api/v2/mix/account/accounts?productType=USDT-FUTURES"]
    # Same host, same product type; header names are case-insensitive in HTTP.
    assert call.request.headers["paptrading"] == "1"
    assert call.request.headers["ACCESS-SIGN"] == signed["headers"]["ACCESS-SIGN"]
    assert by_path["/api/v2/spot/account/info"].request.headers["paptrading"] == "1"


def test_live_calls_never_carry_the_demo_header(rsps, credentials):
    bitget(rsps)

    run(credentials)

    for call in rsps.calls:
        assert "paptrading" not in {k.lower() for k in call.request.headers}


# --- The documented answers ---------------------------------------------------------------


def test_healthy_spot_key_with_fine_grained_codes(rsps, credentials):
    bitget(rsps)

    report = run(credentials)

    assert report.verdict == "online"
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
    # Frozen and locked count as locked; lower-case coin names upper-cased; zero rows dropped.
    assert report.balances == [
        {"asset": "USDT", "free": "105.25", "locked": "4.75"},
        {"asset": "BTC", "free": "0.0125", "locked": "0.001"},
    ]
    assert report.raw_permissions == ["stow", "coow", "cpow", "stor"]
    assert report.permissions == ["spot", "futures", "spot_read"]
    assert report.check(CheckName.IP_RESTRICTION).params == {"count": 1}
    assert set(report.latencies_ms) == {"time", "account_info", "assets"}


def test_healthy_futures_key_reads_the_usdt_m_account(rsps, credentials):
    bitget(rsps, futures=True, info=key_info(["stor", "coow", "cpow"]))

    report = run(credentials, Market.FUTURES)

    assert report.verdict == "online"
    assert outcomes(report)["trade_permission"] == ("ok", "futures_trade_enabled")
    assert outcomes(report)["futures_permission"] == ("ok", "futures_enabled")
    assert report.balances == [
        {"asset": "USDT", "equity": "13178.86110692", "available": "13168.86110692"}
    ]
    assert str(report.free_balance("USDT")) == "13168.86110692"


def test_the_docs_example_with_coarse_values_cannot_tell_trading_or_withdrawal(rsps, credentials):
    # The documented example answer as is: ["trade", "readonly"], ips "127.0.0.1".
    bitget(rsps, info=load("bitget_account_info"))

    report = run(credentials)

    assert report.verdict == "online"
    assert outcomes(report)["trade_permission"] == ("not_verifiable", "bitget_coarse_permissions")
    assert outcomes(report)["withdrawal"] == ("not_verifiable", "bitget_coarse_permissions")
    assert outcomes(report)["ip_restriction"] == ("ok", "ip_restricted")
    assert report.raw_permissions == ["trade", "readonly"]


def test_coarse_values_on_futures_rely_on_the_futures_account_answer(rsps, credentials):
    bitget(rsps, futures=True, info=load("bitget_account_info"))

    report = run(credentials, Market.FUTURES)

    assert outcomes(report)["futures_permission"] == ("ok", "futures_account_readable")
    assert outcomes(report)["trade_permission"] == ("not_verifiable", "bitget_coarse_permissions")


def test_read_only_coarse_key_cannot_trade(rsps, credentials):
    bitget(rsps, info=key_info(["readonly"]))

    report = run(credentials)

    assert report.category == Category.NO_TRADE_PERMISSION
    assert outcomes(report)["trade_permission"] == ("failed", "trade_permission_missing")
    assert outcomes(report)["withdrawal"] == ("ok", "withdrawal_disabled")


def test_withdrawal_code_fails_the_connection(rsps, credentials):
    bitget(rsps, info=key_info(["stow", "wwow"]))

    report = run(credentials)

    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert outcomes(report)["withdrawal"] == ("failed", "withdrawal_enabled")
    assert "wwow" in report.message


def test_wallet_transfer_is_not_withdrawal(rsps, credentials):
    bitget(rsps, info=key_info(["stow", "wtow"]))

    report = run(credentials)

    assert outcomes(report)["withdrawal"] == ("ok", "withdrawal_disabled")
    assert "transfer" in report.permissions


def test_spot_connection_without_spot_trade(rsps, credentials):
    bitget(rsps, info=key_info(["stor", "coow", "cpow"]))

    report = run(credentials)

    assert report.category == Category.NO_TRADE_PERMISSION
    assert outcomes(report)["trade_permission"] == ("failed", "trade_permission_missing")


def test_futures_connection_needs_futures_orders_not_only_holdings(rsps, credentials):
    bitget(rsps, futures=True, info=key_info(["stow", "coor", "cpow"]))

    report = run(credentials, Market.FUTURES)

    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert outcomes(report)["futures_permission"] == ("failed", "futures_permission_missing")


def test_unknown_codes_are_kept_and_grant_nothing():
    facts = read_authorities(["stow", "zzzw", "Trade"])
    assert facts.raw_permissions == ["stow", "zzzw", "Trade"]
    assert "zzzw" in facts.permissions
    assert (facts.spot_trade, facts.futures_trade, facts.withdraw) == (True, False, False)
    unknown = read_authorities(["zzzw"])
    assert (unknown.read, unknown.spot_trade, unknown.withdraw) == (None, None, None)


def test_coarse_withdraw_value_is_withdrawal():
    assert read_authorities(["trade", "withdraw"]).withdraw is True
    assert read_authorities(["trade", "readonly"]).withdraw is None


@pytest.mark.parametrize(
    ("ips", "expected"),
    [
        ("", []),
        ("127.0.0.1", ["127.0.0.1"]),
        ("203.0.113.10,203.0.113.11", ["203.0.113.10", "203.0.113.11"]),
        ("203.0.113.10, 203.0.113.11", ["203.0.113.10", "203.0.113.11"]),
        ("203.0.113.10 203.0.113.11;2001:db8::1", ["203.0.113.10", "203.0.113.11", "2001:db8::1"]),
        (["203.0.113.10"], ["203.0.113.10"]),
        (None, None),
    ],
)
def test_ip_whitelist_formats(ips, expected):
    assert ip_entries(ips) == expected


@pytest.mark.parametrize("ips", ["", None])
def test_no_ip_whitelist(rsps, credentials, ips):
    bitget(rsps, info=key_info(ips=ips))

    report = run(credentials)

    expected = ("warning", "ip_not_set") if ips == "" else ("not_verifiable", "not_reported")
    assert outcomes(report)["ip_restriction"] == expected


def test_key_info_refused_for_lack_of_spot_read_on_futures(rsps, credentials):
    # "SPOT read or SPOT read/write permission needed" (§4.3): a futures-only key.
    bitget(
        rsps,
        futures=True,
        info={"code": "40014", "msg": "Incorrect permissions", "data": None},
        info_status=400,
    )

    report = run(credentials, Market.FUTURES)

    assert report.verdict == "online"
    assert outcomes(report)["futures_permission"] == ("ok", "futures_account_readable")
    for name in ("trade_permission", "withdrawal", "ip_restriction"):
        assert outcomes(report)[name] == ("not_verifiable", "key_info_refused")


def test_futures_account_refused_is_a_futures_permission_problem(rsps, credentials):
    bitget(
        rsps,
        futures=True,
        info=key_info(["stow"]),
        balances={"code": "40014", "msg": "Incorrect permissions", "data": None},
        balances_status=400,
    )

    report = run(credentials, Market.FUTURES)

    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert outcomes(report)["balances"] == ("failed", "futures_account_unreadable")


# --- Errors ----------------------------------------------------------------------------------


# §4.6: code → category (and detail code where the category alone would mislead).
@pytest.mark.parametrize(
    ("code", "message", "category", "detail"),
    [
        ("40001", "ACCESS_KEY cannot be empty", Category.INVALID_KEY, "invalid_key"),
        ("40006", "Invalid ACCESS_KEY", Category.INVALID_KEY, "invalid_key"),
        ("40037", "Apikey does not exist", Category.INVALID_KEY, "invalid_key"),
        ("40011", "ACCESS_PASSPHRASE cannot be empty", Category.INVALID_KEY, "invalid_key"),
        ("40012", "apikey/password is incorrect", Category.INVALID_KEY, "bitget_key_or_passphrase"),
        ("40003", "Signature cannot be empty", Category.INVALID_KEY, "invalid_key"),
        ("40009", "sign signature error", Category.INVALID_KEY, "invalid_key"),
        ("40010", "sign signature error", Category.INVALID_KEY, "invalid_key"),
        ("40004", "Request timestamp expired", Category.CLOCK_SKEW, "clock_skew"),
        ("40005", "Invalid ACCESS_TIMESTAMP", Category.CLOCK_SKEW, "clock_skew"),
        ("40008", "Request timestamp expired", Category.CLOCK_SKEW, "clock_skew"),
        ("40018", "Invalid IP", Category.IP_NOT_ALLOWED, "ip_not_allowed"),
        ("40013", "User status is abnormal", Category.ACCOUNT_RESTRICTED, "account_restricted"),
        (
            "40016",
            "The user must bind the phone or Google",
            Category.ACCOUNT_RESTRICTED,
            "bitget_bind_phone_or_google",
        ),
        (
            "40099",
            "exchange environment is incorrect",
            Category.INVALID_KEY,
            "bitget_environment_mismatch",
        ),
        (
            "40085",
            "You are in Unified Account mode, and the Classic Account API is not supported",
            Category.ACCOUNT_RESTRICTED,
            "bitget_unified_account",
        ),
    ],
)
def test_error_codes_fail_the_credentials_check(rsps, credentials, code, message, category, detail):
    bitget(rsps, info={"code": code, "msg": message, "data": None}, info_status=400)

    report = run(credentials)

    assert report.verdict == "failed"
    assert report.category == category
    check = report.check(CheckName.CREDENTIALS)
    assert (check.outcome, check.category, check.code) == (Outcome.FAILED, category, detail)
    assert check.params["exchange_code"] == code
    assert report.message == f"{code} {message}"


def test_permission_refusal_is_a_futures_problem_on_the_futures_account():
    error = classify(reply({"code": "40014", "msg": "Incorrect permissions"}))
    assert error.category == Category.NO_TRADE_PERMISSION
    futures = classify(reply({"code": "40014", "msg": "x"}, name="mix_accounts"), futures_call=True)
    assert futures.category == Category.FUTURES_NOT_PERMITTED


def test_ip_error_without_an_ip_reports_none(rsps, credentials):
    bitget(rsps, info={"code": "40018", "msg": "Invalid IP", "data": None}, info_status=400)

    report = run(credentials)

    assert report.category == Category.IP_NOT_ALLOWED
    assert report.reported_ip is None
    assert report.ip_restricted is True
    assert outcomes(report)["ip_restriction"] == ("failed", "ip_not_whitelisted_unreported")


def test_caller_ip_in_an_ip_error_is_extracted():
    # Hypothetical wording: whether Bitget names the caller's IP is UNVERIFIED (§10.4).
    error = classify(reply({"code": "40018", "msg": "Invalid IP, request ip: 198.51.100.4"}))
    assert error.reported_ip == "198.51.100.4"


@pytest.mark.parametrize(
    ("code", "status"),
    [("429", 429), ("40200", 503), ("40015", 400), ("40604", 400), ("500", 500)],
)
def test_unavailable_codes_raise_temporary_errors(rsps, credentials, code, status):
    bitget(
        rsps,
        info={"code": code, "msg": "Too many requests", "data": None},
        info_status=status,
        headers={"Retry-After": "7"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run(credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE
    assert excinfo.value.exchange_code == code
    if code == "429":
        assert excinfo.value.retry_after == 7


def test_http_429_is_temporary_whatever_the_body_says():
    error = classify(reply({"code": "40013", "msg": "User status is abnormal"}, status=429))
    assert error.temporary and error.category == Category.EXCHANGE_UNAVAILABLE


def test_system_abnormal_body_from_ccxt_is_temporary():
    error = classify(reply(load("bitget_errors")["system_abnormal"]))
    assert error.temporary


def test_unknown_code_is_temporary():
    error = classify(reply(load("bitget_errors")["parameter"]))
    assert error.temporary and error.exchange_code == "40019"


def test_http_401_without_a_known_code_is_an_invalid_key():
    error = classify(reply({"code": "99999", "msg": "?"}, status=401))
    assert error.category == Category.INVALID_KEY and not error.temporary


def test_success_answers_say_message_or_msg():
    assert classify(reply({"code": "00000", "message": "success", "data": []}, status=200)) is None
    assert classify(reply({"code": "00000", "msg": "success", "data": []}, status=200)) is None


def test_temporary_fault_on_the_balance_call_raises(rsps, credentials):
    server_time(rsps)
    rsps.add(responses.GET, INFO, json=key_info())
    rsps.add(responses.GET, ASSETS, body="<html>502</html>", status=502)

    with pytest.raises(TemporaryExchangeError, match="HTML"):
        run(credentials)


def test_secret_and_passphrase_never_reach_the_report(rsps, credentials):
    echoed = f"apikey/password is incorrect: {PASSPHRASE} {SECRET}"
    bitget(rsps, info={"code": "40012", "msg": echoed, "data": None}, info_status=400)

    report = run(credentials)

    text = str(report.to_dict())
    assert PASSPHRASE not in text and SECRET not in text


def test_base_url_is_honoured_including_http_and_port(rsps, credentials):
    base = "http://127.0.0.1:9004"
    body = load("bitget_time")
    body["data"]["serverTime"] = str(NOW_MS)
    rsps.add(responses.GET, f"{base}/api/v2/public/time", json=body)
    rsps.add(responses.GET, f"{base}/api/v2/spot/account/info", json=key_info())
    rsps.add(responses.GET, f"{base}/api/v2/spot/account/assets", json=load("bitget_assets"))

    report = run(credentials, base_urls={"bitget": base, "kucoin": "http://ignored"})

    assert report.verdict == "online"


def test_every_detail_code_bitget_emits_has_a_text():
    from connections.exchanges.bitget import ERROR_DETAILS
    from connections.exchanges.problems import CHECK_DETAILS

    codes = set(ERROR_DETAILS.values()) | set(BitgetClient.not_verifiable.values())
    assert codes <= set(CHECK_DETAILS)
