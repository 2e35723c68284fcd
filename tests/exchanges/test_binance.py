"""Binance: signing (official vectors, RFC 8032, the ccxt oracle), the documented responses,
the error table and the -2015 disambiguation, against `responses` mocks."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, unquote, urlsplit

import ccxt
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from connections.exchanges import registry
from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    PermanentExchangeError,
    TemporaryExchangeError,
)
from connections.exchanges.binance import (
    BinanceClient,
    classify,
    normalise_pem,
    sign_ed25519,
    sign_hmac,
    signature_param,
    signed_query,
)
from connections.exchanges.http import Reply

from .conftest import NOW_MS, FakeClock, load, outcomes

SPOT = "https://api.binance.com"
FUTURES = "https://fapi.binance.com"

# The docs' key material (bn-spot-docs rest-api.md "SIGNED Endpoint Examples", §1.2).
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_TS = 1499827319559

# RFC 8032 §7.1 TEST 1: secret key 9d61b19d...7f60, empty message.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def pem_of(seed: bytes) -> str:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode().strip()


ED_PEM = pem_of(bytes(range(32)))


# --- signing ---------------------------------------------------------------------------------


def test_official_hmac_vector_reproduces():
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert (
        sign_hmac(DOC_SECRET, payload)
        == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_official_non_ascii_vector_reproduces():
    payload = (
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
        "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    )
    assert (
        sign_hmac(DOC_SECRET, payload)
        == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    )


def test_introspection_query_is_signed_in_the_docs_order():
    # §1.2 derived vector: business params, recvWindow, timestamp.
    query = signed_query((), timestamp_ms=DOC_TS)
    assert query == "recvWindow=5000&timestamp=1499827319559"
    assert (
        sign_hmac(DOC_SECRET, query)
        == "82f4e72e95e63d666b6da651e82a701722ad8a785a169318d91f36f279c55821"
    )


def test_ed25519_signature_reproduces_rfc_8032_test_1():
    signature = sign_ed25519(pem_of(RFC8032_SEED), "")
    assert base64.b64decode(signature) == RFC8032_SIGNATURE


def test_ed25519_signature_is_url_encoded_base64():
    value = signature_param(ED_PEM, "recvWindow=5000&timestamp=1499827319559")
    assert "+" not in value and "/" not in value and "=" not in value
    assert base64.b64decode(unquote(value)) == base64.b64decode(
        sign_ed25519(ED_PEM, "recvWindow=5000&timestamp=1499827319559")
    )


def test_a_pem_that_is_not_ed25519_is_refused_as_invalid_key():
    with pytest.raises(PermanentExchangeError) as caught:
        sign_ed25519("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "x")
    assert caught.value.category == Category.INVALID_KEY


# --- the ccxt oracle -------------------------------------------------------------------------
#
# ccxt puts `timestamp` first and `recvWindow` last (python/ccxt/binance.py sign()), the docs
# put business parameters first and `timestamp` last; Binance signs the bytes as sent, so both
# are valid and differ only in order (§1.2). The oracle therefore compares: the parameters and
# headers each side sends (as sets), and the signature of ccxt's own query string computed by
# our signing function. Binance needs no other difference: same hosts, paths, GET in the
# query and POST in a form body.

ORACLE_CASES = [
    # (ccxt path, ccxt api, method, params, our call)
    ("account/apiRestrictions", "sapi", "GET", {}, ("binance", "/sapi/v1/account/apiRestrictions")),
    ("account", "private", "GET", {"omitZeroBalances": "true"}, ("binance", "/api/v3/account")),
    ("balance", "fapiPrivateV3", "GET", {}, ("binance_futures", "/fapi/v3/balance")),
    (
        "order/test",
        "private",
        "POST",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT"},
        ("binance", "/api/v3/order/test"),
    ),
    (
        "order/test",
        "fapiPrivate",
        "POST",
        {"symbol": "BTCUSDT"},
        ("binance_futures", "/fapi/v1/order/test"),
    ),
]


def ccxt_sign(secret: str, path: str, api: str, method: str, params: dict) -> dict:
    exchange = ccxt.binance({"apiKey": DOC_KEY, "secret": secret, "options": {"recvWindow": 5000}})
    exchange.nonce = lambda: DOC_TS
    return exchange.sign(path, [api], method, dict(params))


def sent_params(url: str, body: str | None) -> tuple[str, dict[str, str]]:
    raw = body if body else urlsplit(url).query
    return raw, dict(parse_qsl(raw, keep_blank_values=True))


@pytest.mark.parametrize("secret", [DOC_SECRET, ED_PEM], ids=["hmac", "ed25519"])
@pytest.mark.parametrize(("path", "api", "method", "params", "ours"), ORACLE_CASES)
def test_signed_requests_match_ccxt(secret, path, api, method, params, ours):
    theirs = ccxt_sign(secret, path, api, method, params)
    call = BinanceClient().signed_call(
        "x", method, ours[0], ours[1], tuple(params.items()), Credentials(DOC_KEY, secret), DOC_TS
    )
    # Same endpoint and headers.
    assert call.url.split("?")[0] == theirs["url"].split("?")[0]
    assert dict(call.headers) == theirs["headers"]
    raw_theirs, their_params = sent_params(theirs["url"], theirs["body"])
    raw_ours, our_params = sent_params(call.url, call.body)
    # Same parameters, in another order (see above), each signed over what it sends.
    assert {k: v for k, v in our_params.items() if k != "signature"} == {
        k: v for k, v in their_params.items() if k != "signature"
    }
    payload_theirs = raw_theirs.rsplit("&signature=", 1)[0]
    assert signature_param(secret, payload_theirs) == raw_theirs.rsplit("&signature=", 1)[1]
    payload_ours = raw_ours.rsplit("&signature=", 1)[0]
    assert raw_ours.rsplit("&signature=", 1)[1] == signature_param(secret, payload_ours)


def test_ccxt_introspection_signature_is_the_documented_one():
    theirs = ccxt_sign(DOC_SECRET, "account/apiRestrictions", "sapi", "GET", {})
    # exchanges.md: ccxt's order gives 6cd35332...; ours gives 82f4e72e... (both valid).
    assert theirs["url"].endswith(
        "timestamp=1499827319559&recvWindow=5000"
        "&signature=6cd35332399b004466463b9ad65a112a14f31fb9ddfd5e19bd7298fbd491dbc7"
    )


# --- pasting a PEM ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pasted",
    [
        ED_PEM,
        ED_PEM.replace("\n", ""),  # what a password input keeps of a multi-line paste
        ED_PEM.replace("\n", " "),
        "  " + ED_PEM.replace("\n", "\r\n") + "\n",
    ],
    ids=["as-is", "no-whitespace", "spaces", "crlf"],
)
def test_normalise_rebuilds_a_pem_the_browser_flattened(pasted):
    spec = registry.get("binance")
    key, secret, _ = spec.normalise_credentials(f" {DOC_KEY}\n", pasted, "")
    assert key == DOC_KEY
    assert secret == ED_PEM
    assert spec.validate(key, secret) == {}
    # And it still signs.
    assert sign_ed25519(secret, "x") == sign_ed25519(ED_PEM, "x")


def test_secret_pattern_accepts_hmac_secrets_and_pems_only():
    spec = registry.get("binance")
    assert spec.validate(DOC_KEY, DOC_SECRET) == {}
    assert spec.validate(DOC_KEY, normalise_pem(ED_PEM)) == {}
    assert spec.validate(DOC_KEY, "not a secret!") == {"api_secret": "malformed"}
    assert normalise_pem("  plain  ") == "plain"


# --- responses -------------------------------------------------------------------------------


def times(rsps, *, futures=False):
    rsps.add(responses.GET, f"{SPOT}/api/v3/time", json={"serverTime": NOW_MS})
    if futures:
        rsps.add(responses.GET, f"{FUTURES}/fapi/v1/time", json={"serverTime": NOW_MS})


def restrictions(**changes):
    body = load("binance_api_restrictions")
    body.update(
        {
            "enableSpotAndMarginTrading": True,
            "enableFutures": True,
            "enablePortfolioMarginTrading": False,
            "ipRestrict": True,
        }
    )
    body.update(changes)
    return body


def run(market=Market.SPOT, secret=DOC_SECRET, **kwargs):
    return BinanceClient(clock=FakeClock(), **kwargs).run_checks(
        Credentials(DOC_KEY, secret), market
    )


def spot_mocks(rsps, *, key_info=None, key_status=200, account=None, account_status=200):
    times(rsps)
    rsps.add(
        responses.GET,
        f"{SPOT}/sapi/v1/account/apiRestrictions",
        json=restrictions() if key_info is None else key_info,
        status=key_status,
    )
    rsps.add(
        responses.GET,
        f"{SPOT}/api/v3/account",
        json=load("binance_account") if account is None else account,
        status=account_status,
    )


def futures_mocks(rsps, *, key_info=None, key_status=200, balance=None, balance_status=200):
    times(rsps, futures=True)
    rsps.add(
        responses.GET,
        f"{SPOT}/sapi/v1/account/apiRestrictions",
        json=restrictions() if key_info is None else key_info,
        status=key_status,
    )
    rsps.add(
        responses.GET,
        f"{FUTURES}/fapi/v3/balance",
        json=load("binance_futures_balance") if balance is None else balance,
        status=balance_status,
    )


def test_documented_examples_make_an_online_spot_report():
    with responses.RequestsMock() as rsps:
        spot_mocks(rsps)
        report = run()
        sent = [call.request for call in rsps.calls if "/time" not in call.request.url]
    assert report.verdict == "online", report.to_dict()
    assert {request.headers["X-MBX-APIKEY"] for request in sent} == {DOC_KEY}
    assert any("/api/v3/account?omitZeroBalances=true&" in request.url for request in sent)
    assert outcomes(report)["ip_restriction"] == ("ok", "ip_restricted_unlisted")
    assert outcomes(report)["withdrawal"] == ("ok", "withdrawal_disabled")
    assert report.balances == [
        {"asset": "BTC", "free": "4723846.89208129", "locked": "0"},
        {"asset": "LTC", "free": "4763368.68006011", "locked": "0"},
    ]
    assert "enableReading" in report.raw_permissions


def test_documented_futures_balance_is_read_as_equity_and_available():
    with responses.RequestsMock() as rsps:
        futures_mocks(rsps)
        report = run(Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert report.balances == [
        {"asset": "USDT", "equity": "122607.35137903", "available": "23.72469206"}
    ]
    assert outcomes(report)["futures_permission"] == ("ok", "futures_enabled")


def test_official_example_is_a_portfolio_margin_key_that_cannot_trade_futures():
    # The official example: enableFutures false, enablePortfolioMarginTrading true.
    with responses.RequestsMock() as rsps:
        futures_mocks(
            rsps,
            key_info=load("binance_api_restrictions"),
            balance=load("binance_errors")["rejected"],
            balance_status=401,
        )
        report = run(Market.FUTURES)
    assert report.verdict == "failed"
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert outcomes(report)["futures_permission"] == ("failed", "binance_portfolio_margin")
    assert outcomes(report)["balances"] == ("failed", "futures_account_unreadable")
    assert outcomes(report)["ip_restriction"] == ("warning", "ip_not_set")


def test_futures_off_names_keys_older_than_the_futures_account():
    with responses.RequestsMock() as rsps:
        futures_mocks(
            rsps,
            key_info=restrictions(enableFutures=False),
            balance=load("binance_errors")["rejected_with_ip"],
            balance_status=401,
        )
        report = run(Market.FUTURES)
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert outcomes(report)["futures_permission"] == ("failed", "binance_futures_disabled")


def test_withdrawal_flag_fails_the_key():
    with responses.RequestsMock() as rsps:
        spot_mocks(rsps, key_info=restrictions(enableWithdrawals=True))
        report = run()
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert "withdraw" in report.permissions


def test_introspection_rejected_means_key_or_ip_and_shows_the_ip():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        spot_mocks(rsps, key_info=load("binance_errors")["rejected_with_ip"], key_status=401)
        report = run()
    assert report.category == Category.INVALID_KEY
    result = report.check(CheckName.CREDENTIALS)
    assert result.code == "binance_key_or_ip_ip"
    assert result.params["reported_ip"] == "185.93.111.189"
    assert report.reported_ip == "185.93.111.189"


def test_introspection_rejected_without_ip_says_it_cannot_tell():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        spot_mocks(rsps, key_info=load("binance_errors")["rejected"], key_status=401)
        report = run()
    assert report.check(CheckName.CREDENTIALS).code == "binance_key_or_ip"


def test_a_rejected_call_after_an_accepted_introspection_is_a_missing_permission():
    with responses.RequestsMock() as rsps:
        spot_mocks(rsps, account=load("binance_errors")["rejected"], account_status=401)
        report = run()
    assert outcomes(report)["credentials"] == ("ok", "credentials_accepted")
    assert outcomes(report)["balances"] == ("failed", "read_permission_missing")
    assert report.category == Category.NO_TRADE_PERMISSION


def test_spot_trading_off_is_reported_from_the_introspection():
    with responses.RequestsMock() as rsps:
        spot_mocks(rsps, key_info=restrictions(enableSpotAndMarginTrading=False))
        report = run()
    assert outcomes(report)["trade_permission"] == ("failed", "trade_permission_missing")


def test_legacy_trading_expiry_is_reported_when_sent():
    with responses.RequestsMock() as rsps:
        spot_mocks(
            rsps, key_info=restrictions(tradingAuthorityExpirationTime=NOW_MS + 5 * 86_400_000)
        )
        report = run()
    assert outcomes(report)["key_expiry"][1] == "key_expires_soon"


DEMO_SPOT, DEMO_FUTURES = "https://demo-api.binance.com", "https://demo-fapi.binance.com"
DEMO_SAPI = f"{DEMO_SPOT}/sapi/v1/account/apiRestrictions"


def demo_futures_mocks(rsps, *, sapi: dict):
    rsps.add(responses.GET, f"{DEMO_SPOT}/api/v3/time", json={"serverTime": NOW_MS})
    rsps.add(responses.GET, f"{DEMO_FUTURES}/fapi/v1/time", json={"serverTime": NOW_MS})
    rsps.add(responses.GET, DEMO_SAPI, **sapi)
    rsps.add(responses.GET, f"{DEMO_FUTURES}/fapi/v3/balance", json=load("binance_futures_balance"))
    rsps.add(
        responses.POST,
        f"{DEMO_FUTURES}/fapi/v1/order/test",
        json=load("binance_errors")["filter"],
        status=400,
    )


# Whether /sapi answers on the demo host is UNVERIFIED (§10.1): every kind of "no" falls back.
DEMO_SAPI_MISSING = {
    "empty-404": {"body": "", "status": 404},
    "html-502": {"body": "<html>bad gateway</html>", "status": 502},
    "rejected": {
        "json": {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."},
        "status": 401,
    },
    "other-json": {"json": {"code": -1000, "msg": "unknown"}, "status": 400},
}


@pytest.mark.parametrize("sapi", DEMO_SAPI_MISSING.values(), ids=DEMO_SAPI_MISSING.keys())
def test_demo_mode_without_introspection_falls_back_to_a_test_order(sapi):
    with responses.RequestsMock() as rsps:
        demo_futures_mocks(rsps, sapi=sapi)
        report = run(Market.FUTURES, demo=True)
        body = next(c.request.body for c in rsps.calls if c.request.method == "POST").decode()
    assert report.verdict == "online", report.to_dict()
    assert "symbol=BTCUSDT" in body and "signature=" in body
    assert outcomes(report)["credentials"] == ("ok", "credentials_accepted")
    assert outcomes(report)["trade_permission"] == ("ok", "order_test_validated")
    assert outcomes(report)["futures_permission"] == ("ok", "futures_account_readable")
    assert outcomes(report)["withdrawal"] == ("not_verifiable", "binance_demo_no_key_info")
    assert outcomes(report)["ip_restriction"] == ("not_verifiable", "binance_demo_no_key_info")


def test_demo_mode_uses_the_introspection_where_the_demo_host_has_it():
    with responses.RequestsMock() as rsps:
        demo_futures_mocks(rsps, sapi={"json": restrictions(enableWithdrawals=True)})
        report = run(Market.FUTURES, demo=True)
    assert outcomes(report)["futures_permission"] == ("ok", "futures_enabled")
    assert outcomes(report)["withdrawal"] == ("failed", "withdrawal_enabled")
    assert outcomes(report)["ip_restriction"] == ("ok", "ip_restricted_unlisted")


def test_demo_mode_rejection_of_the_first_call_cannot_tell_the_cause():
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{DEMO_SPOT}/api/v3/time", json={"serverTime": NOW_MS})
        rsps.add(responses.GET, DEMO_SAPI, body="", status=404)
        rsps.add(
            responses.GET,
            f"{DEMO_SPOT}/api/v3/account",
            json=load("binance_errors")["rejected"],
            status=401,
        )
        rsps.add(
            responses.POST,
            f"{DEMO_SPOT}/api/v3/order/test",
            json=load("binance_errors")["rejected"],
            status=401,
        )
        report = run(demo=True)
    assert report.check(CheckName.CREDENTIALS).code == "binance_key_ip_or_permission"


def test_demo_urls_can_be_overridden():
    client = BinanceClient(
        {"binance_demo": "http://sim:1", "binance_futures_demo": "http://sim:2"}, demo=True
    )
    assert client.base_urls == {"binance": "http://sim:1", "binance_futures": "http://sim:2"}


# --- the error table -------------------------------------------------------------------------


def reply(body, status=400, name="account", headers=None) -> Reply:
    return Reply(name, status, headers or {}, "", body, True, 1, 0.0, 0.0)


@pytest.mark.parametrize(
    ("name", "status", "category", "temporary"),
    [
        ("rejected", 401, Category.INVALID_KEY, False),
        ("bad_key_format", 401, Category.INVALID_KEY, False),
        ("bad_signature", 400, Category.INVALID_KEY, False),
        ("unauthorized", 401, Category.INVALID_KEY, False),
        ("outside_window", 400, Category.CLOCK_SKEW, False),
        ("ahead", 400, Category.CLOCK_SKEW, False),
        ("disabled_account", 400, Category.ACCOUNT_RESTRICTED, False),
        ("no_orders", 400, Category.ACCOUNT_RESTRICTED, False),
        ("too_many", 429, Category.EXCHANGE_UNAVAILABLE, True),
        ("busy", 503, Category.EXCHANGE_UNAVAILABLE, True),
        ("disconnected", 500, Category.EXCHANGE_UNAVAILABLE, True),
    ],
)
def test_error_table(name, status, category, temporary):
    error = classify(reply(load("binance_errors")[name], status))
    assert error is not None
    assert error.category == category
    assert error.temporary is temporary


def test_rate_limit_and_ban_carry_retry_after():
    for status in (429, 418):
        error = classify(
            reply({"code": -1003, "msg": "Way too much"}, status, headers={"Retry-After": "120"})
        )
        assert isinstance(error, TemporaryExchangeError)
        assert error.retry_after == 120


def test_unknown_codes_and_html_are_temporary():
    assert classify(reply({"code": -9999, "msg": "new"}, 400)).temporary
    html = Reply("account", 403, {}, "<html>waf</html>", None, False, 1, 0.0, 0.0)
    assert classify(html).temporary


def test_restricted_location_is_an_account_restriction():
    error = classify(
        reply({"code": 0, "msg": "Service unavailable from a restricted location"}, 451)
    )
    assert error.category == Category.ACCOUNT_RESTRICTED


def test_successes_are_not_errors():
    assert classify(reply({}, 200)) is None
    assert classify(reply(load("binance_futures_balance"), 200)) is None
    assert classify(reply(load("binance_time"), 200)) is None


def test_reported_ip_is_read_from_the_merged_answer():
    error = classify(reply(load("binance_errors")["rejected_with_ip"], 401))
    assert error.reported_ip == "185.93.111.189"
    assert error.detail == "binance_key_ip_or_permission"


@pytest.mark.parametrize(
    ("body", "validated"),
    [
        ({"code": -1013, "msg": "Filter failure: PERCENT_PRICE_BY_SIDE"}, True),
        ({"code": -2010, "msg": "Account has insufficient balance for requested action."}, True),
        ({"code": -4164, "msg": "Order's notional must be no smaller than 100"}, True),
        ({"code": -2010, "msg": "This action is disabled on this account."}, False),
        ({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}, False),
        ({"code": -1102, "msg": "Mandatory parameter 'timestamp' was not sent"}, False),
    ],
)
def test_only_order_rule_rejections_prove_trading(body, validated):
    code = BinanceClient().probe_validated(reply(body, 400, name="order_test"), None)
    assert (code is not None) is validated


def test_reported_ip_survives_a_closing_period():
    body = {
        "code": -2015,
        "msg": "Invalid API-key, IP, or permissions for action, request ip: 1.2.3.4.",
    }
    assert classify(reply(body, 401)).reported_ip == "1.2.3.4"
