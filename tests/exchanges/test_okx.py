"""OKX: signing vectors, the ccxt oracle, documented responses and the error table, against
`responses` mocks of the documented endpoints (exchanges-more.md §2)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import responses

from connections.exchanges import okx
from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    Outcome,
    TemporaryExchangeError,
)
from connections.exchanges.okx import OkxClient, iso_timestamp, sign_request

from .conftest import NOW_MS, FakeClock, load, outcomes

LIVE = "https://www.okx.com"
DEMO = "https://openapi.okx.com"

# The docs' example secret and the timestamp of the derived vectors (§2.2).
DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
DOC_TIMESTAMP = "2020-12-08T09:08:57.715Z"
DOC_TIMESTAMP_MS = 1607418537715

# A key shaped like OKX's (UUID), made-up secret and passphrase, distinctive for leak searches.
OKX_KEY = "37c541a1-5ec2-4e7a-9b1d-10fe7a038418"
OKX_SECRET = "C0FFEE00C0FFEE00C0FFEE00C0FFEE00"
OKX_PASSPHRASE = "Okx-Passphrase 42!"


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(OKX_KEY, OKX_SECRET, OKX_PASSPHRASE)


def config(**fields):
    """The documented example (§2.3) with the fields of the case at hand."""
    body = load("okx_account_config")
    body["data"][0].update({"perm": "read_only,trade", "ip": "203.0.113.7", **fields})
    return body


def mock(rsps, *, base=LIVE, config_body=None, config_status=200, balance=None, headers=None):
    time_body = load("okx_time")
    time_body["data"][0]["ts"] = str(NOW_MS)
    rsps.add(responses.GET, f"{base}/api/v5/public/time", json=time_body)
    rsps.add(
        responses.GET,
        f"{base}/api/v5/account/config",
        json=config() if config_body is None else config_body,
        status=config_status,
        headers=headers,
    )
    rsps.add(
        responses.GET,
        f"{base}/api/v5/account/balance",
        json=load("okx_balance") if balance is None else balance,
    )


def run(credentials, market=Market.SPOT, **kwargs):
    return OkxClient(clock=FakeClock(), **kwargs).run_checks(credentials, market)


# --- signing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        # exchanges-more.md §2.2, derived with python-okx utils.sign(utils.pre_hash(...)).
        (
            "GET",
            "/api/v5/account/balance?ccy=BTC",
            "",
            "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=",
        ),
        ("GET", "/api/v5/account/config", "", "Kr/8IrbDYujS4cg2KkmB+tO2HMUXxyayG6ZwNb4H/yA="),
        (
            "POST",
            "/api/v5/account/set-leverage",
            '{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}',
            "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8=",
        ),
    ],
)
def test_derived_signing_vectors_reproduce(method, path, body, expected):
    assert sign_request(DOC_SECRET, DOC_TIMESTAMP, method, path, body) == expected


def test_timestamp_is_iso_utc_with_milliseconds():
    assert iso_timestamp(DOC_TIMESTAMP_MS) == DOC_TIMESTAMP
    assert iso_timestamp(1_700_000_000_005) == "2023-11-14T22:13:20.005Z"


def test_passphrase_is_sent_in_clear(credentials):
    headers = okx.auth_headers(credentials, DOC_TIMESTAMP, "GET", "/api/v5/account/config")
    assert headers["OK-ACCESS-PASSPHRASE"] == OKX_PASSPHRASE
    # An independent computation of the documented recipe (§2.2).
    message = f"{DOC_TIMESTAMP}GET/api/v5/account/config".encode()
    digest = hmac.new(OKX_SECRET.encode(), message, hashlib.sha256).digest()
    assert headers["OK-ACCESS-SIGN"] == base64.b64encode(digest).decode()


def _ccxt_signed(path: str, params: dict, timestamp_ms: int) -> dict:
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.okx({"apiKey": OKX_KEY, "secret": OKX_SECRET, "password": OKX_PASSPHRASE})
    # ccxt takes the ISO timestamp from its own clock (nonce() = milliseconds() - the
    # measured time difference): pinned here.
    exchange.milliseconds = lambda: timestamp_ms
    exchange.options["timeDifference"] = 0
    return exchange.sign(path, ["private"], "GET", params)


@pytest.mark.parametrize(
    ("ccxt_path", "params", "request_path"),
    [
        ("account/config", {}, "/api/v5/account/config"),
        ("account/balance", {}, "/api/v5/account/balance"),
        ("account/balance", {"ccy": "BTC"}, "/api/v5/account/balance?ccy=BTC"),
    ],
)
def test_signed_request_matches_ccxt(credentials, ccxt_path, params, request_path):
    expected = _ccxt_signed(ccxt_path, params, DOC_TIMESTAMP_MS)

    ours = okx.auth_headers(credentials, iso_timestamp(DOC_TIMESTAMP_MS), "GET", request_path)

    assert expected["url"] == f"{LIVE}{request_path}"
    assert expected["body"] is None
    # ccxt sends no Content-Type on a GET; OKX's docs and python-okx (utils.get_header) send
    # `application/json` on every request, as we do. Every other header is identical.
    assert {k: v for k, v in ours.items() if k != "Content-Type"} == expected["headers"]
    assert ours["Content-Type"] == "application/json"


def test_client_signs_the_planned_calls_like_ccxt(rsps, credentials):
    mock(rsps)
    run(credentials)

    signed = {c.request.path_url: c.request.headers for c in rsps.calls}
    expected = _ccxt_signed("account/config", {}, NOW_MS)["headers"]
    sent = signed["/api/v5/account/config"]
    assert {name: sent[name] for name in expected} == expected
    assert "OK-ACCESS-KEY" not in signed["/api/v5/public/time"]


# --- parsing documented responses ------------------------------------------------------------


def test_healthy_spot_key_is_online(rsps, credentials):
    mock(rsps)

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
    # The documented balance example: availBal free, frozenBal locked.
    assert report.balances == [{"asset": "USDT", "free": "4834.317093622894", "locked": "158.573"}]
    assert report.raw_permissions == ["read_only", "trade"]
    assert report.permissions == ["read", "spot", "futures"]
    assert report.check(CheckName.IP_RESTRICTION).params == {"count": 1}
    assert set(report.latencies_ms) == {"time", "account_config", "balance"}


def test_healthy_futures_key_shows_account_and_position_mode(rsps, credentials):
    mock(rsps)

    report = run(credentials, Market.FUTURES)

    assert report.verdict == "online"
    futures = report.check(CheckName.FUTURES_PERMISSION)
    assert (futures.outcome, futures.code) == (Outcome.OK, "okx_futures_enabled")
    assert futures.params == {"account_mode": "Futures mode", "position_mode": "long/short"}
    assert report.check(CheckName.TRADE_PERMISSION).code == "futures_trade_enabled"
    # eq as equity, availEq as available (§2.5).
    assert report.balances == [
        {"asset": "USDT", "equity": "4992.890093622894", "available": "4834.3170936228935"}
    ]


def test_documented_example_key_can_withdraw_and_is_refused(rsps, credentials):
    mock(rsps, config_body=load("okx_account_config"))

    report = run(credentials)

    assert report.verdict == "failed"
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert report.check(CheckName.WITHDRAWAL).code == "withdrawal_enabled"
    # "ip": "" means no IP bound.
    assert report.check(CheckName.IP_RESTRICTION).outcome == Outcome.WARNING
    assert report.ip_restricted is False


def test_spot_mode_account_cannot_trade_swaps(rsps, credentials):
    mock(rsps, config_body=config(acctLv="1"))

    report = run(credentials, Market.FUTURES)

    assert report.category == Category.FUTURES_NOT_PERMITTED
    for name in (CheckName.TRADE_PERMISSION, CheckName.FUTURES_PERMISSION):
        check = report.check(name)
        assert (check.outcome, check.code) == (Outcome.FAILED, "okx_spot_mode_account")
        assert check.params == {"account_mode": "Spot mode"}


def test_spot_mode_account_still_trades_spot(rsps, credentials):
    mock(rsps, config_body=config(acctLv="1"))

    report = run(credentials)

    assert report.verdict == "online"
    assert report.permissions == ["read", "spot"]


def test_read_only_key_lacks_trading(rsps, credentials):
    mock(rsps, config_body=config(perm="read_only"))

    spot = run(credentials)
    assert spot.check(CheckName.TRADE_PERMISSION).code == "trade_permission_missing"
    assert spot.category == Category.NO_TRADE_PERMISSION


def test_read_only_key_on_futures(rsps, credentials):
    mock(rsps, config_body=config(perm="read_only"))

    report = run(credentials, Market.FUTURES)

    assert report.check(CheckName.FUTURES_PERMISSION).code == "futures_permission_missing"
    assert report.category == Category.FUTURES_NOT_PERMITTED


def test_several_whitelisted_ips_are_counted(rsps, credentials):
    mock(rsps, config_body=config(ip="117.37.203.58,117.37.203.57"))

    assert run(credentials).check(CheckName.IP_RESTRICTION).params == {"count": 2}


def test_spot_mode_balance_without_avail_eq_falls_back_to_avail_bal(rsps, credentials):
    balance = load("okx_balance")
    balance["data"][0]["details"][0]["availEq"] = ""
    mock(rsps, balance=balance)

    report = run(credentials, Market.FUTURES)

    assert report.balances[0]["available"] == "4834.317093622894"


def test_server_time_from_the_documented_example():
    client = OkxClient()
    from connections.exchanges.http import Reply

    body = load("okx_time")
    reply = Reply("time", 200, {}, "", body, True, 1, 0.0, 0.0)
    assert client.server_time_ms(reply) == 1597026383085


def test_spot_pairs_from_the_documented_example():
    payload = load("okx_instruments_spot")
    assert OkxClient().pairs(lambda url: payload, Market.SPOT) == ["BTC/USDT"]


def test_swap_pairs_are_live_linear_usdt_settled():
    def row(inst_id, **fields):
        return {
            "instId": inst_id,
            "instFamily": inst_id.rsplit("-", 1)[0],
            "uly": inst_id.rsplit("-", 1)[0],
            "baseCcy": "",
            "quoteCcy": "",
            "ctType": "linear",
            "settleCcy": "USDT",
            "state": "live",
            **fields,
        }

    payload = {
        "code": "0",
        "msg": "",
        "data": [
            row("BTC-USDT-SWAP"),
            row("ETH-USDT-SWAP"),
            row("BTC-USD-SWAP", ctType="inverse", settleCcy="BTC"),
            row("BTC-USDC-SWAP", settleCcy="USDC"),
            row("XYZ-USDT-SWAP", state="suspend"),
        ],
    }
    urls = []

    def get(url):
        urls.append(url)
        return payload

    assert OkxClient().pairs(get, Market.FUTURES) == ["BTC/USDT", "ETH/USDT"]
    assert urls == [f"{LIVE}/api/v5/public/instruments?instType=SWAP"]


# --- demo trading ------------------------------------------------------------------------------


def test_demo_connection_uses_the_demo_domain_and_header(rsps, credentials):
    mock(rsps, base=DEMO)

    report = run(credentials, demo=True)

    assert report.verdict == "online"
    for call in rsps.calls:
        assert call.request.headers["x-simulated-trading"] == "1"


def test_demo_domain_can_be_overridden(rsps, credentials):
    mock(rsps, base=LIVE)

    report = run(credentials, demo=True, base_urls={"okx_demo": LIVE})

    assert report.verdict == "online"
    assert all(c.request.headers["x-simulated-trading"] == "1" for c in rsps.calls)


def test_live_connection_sends_no_demo_header(rsps, credentials):
    mock(rsps)
    run(credentials)
    assert all("x-simulated-trading" not in c.request.headers for c in rsps.calls)


@pytest.mark.parametrize(
    ("demo", "detail"), [(False, "demo_key_on_live"), (True, "live_key_on_demo")]
)
def test_environment_mismatch_says_which_way(rsps, credentials, demo, detail):
    error = load("okx_errors")["50101"]
    mock(
        rsps,
        base=DEMO if demo else LIVE,
        config_body={"code": "50101", "msg": error["msg"], "data": []},
        config_status=error["status"],
    )

    report = run(credentials, demo=demo)

    check = report.check(CheckName.CREDENTIALS)
    assert (check.outcome, check.code, check.category) == (
        Outcome.FAILED,
        detail,
        Category.INVALID_KEY,
    )


# --- the error table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "category", "detail"),
    [
        ("50103", Category.INVALID_KEY, "invalid_key"),
        ("50111", Category.INVALID_KEY, "okx_key_not_found"),
        ("50119", Category.INVALID_KEY, "okx_key_not_found"),
        ("50104", Category.INVALID_KEY, "passphrase_wrong"),
        ("50105", Category.INVALID_KEY, "passphrase_wrong"),
        ("50106", Category.INVALID_KEY, "secret_wrong"),
        ("50113", Category.INVALID_KEY, "secret_wrong"),
        ("50114", Category.INVALID_KEY, "secret_wrong"),
        ("50107", Category.CLOCK_SKEW, "clock_skew"),
        ("50102", Category.CLOCK_SKEW, "clock_skew"),
        ("50112", Category.CLOCK_SKEW, "clock_skew"),
        ("50110", Category.IP_NOT_ALLOWED, "ip_not_allowed"),
        ("50121", Category.ACCOUNT_RESTRICTED, "account_restricted"),
        ("50100", Category.ACCOUNT_RESTRICTED, "key_frozen"),
        ("50007", Category.ACCOUNT_RESTRICTED, "account_restricted"),
        ("50009", Category.ACCOUNT_RESTRICTED, "account_restricted"),
    ],
)
def test_error_codes_fail_the_credentials_check(rsps, credentials, code, category, detail):
    error = load("okx_errors")[code]
    body = {"code": code, "msg": error["msg"], "data": []}
    mock(rsps, config_body=body, config_status=error["status"])

    report = run(credentials)

    assert report.verdict == "failed"
    assert report.category == category
    check = report.check(CheckName.CREDENTIALS)
    assert (check.outcome, check.code) == (Outcome.FAILED, detail)
    assert check.params["exchange_code"] == code


def test_ip_error_reports_the_callers_ip(rsps, credentials):
    error = load("okx_errors")["50110"]
    mock(rsps, config_body={"code": "50110", "msg": error["msg"], "data": []}, config_status=401)

    report = run(credentials)

    assert report.reported_ip == "203.0.113.9"
    assert report.ip_restricted is True
    ip = report.check(CheckName.IP_RESTRICTION)
    assert (ip.outcome, ip.code) == (Outcome.FAILED, "ip_not_whitelisted")
    assert ip.params["reported_ip"] == "203.0.113.9"


@pytest.mark.parametrize("code", ["50120", "50030"])
def test_permission_refusal_of_the_config_call(rsps, credentials, code):
    error = load("okx_errors")[code]
    mock(rsps, config_body={"code": code, "msg": error["msg"], "data": []})

    report = run(credentials)

    check = report.check(CheckName.CREDENTIALS)
    assert (check.outcome, check.code) == (Outcome.FAILED, "read_permission_missing")


@pytest.mark.parametrize("code", ["50011", "50013", "50001", "50026"])
def test_unavailable_codes_raise_temporary_errors(rsps, credentials, code):
    error = load("okx_errors")[code]
    mock(
        rsps,
        config_body={"code": code, "msg": error["msg"], "data": []},
        config_status=error["status"],
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run(credentials)

    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE
    assert excinfo.value.exchange_code == code
    # OKX documents no Retry-After (§2.6).
    assert excinfo.value.retry_after is None


def test_a_retry_after_header_is_honoured_when_sent(rsps, credentials):
    mock(
        rsps,
        config_body={"code": "50011", "msg": "Too Many Requests", "data": []},
        config_status=429,
        headers={"Retry-After": "3"},
    )

    with pytest.raises(TemporaryExchangeError) as excinfo:
        run(credentials)

    assert excinfo.value.retry_after == 3


def test_unknown_code_is_temporary(rsps, credentials):
    mock(rsps, config_body={"code": "59999", "msg": "something new", "data": []})

    with pytest.raises(TemporaryExchangeError):
        run(credentials)


def test_html_gateway_page_is_temporary(rsps, credentials):
    time_body = load("okx_time")
    time_body["data"][0]["ts"] = str(NOW_MS)
    rsps.add(responses.GET, f"{LIVE}/api/v5/public/time", json=time_body)
    rsps.add(responses.GET, f"{LIVE}/api/v5/account/config", json=config())
    rsps.add(responses.GET, f"{LIVE}/api/v5/account/balance", body="<html>502</html>", status=502)

    with pytest.raises(TemporaryExchangeError, match="HTML"):
        run(credentials)


def test_secrets_never_reach_the_report(rsps, credentials):
    body = {"code": "50105", "msg": f"passphrase {OKX_PASSPHRASE} incorrect", "data": []}
    mock(rsps, config_body=body, config_status=401)

    report = run(credentials)

    assert OKX_PASSPHRASE not in str(report.to_dict())


# --- registry ----------------------------------------------------------------------------------


def test_registry_entry():
    from connections.exchanges import registry

    spec = registry.get("okx")
    assert spec.label == "OKX"
    assert spec.needs_passphrase is True
    assert spec.demo_environment is True
    assert isinstance(spec.build_client(), OkxClient)
    assert CheckName.KEY_EXPIRY not in spec.verifies
    assert {CheckName.WITHDRAWAL, CheckName.IP_RESTRICTION} <= spec.verifies
    # The config endpoint (5 per 2 s per UID) paces the tests (§2.3).
    assert spec.tests_per_second("uid") == 2.5
    assert spec.tests_per_second("ip") == 5


@pytest.mark.parametrize(
    ("key", "secret", "passphrase", "errors"),
    [
        ("37c541a1-5ec2-4e7a-9b1d-10fe7a038418", DOC_SECRET, "Abc123!@#", {}),
        (OKX_KEY, OKX_SECRET, OKX_PASSPHRASE, {}),
        (OKX_KEY, OKX_SECRET, "", {"passphrase": "required"}),
        (OKX_KEY, OKX_SECRET, " padded ", {"passphrase": "malformed"}),
        (OKX_KEY + " x", "short", "p", {"api_key": "malformed", "api_secret": "malformed"}),
    ],
)
def test_credentials_validation(key, secret, passphrase, errors):
    from connections.exchanges import registry

    assert registry.get("okx").validate(key, secret, passphrase) == errors


@pytest.mark.parametrize(
    ("message", "ip"),
    [
        ("Your IP 203.0.113.9 is not included in your API key's IP whitelist.", "203.0.113.9"),
        ("Your IP 2001:db8::7 is not included in your API key's IP whitelist.", "2001:db8::7"),
        ("Your IP  is not included in your API key's IP whitelist.", None),
    ],
)
def test_caller_ip_of_the_50110_text(message, ip):
    assert okx.reported_ip(message) == ip
