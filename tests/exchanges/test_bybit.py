"""Bybit v5: signing vectors, the ccxt oracle, the documented example answers and the error
table, against `responses` mocks of the documented endpoints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    TemporaryExchangeError,
)
from connections.exchanges.bybit import (
    BybitClient,
    auth_headers,
    classify,
    clock_difference_ms,
    parse_expiry,
    query_string,
    sign,
    sign_request,
)
from connections.exchanges.http import Reply

from .conftest import NOW, NOW_MS, FakeClock, load, outcomes

LIVE = "https://api.bybit.com"
DEMO = "https://api-demo.bybit.com"
# pybit's test key material (tests/test_pybit.py; exchanges-more.md §3.2).
KEY = "CFEJUGQEQPPHGOHGHM"
SECRET = "VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"


@pytest.fixture
def creds() -> Credentials:
    return Credentials(KEY, SECRET, "")


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    text = body if isinstance(body, str) else json.dumps(body)
    try:
        data, ok = json.loads(text), True
    except ValueError:
        data, ok = None, False
    return Reply("call", status, headers or {}, text, data, ok, 5, NOW, NOW)


def errors(name: str) -> dict[str, Any]:
    body = load("bybit_errors")[name]
    body.pop("_source", None)
    return body


def time_body() -> dict[str, Any]:
    body = load("bybit_time")  # shape from the docs, time set to the fake clock's
    body["result"] = {"timeSecond": str(NOW_MS // 1000), "timeNano": str(NOW_MS * 1_000_000)}
    body["time"] = NOW_MS
    return body


def key_info(**changes: Any) -> dict[str, Any]:
    body = load("bybit_query_api")
    body["result"].update(changes)
    return body


def wallet(usdt: dict[str, str] | None = None) -> dict[str, Any]:
    body = load("bybit_wallet_balance")
    coin = dict(body["result"]["list"][0]["coin"][0])
    coin.update(
        {
            "coin": "USDT",
            "walletBalance": "1000",
            "locked": "25",
            "equity": "1010",
            "totalPositionIM": "100",
            "totalOrderIM": "50",
            "bonus": "0",
            **(usdt or {}),
        }
    )
    body["result"]["list"][0]["coin"].append(coin)
    return body


def mock(
    rsps,
    *,
    base: str = LIVE,
    query_api: Any = None,
    wallet_body: Any = None,
    wallet_status: int = 200,
    account: Any = None,
    demo: bool = False,
):
    rsps.add(responses.GET, f"{base}/v5/market/time", json=time_body())
    if not demo:
        rsps.add(
            responses.GET,
            f"{base}/v5/user/query-api",
            json=key_info() if query_api is None else query_api,
        )
    rsps.add(
        responses.GET,
        f"{base}/v5/account/wallet-balance?accountType=UNIFIED",
        json=wallet() if wallet_body is None else wallet_body,
        status=wallet_status,
    )
    rsps.add(
        responses.GET,
        f"{base}/v5/account/info",
        json=load("bybit_account_info") if account is None else account,
    )


def run(credentials, market=Market.SPOT, **kwargs):
    return BybitClient(clock=FakeClock(), **kwargs).run_checks(credentials, market)


# --- signing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        # exchanges-more.md §3.2 "Derived vectors [C]" (pybit generate_signature, key/secret
        # of pybit's own test).
        (
            "1658384314791CFEJUGQEQPPHGOHGHM5000category=option&symbol=BTC-29JUL22-25000-C",
            "0bfc5f1d29d38ee7f4d451a9f265f4c3b5a57119d175917df05068384d7955c7",
        ),
        (
            "1658384314791CFEJUGQEQPPHGOHGHM5000",
            "bd5570327de98430a9956443fe706c174972db773aea5e50ce4b46ff3ea856bc",
        ),
        (
            '1658385579423CFEJUGQEQPPHGOHGHM5000{"category": "option"}',
            "7da1f1187f9d354ada1258023a22d9aef67163261c0d42ad52bb27cc30a3fc0d",
        ),
    ],
)
def test_signature_reproduces_the_derived_vectors(payload, expected):
    assert sign(SECRET, payload) == expected


def test_request_signature_is_timestamp_key_window_then_query():
    query = query_string({"symbol": "BTC-29JUL22-25000-C", "category": "option"})
    assert query == "category=option&symbol=BTC-29JUL22-25000-C"  # sorted, as pybit
    assert (
        sign_request(SECRET, 1658384314791, KEY, query)
        == "0bfc5f1d29d38ee7f4d451a9f265f4c3b5a57119d175917df05068384d7955c7"
    )
    assert (
        sign_request(SECRET, 1658385579423, KEY, '{"category": "option"}')
        == "7da1f1187f9d354ada1258023a22d9aef67163261c0d42ad52bb27cc30a3fc0d"
    )


def test_auth_headers_are_the_four_documented_ones(creds):
    headers = auth_headers(creds, 1658384314791)
    assert headers == {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": "bd5570327de98430a9956443fe706c174972db773aea5e50ce4b46ff3ea856bc",
        "Content-Type": "application/json",
    }


# --- the ccxt oracle ------------------------------------------------------------------------


def ccxt_signed(path: str, params: dict[str, str], now_ms: int) -> dict[str, Any]:
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.bybit({"apiKey": KEY, "secret": SECRET})
    exchange.milliseconds = lambda: now_ms  # ccxt's clock, fixed
    exchange.options["timeDifference"] = 0
    return exchange.sign(path, ["private"], "GET", params)


@pytest.mark.parametrize(
    ("path", "params", "url"),
    [
        ("v5/user/query-api", {}, f"{LIVE}/v5/user/query-api"),
        (
            "v5/account/wallet-balance",
            {"accountType": "UNIFIED"},
            f"{LIVE}/v5/account/wallet-balance?accountType=UNIFIED",
        ),
    ],
)
def test_signed_requests_equal_ccxts(rsps, creds, path, params, url):
    mock(rsps)
    run(creds)
    sent = next(c.request for c in rsps.calls if c.request.url.split("?")[0] == url.split("?")[0])
    oracle = ccxt_signed(path, params, NOW_MS)
    for name in ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN"):
        assert sent.headers[name] == oracle["headers"][name], name
    assert sent.headers["Content-Type"] == oracle["headers"]["Content-Type"]
    assert sent.body is None and oracle["body"] is None
    # One difference, not in the signature: ccxt leaves a bare "?" on a URL without a query
    # (".../query-api?"); Bybit signs the empty query either way, and we send no "?".
    assert sent.url == url
    assert oracle["url"].rstrip("?") == url


# --- documented answers ---------------------------------------------------------------------


def test_healthy_spot_key_from_the_docs_example_is_online(rsps, creds):
    # The docs' current example: bound to three IPs, epoch expiry, but readOnly 1 beside
    # trade permissions (apikey-info.mdx): read-write is what a bot needs, so make it 0.
    mock(rsps, query_api=key_info(readOnly=0))
    report = run(creds)
    assert report.verdict == "online", report.to_dict()
    assert outcomes(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "bybit_account_mode"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "spot_trade_enabled"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("ok", "bybit_transfer_allowed"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("ok", "key_never_expires"),
    }
    # unifiedMarginStatus 4 in the account-info example.
    assert report.check(CheckName.CREDENTIALS).params["mode"] == "Unified Trading Account 1.0 Pro"
    assert report.check(CheckName.IP_RESTRICTION).params == {"count": 3}
    assert report.check(CheckName.WITHDRAWAL).params["permissions"] == (
        "AccountTransfer, SubMemberTransfer"
    )
    assert report.balances == [{"asset": "USDT", "free": "975", "locked": "25"}]
    assert "Wallet:AccountTransfer" in report.raw_permissions
    assert report.permissions[:3] == ["read", "futures", "spot"]
    assert set(report.latencies_ms) == {"time", "query_api", "wallet_balance", "account_info"}


def test_futures_available_is_wallet_minus_margin_in_use(rsps, creds):
    mock(rsps, query_api=key_info(readOnly=0))
    report = run(creds, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    # 1000 - 100 (positions) - 50 (orders) - 25 (locked) - 0 (bonus).
    assert report.balances == [{"asset": "USDT", "equity": "1010", "available": "825"}]
    assert outcomes(report)["futures_permission"] == ("ok", "futures_enabled")


def test_portfolio_margin_empty_fields_count_as_zero(rsps, creds):
    mock(
        rsps,
        query_api=key_info(readOnly=0),
        wallet_body=wallet({"totalPositionIM": "", "totalOrderIM": ""}),
    )
    report = run(creds, Market.FUTURES)
    assert report.balances[0]["available"] == "975"


def test_read_only_example_key_cannot_trade(rsps, creds):
    mock(rsps)  # readOnly 1, as in the docs' example
    report = run(creds)
    assert report.verdict == "failed"
    assert outcomes(report)["trade_permission"] == ("failed", "bybit_read_only_key")
    assert "spot" not in report.permissions


def test_unbound_example_key_shows_the_star_as_no_ip_and_its_expiry(rsps, creds):
    body = load("bybit_query_api_unbound")
    body["result"]["expiredAt"] = "2024-08-20T07:20:25Z"  # ahead of the fake clock
    mock(rsps, query_api=body)
    report = run(creds)
    assert outcomes(report)["ip_restriction"] == ("warning", "ip_not_set")
    assert report.ip_restricted is False
    assert outcomes(report)["key_expiry"] == ("ok", "key_expires_on")
    assert report.key_expires_at == datetime(2024, 8, 20, 7, 20, 25, tzinfo=UTC)
    # uta 0 in that example, but account info (status 4) is the better source.
    assert report.check(CheckName.CREDENTIALS).params["mode"] == "Unified Trading Account 1.0 Pro"


def test_unbound_example_key_past_its_expiry_fails(rsps, creds):
    mock(rsps, query_api=load("bybit_query_api_unbound"))  # expiredAt 2023-12-22
    report = run(creds)
    assert outcomes(report)["key_expiry"] == ("failed", "key_expired")
    assert report.verdict == "failed"


def test_withdraw_in_wallet_is_refused(rsps, creds):
    body = key_info(readOnly=0)
    body["result"]["permissions"]["Wallet"] = ["AccountTransfer", "Withdraw"]
    mock(rsps, query_api=body)
    report = run(creds)
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert outcomes(report)["withdrawal"] == ("failed", "withdrawal_enabled")


def test_uta_flag_names_the_account_when_account_info_is_refused(rsps, creds):
    mock(rsps, query_api=key_info(readOnly=0, uta=0), account=errors("permission"))
    report = run(creds)
    assert report.verdict == "online"
    assert report.check(CheckName.CREDENTIALS).params["mode"] == "Classic Account"


def test_demo_uses_the_demo_host_and_never_query_api(rsps, creds):
    mock(rsps, base=DEMO, demo=True)
    report = run(creds, demo=True)
    assert report.verdict == "online", report.to_dict()
    assert outcomes(report)["trade_permission"] == ("not_verifiable", "bybit_demo_no_key_info")
    assert all(c.request.url.startswith(DEMO) for c in rsps.calls)


def test_demo_host_can_be_overridden_by_exchange_urls(rsps, creds):
    mock(rsps, base="http://demo.local", demo=True)
    report = run(creds, demo=True, base_urls={"bybit_demo": "http://demo.local"})
    assert report.verdict == "online"


def test_wallet_refused_for_permission_fails_balances_only(rsps, creds):
    mock(rsps, query_api=key_info(readOnly=0), wallet_body=errors("permission"))
    report = run(creds)
    assert outcomes(report)["credentials"][0] == "ok"
    assert outcomes(report)["balances"] == ("failed", "read_permission_missing")


def test_server_time_is_read_from_time_nano():
    client = BybitClient()
    body = load("bybit_time")
    assert client.server_time_ms(reply(body)) == 1688639403423


def test_parse_expiry_treats_the_epoch_as_no_expiry():
    assert parse_expiry("1970-01-01T00:00:00Z") is None
    assert parse_expiry("2023-12-22T07:20:25Z") == datetime(2023, 12, 22, 7, 20, 25, tzinfo=UTC)
    assert parse_expiry("") is None
    assert parse_expiry(None) is None


# --- pairs ----------------------------------------------------------------------------------


def test_pairs_from_the_documented_instrument_lists():
    client = BybitClient()
    linear = load("bybit_instruments_linear")
    spot = load("bybit_instruments_spot")
    pages = {
        f"{LIVE}/v5/market/instruments-info?category=spot": spot,
        f"{LIVE}/v5/market/instruments-info?category=linear&limit=1000": linear[0],
    }
    assert client.pairs(pages.__getitem__, Market.SPOT) == ["BTC/USDT"]
    assert client.pairs(pages.__getitem__, Market.FUTURES) == ["BTC/USDT"]


def test_linear_pairs_follow_the_cursor_and_keep_trading_usdt_perpetuals():
    client = BybitClient()
    first = load("bybit_instruments_linear")[0]
    first["result"]["nextPageCursor"] = "first%3DBTCUSDT%26last%3DBTCUSDT"
    second = load("bybit_instruments_linear")[1]  # a PreLaunch contract: left out
    extra = dict(first["result"]["list"][0], symbol="ETHPERP", baseCoin="ETH", quoteCoin="USDC")
    dated = dict(first["result"]["list"][0], symbol="ETHUSDT-26DEC26", contractType="LinearFutures")
    second["result"]["list"] += [extra, dated]
    second["result"]["nextPageCursor"] = ""
    pages = {
        f"{LIVE}/v5/market/instruments-info?category=linear&limit=1000": first,
        f"{LIVE}/v5/market/instruments-info?category=linear&limit=1000"
        "&cursor=first%3DBTCUSDT%26last%3DBTCUSDT": second,
    }
    assert client.pairs(pages.__getitem__, Market.FUTURES) == ["BTC/USDT"]


# --- the error table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "category", "detail"),
    [
        ("invalid_key", Category.INVALID_KEY, "bybit_key_unknown"),
        ("bad_sign", Category.INVALID_KEY, None),
        ("auth_failed", Category.INVALID_KEY, None),
        ("permission", Category.NO_TRADE_PERMISSION, None),
        ("unmatched_ip", Category.IP_NOT_ALLOWED, None),
        ("timestamp_live", Category.CLOCK_SKEW, None),
        ("timestamp_doc", Category.CLOCK_SKEW, None),
        ("expired_derivatives", Category.INVALID_KEY, "bybit_key_expired"),
        ("expired_spot", Category.INVALID_KEY, "bybit_key_expired"),
        ("banned", Category.ACCOUNT_RESTRICTED, None),
        ("transactions_banned", Category.ACCOUNT_RESTRICTED, None),
        ("trading_not_allowed", Category.ACCOUNT_RESTRICTED, None),
        ("region", Category.ACCOUNT_RESTRICTED, None),
        ("unified_only", Category.ACCOUNT_RESTRICTED, "bybit_account_mode_mismatch"),
        ("not_unified", Category.ACCOUNT_RESTRICTED, "bybit_account_mode_mismatch"),
    ],
)
def test_permanent_errors_are_classified_by_code(name, category, detail):
    error = classify(reply(errors(name)))
    assert error is not None and not error.temporary
    assert error.category == category
    assert error.detail == detail
    assert error.exchange_code == str(errors(name)["retCode"])


def test_unmatched_ip_reports_no_ip_and_says_so():
    error = classify(reply(errors("unmatched_ip")))
    assert error.reported_ip is None
    assert "does not say which IP" in error.message


def test_live_timestamp_text_gives_the_skew():
    body = errors("timestamp_live")
    assert clock_difference_ms(body["retMsg"]) == 10368
    assert "10368 ms" in classify(reply(body)).message


@pytest.mark.parametrize("name", ["server_error", "server_timeout", "param_error"])
def test_server_errors_and_unknown_codes_are_temporary(name):
    error = classify(reply(errors(name)))
    assert isinstance(error, TemporaryExchangeError)
    assert error.category == Category.EXCHANGE_UNAVAILABLE


def test_rate_limit_waits_until_the_reset_timestamp():
    body = errors("rate_limit")
    headers = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0"}
    headers["X-Bapi-Limit-Reset-Timestamp"] = str(body["time"] + 2500)
    error = classify(reply(body, headers=headers))
    assert isinstance(error, TemporaryExchangeError)
    assert error.retry_after == pytest.approx(2.5)
    assert error.exchange_code == "10006"


def test_retry_after_header_wins_over_the_reset_timestamp():
    headers = {"Retry-After": "7", "X-Bapi-Limit-Reset-Timestamp": str(NOW_MS + 1000)}
    assert classify(reply(errors("rate_limit"), headers=headers)).retry_after == 7


def test_ip_limit_403_is_temporary_for_ten_minutes():
    error = classify(reply("access too frequent", status=403))
    assert isinstance(error, TemporaryExchangeError)
    assert error.retry_after == 600


def test_other_403_pages_and_html_are_temporary():
    assert classify(reply("<html>Forbidden</html>", status=403)).temporary
    assert classify(reply("<html>502</html>", status=502)).temporary


def test_http_401_without_a_code_is_an_invalid_key():
    error = classify(reply({"retMsg": "Need to use the correct key"}, status=401))
    assert error.category == Category.INVALID_KEY


def test_success_is_no_error():
    assert classify(reply(load("bybit_account_info"))) is None


def test_unknown_key_answer_ends_the_test_with_the_environment_hint(rsps, creds):
    mock(rsps, query_api=errors("invalid_key"))
    report = run(creds)
    assert outcomes(report)["credentials"] == ("failed", "bybit_key_unknown")
    assert report.category == Category.INVALID_KEY


def test_secret_never_leaks_into_messages(rsps, creds):
    body = errors("bad_sign")
    body["retMsg"] += f" {SECRET}"
    mock(rsps, query_api=body)
    report = run(creds)
    assert SECRET not in report.message


@pytest.mark.parametrize(
    "code",
    [
        "bybit_account_mode",
        "bybit_key_unknown",
        "bybit_key_expired",
        "bybit_account_mode_mismatch",
        "bybit_read_only_key",
        "bybit_transfer_allowed",
        "bybit_demo_no_key_info",
    ],
)
def test_every_bybit_detail_code_has_a_text(code):
    from connections.exchanges import problems

    text = problems.check_detail(
        code, {"mode": "Unified Trading Account 2.0", "permissions": "AccountTransfer"}
    )
    # "?" would mean a placeholder without a value.
    assert text and "%(" not in text and "?" not in text


def test_registry_accepts_pybits_key_material_and_offers_demo():
    from connections.exchanges import registry

    spec = registry.get("bybit")
    assert spec.validate(KEY, SECRET) == {}
    assert spec.demo_environment is True
    assert spec.needs_passphrase is False
    assert CheckName.KEY_EXPIRY in spec.verifies and CheckName.WITHDRAWAL in spec.verifies
    # The IP limit is shared by the four calls of a test: at most 30 tests per second.
    assert spec.tests_per_second("ip") == pytest.approx(30)
