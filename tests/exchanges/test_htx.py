"""HTX: the signing vectors, ccxt as an oracle, the documented responses and the error table,
against `responses` mocks of the documented endpoints."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    Outcome,
    ReportBuilder,
    TemporaryExchangeError,
)
from connections.exchanges.flow import TestContext
from connections.exchanges.http import Reply, utc_now
from connections.exchanges.htx import (
    HtxClient,
    classify,
    presign_text,
    sign,
    signed_host,
    signed_query,
    timestamp_text,
)

from .conftest import NOW, NOW_MS, FakeClock, load, outcomes

SPOT = "https://api.huobi.pro"
FUTURES = "https://api.hbdm.com"

# The docs' placeholder key and secret (exchanges-more.md §6.2).
DOC_KEY = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"
DOC_SECRET = "b0xxxxxx-c6xxxxxx-94xxxxxx-dxxxx"
# The first key of the api-key docs example; the secret is ours, distinctive for leak checks.
KEY = "160bb889-b7XXXXbe-e0XXXXf5-ghxertfvbf"
SECRET = "5ec7e700-ab12cd34-ef56ab78-9c0de"
UID = 63628520
ACCOUNT_ID = 10000001


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(KEY, SECRET)


# --- signing ------------------------------------------------------------------------------


def test_official_sdk_vector_reproduces():
    # htx-sdk tests/test_api_signature.py: key "123", secret "456", GET http://host/url,
    # utc_now() mocked to "123" (exchanges-more.md §6.2).
    query = signed_query(Credentials("123", "456"), "GET", "host", "/url", timestamp="123")
    assert query == (
        "AccessKeyId=123&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=123"
        "&Signature=Hhiaq8xYQPiBZOyWV37MdQutLo4f0ZOHiJtG3p%2BnILc%3D"
    )


def test_docs_example_with_the_placeholder_secret_reproduces():
    # §6.2: the docs' order example signed with the placeholder secret.
    text = presign_text(
        "GET",
        "api.huobi.pro",
        "/v1/order/orders",
        {
            "AccessKeyId": DOC_KEY,
            "SignatureMethod": "HmacSHA256",
            "SignatureVersion": "2",
            "Timestamp": "2017-05-11T15:19:30",
            "order-id": "1234567890",
        },
    )
    assert sign(DOC_SECRET, text) == "Nmd8AU8uAe0mkFpxNbiava0aeZzBEtYjCdie1ZYZjoM="


def test_derived_introspection_vector_reproduces():
    params = {"uid": "123456", "accessKey": DOC_KEY}
    text = presign_text(
        "GET",
        "api.huobi.pro",
        "/v2/user/api-key",
        {
            **params,
            "AccessKeyId": DOC_KEY,
            "SignatureMethod": "HmacSHA256",
            "SignatureVersion": "2",
            "Timestamp": "2017-05-11T15:19:30",
        },
    )
    assert text == (
        "GET\napi.huobi.pro\n/v2/user/api-key\nAccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"
        "&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2017-05-11T15%3A19%3A30"
        "&accessKey=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&uid=123456"
    )
    assert sign(DOC_SECRET, text) == "0NDwpBUgoTpylbk9dcWgFGw2w/cxJ+MPc8fZPqnFfg0="


def test_timestamp_is_utc_seconds_without_zone():
    assert timestamp_text(1494515970000) == "2017-05-11T15:19:30"
    assert timestamp_text(1494515970999) == "2017-05-11T15:19:30"


@pytest.mark.parametrize(
    ("base", "host"),
    [
        ("https://api.huobi.pro", "api.huobi.pro"),
        ("https://api-aws.huobi.pro/", "api-aws.huobi.pro"),
        ("http://127.0.0.1:8904", "127.0.0.1:8904"),
        ("http://proxy.internal:8080/", "proxy.internal:8080"),
    ],
)
def test_the_signed_host_is_the_configured_one_with_its_port(base, host):
    assert signed_host(base) == host


# --- ccxt as an oracle --------------------------------------------------------------------


def _context(market: Market, client: HtxClient) -> TestContext:
    builder = ReportBuilder("htx", market, utc_now(client.clock))
    skews = {"time": 0, "futures_time": 0} if market == Market.FUTURES else {"time": 0}
    ctx = TestContext(client, None, builder, Credentials(DOC_KEY, DOC_SECRET), market, skews)  # type: ignore[arg-type]
    ctx.data.update({"uid": 123456, "account_id": ACCOUNT_ID})
    return ctx


def _ccxt(**hostnames):
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.htx({"apiKey": DOC_KEY, "secret": DOC_SECRET})
    exchange.nonce = lambda: NOW_MS  # ccxt's Timestamp is ymdhms(nonce())
    exchange.urls["hostnames"].update(hostnames)
    return exchange


def test_spot_private_gets_equal_ccxts_signed_requests():
    client = HtxClient(clock=FakeClock())
    plan = client.plan(_context(Market.SPOT, client))
    exchange = _ccxt()
    api_key = exchange.sign(
        "v2/user/api-key", ["spot", "private"], "GET", {"uid": "123456", "accessKey": DOC_KEY}
    )
    assert plan.key_info.url == api_key["url"]
    balance = exchange.sign(
        "v1/account/accounts/{account-id}/balance",
        ["spot", "private"],
        "GET",
        {"account-id": str(ACCOUNT_ID)},
    )
    assert plan.balances.url == balance["url"]
    assert plan.balances.body == "" and balance["body"] is None
    assert dict(parse_qsl(urlsplit(api_key["url"]).query))["Timestamp"] == timestamp_text(NOW_MS)


def test_swap_account_call_equals_ccxts_signed_request():
    # ccxt signs for api.hbdm.vn by default, the AWS host; HTX's docs list api.hbdm.com as
    # "Online" (htx-docs usdtm): the host is set to ours, the rest must be identical.
    client = HtxClient(clock=FakeClock())
    plan = client.plan(_context(Market.FUTURES, client))
    signed = _ccxt(contract="api.hbdm.com").sign(
        "linear-swap-api/v1/swap_cross_account_info",
        ["contract", "private"],
        "POST",
        {"margin_account": "USDT"},
    )
    assert plan.balances.method == signed["method"] == "POST"
    assert plan.balances.url == signed["url"]
    assert plan.balances.body == signed["body"] == '{"margin_account":"USDT"}'
    assert plan.balances.headers["Content-Type"] == signed["headers"]["Content-Type"]


def test_uid_call_equals_ccxts_signed_request():
    client = HtxClient(clock=FakeClock())
    ctx = _context(Market.SPOT, client)
    call = client._signed_call("uid", "htx", "GET", "/v2/user/uid", ctx, "time")
    assert call.url == _ccxt().sign("v2/user/uid", ["spot", "private"], "GET", {})["url"]


# --- the flow against mocks ---------------------------------------------------------------


def key_info(
    permission: str = "readOnly,trade", ips: str = "203.0.113.10", days: int = -1, **extra
):
    body = load("htx_api_key")
    row = body["data"][0]
    row.update(permission=permission, ipAddresses=ips, validDays=days, **extra)
    return body


def timestamps(rsps, *, futures=False):
    body = load("htx_timestamp")
    body["data"] = NOW_MS
    rsps.add(responses.GET, f"{SPOT}/v1/common/timestamp", json=body)
    if futures:
        body = load("htx_futures_timestamp")
        body["ts"] = NOW_MS
        rsps.add(responses.GET, f"{FUTURES}/api/v1/timestamp", json=body)


def htx(rsps, *, futures=False, api_key=None, balance=None, swap=None, uid=None, accounts=None):
    timestamps(rsps, futures=futures)
    rsps.add(responses.GET, f"{SPOT}/v2/user/uid", json=uid or load("htx_uid"))
    if not futures:
        rsps.add(
            responses.GET, f"{SPOT}/v1/account/accounts", json=accounts or load("htx_accounts")
        )
        rsps.add(
            responses.GET,
            f"{SPOT}/v1/account/accounts/{ACCOUNT_ID}/balance",
            json=balance or load("htx_balance"),
        )
    else:
        rsps.add(responses.GET, f"{FUTURES}/v5/account/asset_mode", json=load("htx_asset_mode"))
        rsps.add(
            responses.POST,
            f"{FUTURES}/linear-swap-api/v1/swap_cross_account_info",
            json=swap or load("htx_swap_cross_account"),
        )
    rsps.add(responses.GET, f"{SPOT}/v2/user/api-key", json=api_key or key_info())


def run(credentials, market=Market.SPOT, **kwargs):
    return HtxClient(clock=FakeClock(), **kwargs).run_checks(credentials, market)


def test_healthy_spot_key_is_online(rsps, credentials):
    htx(rsps)

    report = run(credentials)

    assert report.verdict == "online", report.to_dict()
    assert outcomes(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "withdrawal_disabled"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("ok", "key_does_not_expire"),
    }
    # trade = free, frozen = locked; zero rows dropped; USDT first.
    assert report.balances == [
        {"asset": "USDT", "free": "91.850043797676510303", "locked": "5"},
        {"asset": "BTC", "free": "0.000012", "locked": "0"},
    ]
    assert report.raw_permissions == ["readOnly", "trade"]
    assert report.permissions == ["read", "spot"]
    assert set(report.latencies_ms) == {"time", "uid", "accounts", "api_key", "balance"}
    key_call = next(c for c in rsps.calls if c.request.path_url.startswith("/v2/user/api-key"))
    query = dict(parse_qsl(urlsplit(key_call.request.url).query))
    assert query["uid"] == str(UID) and query["accessKey"] == KEY
    assert SECRET not in str(report.to_dict())


@pytest.mark.parametrize(
    ("market", "expected"),
    [
        (Market.SPOT, [["time", "uid", "accounts"], ["api_key", "balance"]]),
        (
            Market.FUTURES,
            [["time", "futures_time", "uid", "asset_mode"], ["api_key", "swap_account"]],
        ),
    ],
)
def test_the_time_calls_go_out_with_the_uid_so_a_test_is_two_rounds(
    rsps, credentials, rounds, market, expected
):
    # The uid must precede `GET /v2/user/api-key` (it names the key there, §6.3): two
    # dependent rounds, the server time riding along with the first.
    htx(rsps, futures=market == Market.FUTURES)

    report = run(credentials, market)

    assert report.verdict == "online", report.to_dict()
    assert rounds == expected


def test_healthy_futures_key_is_online(rsps, credentials):
    htx(rsps, futures=True)

    report = run(credentials, Market.FUTURES)

    assert report.verdict == "online", report.to_dict()
    assert outcomes(report)["balances"] == ("ok", "futures_balances_read")
    assert outcomes(report)["trade_permission"] == ("ok", "futures_trade_enabled")
    assert outcomes(report)["futures_permission"] == ("ok", "futures_enabled")
    assert report.balances == [{"asset": "USDT", "equity": "10000", "available": "9950.5"}]
    assert "futures" in report.permissions
    swap_call = next(c for c in rsps.calls if "swap_cross_account_info" in c.request.url)
    assert swap_call.request.body in (b'{"margin_account":"USDT"}', '{"margin_account":"USDT"}')


def test_multi_assets_collateral_mode_reads_the_v5_balance(rsps, credentials):
    timestamps(rsps, futures=True)
    rsps.add(responses.GET, f"{SPOT}/v2/user/uid", json=load("htx_uid"))
    mode = load("htx_asset_mode")
    mode["data"]["assets_mode"] = 1
    rsps.add(responses.GET, f"{FUTURES}/v5/account/asset_mode", json=mode)
    rsps.add(responses.GET, f"{FUTURES}/v5/account/balance", json=load("htx_v5_balance"))
    rsps.add(responses.GET, f"{SPOT}/v2/user/api-key", json=key_info())

    report = run(credentials, Market.FUTURES)

    assert report.verdict == "online", report.to_dict()
    assert report.balances == [
        {"asset": "USDT", "equity": "-0.0969198676", "available": "-0.0050448676"},
        {"asset": "BTC", "equity": "1", "available": "1"},
    ]
    assert not [c for c in rsps.calls if "swap_cross_account_info" in c.request.url]
    assert set(report.latencies_ms) == {
        "time",
        "futures_time",
        "uid",
        "asset_mode",
        "api_key",
        "swap_account",
    }


def test_asset_mode_failure_falls_back_to_the_cross_account(rsps, credentials):
    timestamps(rsps, futures=True)
    rsps.add(responses.GET, f"{SPOT}/v2/user/uid", json=load("htx_uid"))
    rsps.add(
        responses.GET,
        f"{FUTURES}/v5/account/asset_mode",
        json={
            "code": 4007,
            "msg": "Unified account special interface, non - one account is not available",
        },
    )
    rsps.add(
        responses.POST,
        f"{FUTURES}/linear-swap-api/v1/swap_cross_account_info",
        json=load("htx_swap_cross_account"),
    )
    rsps.add(responses.GET, f"{SPOT}/v2/user/api-key", json=key_info())

    report = run(credentials, Market.FUTURES)

    assert report.verdict == "online", report.to_dict()
    assert report.balances == [{"asset": "USDT", "equity": "10000", "available": "9950.5"}]


def test_docs_second_key_withdraw_and_seven_days_left(rsps):
    # The docs' second example key: withdraw permission, no IP, validDays 7.
    htx(rsps)
    report = run(Credentials("5000d371-edXXXXf5tf-40XXXX8b-ab8e5", SECRET))

    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    got = outcomes(report)
    assert got["withdrawal"] == ("failed", "withdrawal_enabled")
    assert got["ip_restriction"] == ("warning", "ip_not_set")
    assert got["key_expiry"] == ("warning", "key_expires_soon")
    assert report.key_expires_at == utc_now(lambda: NOW) + timedelta(days=7)
    assert report.check(CheckName.KEY_EXPIRY).params["days"] == 7


def test_unbound_key_shows_its_ninety_day_countdown(rsps, credentials):
    htx(rsps, api_key=key_info(ips="", days=90))

    report = run(credentials)

    assert outcomes(report)["key_expiry"] == ("ok", "key_expires_on")
    assert report.check(CheckName.KEY_EXPIRY).params["days"] == 90
    assert outcomes(report)["ip_restriction"] == ("warning", "ip_not_set")


def test_expired_status_fails_the_key(rsps, credentials):
    htx(rsps, api_key=key_info(days=0, status="expired"))

    report = run(credentials)

    assert outcomes(report)["key_expiry"] == ("failed", "key_expired")


def test_key_without_trade_fails_trading(rsps, credentials):
    htx(rsps, api_key=key_info("readOnly"))

    report = run(credentials)

    assert report.category == Category.NO_TRADE_PERMISSION
    assert outcomes(report)["trade_permission"] == ("failed", "trade_permission_missing")


def test_futures_account_not_opened_fails_futures(rsps, credentials):
    htx(rsps, futures=True, swap=load("htx_errors")["futures_not_opened"])

    report = run(credentials, Market.FUTURES)

    assert report.category == Category.FUTURES_NOT_PERMITTED
    got = outcomes(report)
    assert got["credentials"] == ("ok", "credentials_accepted")
    assert got["balances"] == ("failed", "futures_account_unreadable")
    assert got["trade_permission"] == ("failed", "futures_permission_missing")
    assert got["futures_permission"] == ("failed", "futures_permission_missing")


@pytest.mark.parametrize("refusal", ["v2_forbidden", "no_permission"])
def test_sub_user_key_refused_introspection_is_not_an_invalid_key(rsps, credentials, refusal):
    # The api-key endpoint is for parent users (htx-docs): the refusal leaves the facts unknown.
    htx(rsps, api_key=load("htx_errors")[refusal])

    report = run(credentials)

    assert report.verdict == "online", report.to_dict()
    got = outcomes(report)
    assert got["credentials"] == ("ok", "credentials_accepted")
    assert got["balances"] == ("ok", "balances_read")
    for name in ("trade_permission", "withdrawal", "ip_restriction", "key_expiry"):
        assert got[name] == ("not_verifiable", "key_info_refused"), name


def test_user_without_spot_account(rsps, credentials):
    accounts = load("htx_accounts")
    accounts["data"] = [row for row in accounts["data"] if row["type"] != "spot"]
    htx(rsps, accounts=accounts)

    report = run(credentials)

    assert outcomes(report)["balances"] == ("not_verifiable", "htx_no_spot_account")
    assert report.verdict == "online"


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("invalid_key", Category.INVALID_KEY),
        ("wrong_secret", Category.INVALID_KEY),
        ("ip", Category.IP_NOT_ALLOWED),
        ("clock", Category.CLOCK_SKEW),
        ("v2_unauthorized", Category.INVALID_KEY),
    ],
)
def test_uid_refusals_fail_the_credentials(rsps, credentials, name, category):
    timestamps(rsps)
    rsps.add(responses.GET, f"{SPOT}/v2/user/uid", json=load("htx_errors")[name])
    rsps.add(responses.GET, f"{SPOT}/v1/account/accounts", json=load("htx_accounts"))

    report = run(credentials)

    assert report.verdict == "failed"
    assert report.category == category
    assert report.check(CheckName.CREDENTIALS).outcome == Outcome.FAILED
    if name == "ip":
        assert report.reported_ip == "104.128.67.45"
        assert outcomes(report)["ip_restriction"] == ("failed", "ip_not_whitelisted")


def test_rate_limit_is_temporary_with_retry_after(rsps, credentials):
    timestamps(rsps)
    rsps.add(
        responses.GET,
        f"{SPOT}/v2/user/uid",
        json=load("htx_errors")["rate_limit"],
        status=429,
        headers={"Retry-After": "3"},
    )
    rsps.add(responses.GET, f"{SPOT}/v1/account/accounts", json=load("htx_accounts"))

    with pytest.raises(TemporaryExchangeError) as caught:
        run(credentials)
    assert caught.value.retry_after == 3
    assert caught.value.exchange_code == "base-request-exceed-frequency-limit"


def test_base_urls_are_honoured_and_signed_with_their_port(rsps, credentials):
    spot, futures = "http://127.0.0.1:9101", "http://127.0.0.1:9102"
    body = load("htx_timestamp")
    body["data"] = NOW_MS
    rsps.add(responses.GET, f"{spot}/v1/common/timestamp", json=body)
    body = load("htx_futures_timestamp")
    body["ts"] = NOW_MS
    rsps.add(responses.GET, f"{futures}/api/v1/timestamp", json=body)
    rsps.add(responses.GET, f"{spot}/v2/user/uid", json=load("htx_uid"))
    rsps.add(responses.GET, f"{futures}/v5/account/asset_mode", json=load("htx_asset_mode"))
    rsps.add(responses.GET, f"{spot}/v2/user/api-key", json=key_info())
    rsps.add(
        responses.POST,
        f"{futures}/linear-swap-api/v1/swap_cross_account_info",
        json=load("htx_swap_cross_account"),
    )

    report = run(credentials, Market.FUTURES, base_urls={"htx": spot, "htx_futures": futures})

    assert report.verdict == "online", report.to_dict()
    swap = next(c for c in rsps.calls if "swap_cross_account_info" in c.request.url)
    params = dict(parse_qsl(urlsplit(swap.request.url).query))
    text = presign_text(
        "POST",
        "127.0.0.1:9102",
        "/linear-swap-api/v1/swap_cross_account_info",
        {k: v for k, v in params.items() if k != "Signature"},
    )
    assert params["Signature"] == sign(SECRET, text)


# --- the error table ----------------------------------------------------------------------


def reply(body, *, status=200, name="api_key", headers=None) -> Reply:
    return Reply(name, status, headers or {}, "", body, True, 1, 0.0, 0.0)


@pytest.mark.parametrize(
    ("name", "call", "category", "temporary"),
    [
        ("invalid_key", "uid", Category.INVALID_KEY, False),
        ("wrong_secret", "uid", Category.INVALID_KEY, False),
        ("ip", "uid", Category.IP_NOT_ALLOWED, False),
        ("no_permission", "api_key", Category.NO_TRADE_PERMISSION, False),
        ("no_permission", "swap_account", Category.FUTURES_NOT_PERMITTED, False),
        ("clock", "uid", Category.CLOCK_SKEW, False),
        ("rate_limit", "uid", Category.EXCHANGE_UNAVAILABLE, True),
        ("rate_limit_2", "uid", Category.EXCHANGE_UNAVAILABLE, True),
        ("maintenance", "time", Category.EXCHANGE_UNAVAILABLE, True),
        ("gateway", "balance", Category.EXCHANGE_UNAVAILABLE, True),
        ("futures_invalid_key", "swap_account", Category.INVALID_KEY, False),
        ("futures_not_opened", "swap_account", Category.FUTURES_NOT_PERMITTED, False),
        ("futures_no_account", "swap_account", Category.FUTURES_NOT_PERMITTED, False),
        ("futures_busy", "swap_account", Category.EXCHANGE_UNAVAILABLE, True),
        ("v2_unauthorized", "uid", Category.INVALID_KEY, False),
        ("v2_forbidden", "api_key", Category.NO_TRADE_PERMISSION, False),
    ],
)
def test_error_table(name, call, category, temporary):
    error = classify(reply(load("htx_errors")[name], name=call))
    assert error is not None
    assert (error.category, error.temporary) == (category, temporary)


@pytest.mark.parametrize(
    ("body", "category"),
    [
        (
            {"status": "error", "err_code": 12001, "err_msg": "Invalid submission time."},
            "clock_skew",
        ),
        (
            {"status": "error", "err_code": 12004, "err_msg": "Private key is expired."},
            "invalid_key",
        ),
        (
            {"status": "error", "err_code": 12005, "err_msg": "Incorrect IP address."},
            "ip_not_allowed",
        ),
        ({"status": "error", "err_code": 12008, "err_msg": "Verification failed."}, "invalid_key"),
        (
            {
                "status": "error",
                "err_code": 12009,
                "err_msg": "The user is locked or doesn't exist.",
            },
            "account_restricted",
        ),
        (
            {
                "status": "error",
                "err-code": "operation-forbidden-for-lock-account-state",
                "err-msg": "The operation is forbidden when the account is locked",
            },
            "account_restricted",
        ),
        ({"status": "error", "err_code": 1431, "err_msg": "The system is in maintenance"}, None),
        ({"code": 40403, "message": "Too many requests."}, None),
    ],
)
def test_documented_codes(body, category):
    error = classify(reply(body, name="swap_account"))
    assert error is not None
    if category is None:
        assert error.temporary and error.category == Category.EXCHANGE_UNAVAILABLE
    else:
        assert error.category == category and not error.temporary


def test_unknown_codes_and_garbage_are_temporary():
    assert classify(reply({"status": "error", "err-code": "brand-new", "err-msg": "?"})).temporary
    assert classify(reply({"code": 9999, "message": "??"})).temporary
    assert classify(reply({"nothing": 1})).temporary
    html = Reply("uid", 502, {}, "<html>", None, False, 1, 0.0, 0.0)
    assert classify(html).temporary


def test_successes_are_not_errors():
    assert classify(reply(load("htx_uid"))) is None
    assert classify(reply(load("htx_api_key"))) is None
    assert classify(reply(load("htx_balance"))) is None
    assert classify(reply(load("htx_futures_timestamp"), name="futures_time")) is None


# --- pairs --------------------------------------------------------------------------------


def test_pairs_keep_online_api_tradable_spot_and_listed_perpetual_swaps():
    payloads = {
        f"{SPOT}/v1/common/symbols": load("htx_symbols"),
        f"{FUTURES}/linear-swap-api/v1/swap_contract_info": load("htx_swap_contract_info"),
    }
    client = HtxClient()
    assert client.pairs(payloads.__getitem__, Market.SPOT) == ["XRP3S/USDT", "BTC/USDT"]
    assert client.pairs(payloads.__getitem__, Market.FUTURES) == ["BTC/USDT"]


# --- registry -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        DOC_KEY,  # the docs' signing example
        KEY,  # the api-key docs example
        "bewr5drtmh-07ef7902-a9b54b77-001d1",  # a prefixed access key (wecando168/Huobi.Net)
    ],
)
def test_documented_key_shapes_are_accepted(key):
    from connections.exchanges import registry

    assert registry.get("htx").validate(key, DOC_SECRET) == {}


def test_registry_lists_every_endpoint_a_test_calls_with_a_source():
    from connections.exchanges import registry

    spec = registry.get("htx")
    endpoints = {limit.endpoint for limit in spec.rate_limits}
    assert {
        "GET /v1/common/timestamp",
        "GET /api/v1/timestamp",
        "GET /v2/user/uid",
        "GET /v2/user/api-key",
        "GET /v1/account/accounts",
        "GET /v1/account/accounts/{id}/balance",
        "POST /linear-swap-api/v1/swap_cross_account_info",
        "GET /v5/account/asset_mode",
        "GET /v5/account/balance",
    } == endpoints
    assert all(limit.source for limit in spec.rate_limits)
    assert spec.needs_passphrase is False and spec.demo_environment is False
    # Withdrawal, IP and expiry come from an endpoint sub-account keys may not use.
    assert CheckName.WITHDRAWAL not in spec.verifies
