"""Gate: signing vectors, the ccxt oracle, the documented answers and the error table."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from connections.exchanges import gate
from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    TemporaryExchangeError,
)
from connections.exchanges.gate import GateClient
from connections.exchanges.http import Reply

from .conftest import NOW_MS, FakeClock, load
from .conftest import outcomes as checks

HOST = "https://api.gateio.ws"

# exchanges-more.md §5.2: derived vectors, official SDK `gen_sign` with time patched.
VECTOR_KEY = "KEY123"
VECTOR_SECRET = "secret_for_docs_only_0123456789abcdef"
VECTOR_TS = 1700000000
VECTORS = [
    (
        "GET",
        "/api/v4/account/detail",
        "",
        "",
        "5fdf934c0b3c8e1ac70065c767ccf42e3a08de58b024835c94bc8a9bb6a88a31"
        "b7401280b15e9e7b3cb19f2df540872f6fd6ba2f7bc91020b424eb83794410a9",
    ),
    (
        "GET",
        "/api/v4/spot/accounts",
        "currency=USDT",
        "",
        "ada94c6cef57c0d228e0ae1def51558c882ac02707c10860707b8c305204a089"
        "ab9b9216f3ea2a71282dd8d302627b34f9fe6ee86337261a86158f0e8391f44f",
    ),
    (
        "POST",
        "/api/v4/spot/orders",
        "",
        '{"currency_pair":"BTC_USDT"}',
        "7a6844f04a92f6f8e784a23ae7824eeee29ea083548b3253eca57e747981aaf8"
        "e9cee3c95ddecf68be412b2dd1a3439f908975c2ed06564230dce9b8e5f40031",
    ),
]

# The docs' key list example shows `c5dcfbf1f3a7*****`: this key is that one.
API_KEY = "c5dcfbf1f3a7" + "0123456789abcdef0123"
SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(API_KEY, SECRET)


# --- signing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, query, body, expected", VECTORS)
def test_derived_sdk_vectors_reproduce(method, path, query, body, expected):
    headers = gate.auth_headers(
        Credentials(VECTOR_KEY, VECTOR_SECRET), VECTOR_TS, method, path, query, body
    )
    assert headers["SIGN"] == expected
    assert headers["KEY"] == VECTOR_KEY and headers["Timestamp"] == "1700000000"


def test_empty_body_hash_is_sha512_of_nothing():
    assert gate.body_hash("").startswith("cf83e135")
    assert gate.body_hash("").endswith("927da3e")


def test_query_is_signed_unescaped():
    # The SDK signs `unquote_plus(query)` (§5.2): an escaped and a plain query sign alike.
    escaped = gate.signature_payload("GET", "/api/v4/x", "a=b%20c&d=e%2Cf", "", 1)
    assert escaped.split("\n")[2] == "a=b c&d=e,f"


def ccxt_sign(path: str, api: list[str], params: dict[str, Any], method: str = "GET") -> dict:
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.gate({"apiKey": VECTOR_KEY, "secret": VECTOR_SECRET})
    # ccxt's nonce is in milliseconds and it signs whole seconds of it.
    exchange.nonce = lambda: VECTOR_TS * 1000
    return exchange.sign(path, api, method, params)


@pytest.mark.parametrize(
    "ccxt_path, api, params, our_path, query",
    [
        ("main_keys", ["private", "account"], {}, gate.MAIN_KEYS_PATH, ""),
        ("detail", ["private", "account"], {}, gate.ACCOUNT_DETAIL_PATH, ""),
        ("accounts", ["private", "spot"], {}, gate.SPOT_ACCOUNTS_PATH, ""),
        (
            "accounts",
            ["private", "spot"],
            {"currency": "USDT"},
            gate.SPOT_ACCOUNTS_PATH,
            "currency=USDT",
        ),
        (
            "{settle}/accounts",
            ["private", "futures"],
            {"settle": "usdt"},
            gate.FUTURES_ACCOUNTS_PATH,
            "",
        ),
    ],
)
def test_signed_requests_equal_ccxt(ccxt_path, api, params, our_path, query):
    theirs = ccxt_sign(ccxt_path, api, params)
    ours = gate.auth_headers(
        Credentials(VECTOR_KEY, VECTOR_SECRET), VECTOR_TS, "GET", our_path, query
    )
    assert theirs["url"] == HOST + our_path + (f"?{query}" if query else "")
    assert theirs["body"] is None
    for name in ("KEY", "Timestamp", "SIGN", "Content-Type"):
        assert ours[name] == theirs["headers"][name], name
    # ccxt adds `X-Gate-Size-Decimal: 1` on futures calls (its decimal contract sizes); it is
    # not signed and a balance read does not need it, so the client does not send it.
    assert set(theirs["headers"]) - set(ours) <= {"X-Gate-Size-Decimal"}


def test_client_signs_its_calls_in_whole_seconds_of_the_exchange_clock(rsps, credentials):
    healthy(rsps)
    run(credentials)
    signed = [c.request for c in rsps.calls if "SIGN" in c.request.headers]
    assert {r.headers["Timestamp"] for r in signed} == {str(NOW_MS // 1000)}
    for request in signed:
        path = request.path_url.split("?")[0]
        expected = gate.sign(
            SECRET, gate.signature_payload("GET", path, "", "", request.headers["Timestamp"])
        )
        assert request.headers["SIGN"] == expected


# --- the documented answers ----------------------------------------------------------------


def healthy(
    rsps,
    *,
    main_keys: Any = None,
    detail: Any = None,
    detail_status: int = 200,
    main_keys_status: int = 200,
    futures: Any = None,
    futures_status: int = 200,
):
    time_body = load("gate_spot_time")
    time_body["server_time"] = NOW_MS
    rsps.add(responses.GET, f"{HOST}/api/v4/spot/time", json=time_body)
    rsps.add(
        responses.GET,
        f"{HOST}/api/v4/account/main_keys",
        json=load("gate_main_keys") if main_keys is None else main_keys,
        status=main_keys_status,
    )
    rsps.add(
        responses.GET,
        f"{HOST}/api/v4/account/detail",
        json=load("gate_account_detail") if detail is None else detail,
        status=detail_status,
    )
    rsps.add(responses.GET, f"{HOST}/api/v4/spot/accounts", json=load("gate_spot_accounts"))
    rsps.add(
        responses.GET,
        f"{HOST}/api/v4/futures/usdt/accounts",
        json=load("gate_futures_accounts") if futures is None else futures,
        status=futures_status,
    )


def run(credentials, market=Market.SPOT):
    return GateClient(clock=FakeClock()).run_checks(credentials, market)


def test_docs_examples_make_a_spot_report(rsps, credentials):
    healthy(rsps)
    report = run(credentials)
    assert report.verdict == "online", report.to_dict()
    assert checks(report) == {
        "reachable": ("ok", "reachable"),
        "credentials": ("ok", "credentials_accepted"),
        "balances": ("ok", "balances_read"),
        "trade_permission": ("ok", "trade_limited_to_pairs"),
        "futures_permission": ("skipped", "not_futures_market"),
        "withdrawal": ("not_verifiable", "gate_no_withdrawal_flag"),
        "ip_restriction": ("ok", "ip_restricted"),
        "key_expiry": ("not_verifiable", "not_reported"),
    }
    # The caller is `test1` of the list (prefix c5dcfbf1f3a7); the whitelists come from
    # account/detail, which describes the calling key.
    assert report.raw_permissions == ["account", "spot"]
    assert report.permissions == ["read", "spot"]
    assert report.key_pairs == ["USDT/BTC"]
    assert report.balances == [
        {"asset": "USDT", "free": "0.73402", "locked": "0"},
        {"asset": "BTC", "free": "0.0123", "locked": "0.001"},
    ]
    assert report.to_dict()["key_pairs"] == ["USDT/BTC"]
    assert type(report).from_dict(report.to_dict()).key_pairs == ["USDT/BTC"]


def test_docs_examples_make_a_futures_report(rsps, credentials):
    keys = load("gate_main_keys")
    keys[0]["perms"].append({"name": "futures", "read_only": False})
    healthy(rsps, main_keys=keys)
    report = run(credentials, Market.FUTURES)
    assert report.verdict == "online", report.to_dict()
    assert checks(report)["futures_permission"] == ("ok", "futures_enabled")
    # equity = total + unrealised PnL; available as reported.
    assert report.balances == [{"asset": "USDT", "equity": "25.828551513326", "available": "0"}]


def test_key_list_entry_is_the_fallback_for_the_whitelists(rsps, credentials):
    healthy(rsps, detail={"user_id": 1, "key": {"mode": 1}})
    report = run(credentials)
    assert report.key_pairs == ["BTC/USD", "ETH/USD"]
    assert checks(report)["ip_restriction"] == ("warning", "ip_not_set")
    assert checks(report)["key_expiry"] == ("not_verifiable", "gate_unbound_expires_90d")


def test_key_missing_from_the_list_leaves_trading_unverified(rsps):
    healthy(rsps)
    report = run(Credentials("ffff" * 8, SECRET))
    assert checks(report)["trade_permission"] == ("not_verifiable", "gate_key_not_listed")
    assert checks(report)["withdrawal"] == ("not_verifiable", "gate_no_withdrawal_flag")
    assert checks(report)["ip_restriction"] == ("ok", "ip_restricted")


def test_single_object_answer_describes_the_caller(rsps, credentials):
    entry = load("gate_main_keys")[1]
    entry["key"] = {"mode": 1}
    entry["perms"].append({"name": "wallet", "read_only": False})
    healthy(rsps, main_keys=entry)
    report = run(credentials)
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert checks(report)["withdrawal"] == ("failed", "gate_wallet_writable")


def test_wallet_without_read_only_flag_counts_as_writable(rsps, credentials):
    keys = load("gate_main_keys")
    keys[0]["perms"].append({"name": "wallet"})
    healthy(rsps, main_keys=keys)
    assert run(credentials).category == Category.WITHDRAWAL_ENABLED


def test_locked_key_state_is_named(rsps, credentials):
    keys = load("gate_main_keys")
    keys[0]["state"] = 2
    healthy(rsps, main_keys=keys)
    report = run(credentials)
    assert report.check(CheckName.CREDENTIALS).code == "gate_key_locked"
    assert report.check(CheckName.CREDENTIALS).params["state"] == 2


def test_no_account_permission_falls_back_to_balances(rsps, credentials):
    refusal = load("gate_errors")["no_account_permission"]
    healthy(rsps, main_keys=refusal, main_keys_status=403, detail=refusal, detail_status=403)
    report = run(credentials, Market.FUTURES)
    assert report.verdict == "online"
    assert checks(report)["trade_permission"] == (
        "not_verifiable",
        "gate_account_permission_missing",
    )
    assert checks(report)["futures_permission"] == ("ok", "futures_account_readable")
    assert report.key_pairs is None


def test_no_futures_account_yet_is_explained(rsps, credentials):
    healthy(
        rsps,
        futures={"label": "USER_NOT_FOUND", "message": "please transfer funds first"},
        futures_status=400,
    )
    report = run(credentials, Market.FUTURES)
    assert report.category == Category.FUTURES_NOT_PERMITTED
    assert checks(report)["balances"] == ("failed", "gate_futures_account_missing")


def test_server_time_is_read_in_ms():
    reply = Reply("time", 200, {}, "", load("gate_spot_time"), True, 1, 0.0, 0.0)
    assert GateClient().server_time_ms(reply) == 1731447921098


def test_pairs_read_the_public_lists():
    pairs = [
        {"id": "BTC_USDT", "base": "BTC", "quote": "USDT", "trade_status": "tradable"},
        {"id": "X_USDT", "base": "X", "quote": "USDT", "trade_status": "sellable"},
    ]
    contracts = [
        {"name": "BTC_USDT", "in_delisting": False, "status": "trading"},
        {"name": "ETH_USDT", "in_delisting": False},
        {"name": "OLD_USDT", "in_delisting": True},
        {"name": "SUS_USDT", "status": "suspend"},
        {"name": "BTC_USDT_20200814"},
    ]

    def get(url: str):
        return contracts if url.endswith("/futures/usdt/contracts") else pairs

    client = GateClient()
    assert client.pairs(get, Market.SPOT) == ["BTC/USDT"]
    assert client.pairs(get, Market.FUTURES) == ["BTC/USDT", "ETH/USDT"]


# --- the error table -------------------------------------------------------------------------


def reply(status: int, body: Any, name: str = "main_keys", headers=None) -> Reply:
    return Reply(name, status, headers or {}, "", body, True, 1, 0.0, 0.0)


@pytest.mark.parametrize(
    "label, status, category, detail",
    [
        ("INVALID_KEY", 401, Category.INVALID_KEY, "gate_invalid_key"),
        ("INVALID_CREDENTIALS", 401, Category.INVALID_KEY, None),
        ("INVALID_SIGNATURE", 401, Category.INVALID_KEY, None),
        ("MISSING_REQUIRED_HEADER", 400, Category.INVALID_KEY, None),
        ("IP_FORBIDDEN", 401, Category.IP_NOT_ALLOWED, None),
        ("READ_ONLY", 403, Category.NO_TRADE_PERMISSION, None),
        ("FORBIDDEN", 403, Category.NO_TRADE_PERMISSION, None),
        ("REQUEST_EXPIRED", 401, Category.CLOCK_SKEW, None),
        ("ACCOUNT_LOCKED", 403, Category.ACCOUNT_RESTRICTED, None),
    ],
)
def test_permanent_labels(label, status, category, detail):
    error = gate.classify(reply(status, {"label": label, "message": "x"}))
    assert error is not None and not error.temporary
    assert (error.category, error.detail, error.exchange_code) == (category, detail, label)


@pytest.mark.parametrize("name", ["ip_forbidden", "ip_as_forbidden"])
def test_ip_refusals_carry_the_callers_ip(name):
    error = gate.classify(reply(401, load("gate_errors")[name]))
    assert error.category == Category.IP_NOT_ALLOWED
    assert error.reported_ip == "142.163.85.117"


def test_permission_refusal_on_futures_is_futures_not_permitted():
    body = {"label": "FORBIDDEN", "message": "no permission for futures"}
    error = gate.classify(reply(403, body), futures_call=True)
    assert error.category == Category.FUTURES_NOT_PERMITTED


def test_user_not_found_on_futures_means_no_futures_account():
    body = {"label": "USER_NOT_FOUND", "message": "please transfer funds first"}
    error = gate.classify(reply(400, body), futures_call=True)
    assert (error.category, error.detail) == (
        Category.FUTURES_NOT_PERMITTED,
        "gate_futures_account_missing",
    )


@pytest.mark.parametrize(
    "label, status", [("TOO_MANY_REQUESTS", 429), ("SERVER_ERROR", 500), ("TOO_BUSY", 503)]
)
def test_temporary_labels(label, status):
    error = gate.classify(reply(status, {"label": label, "message": "x"}))
    assert isinstance(error, TemporaryExchangeError)


def test_rate_limit_waits_for_retry_after_or_the_reset_timestamp():
    body = {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"}
    assert gate.classify(reply(429, body, headers={"Retry-After": "3"})).retry_after == 3
    assert gate.reset_wait({"X-Gate-RateLimit-Reset-Timestamp": "1000000005"}, 1_000_000_000) == 5
    ms = {"X-Gate-RateLimit-Reset-Timestamp": "1000000004000"}
    assert gate.reset_wait(ms, 1_000_000_000) == 4
    assert gate.reset_wait({"X-Gate-RateLimit-Reset-Timestamp": "junk"}) is None


def test_unknown_labels_are_temporary_and_401_without_label_is_the_key():
    assert gate.classify(reply(400, {"label": "SOMETHING_NEW", "message": ""})).temporary
    assert gate.classify(reply(401, {"message": "?"})).category == Category.INVALID_KEY


def test_successes_are_not_errors():
    assert gate.classify(reply(200, [])) is None
    assert gate.classify(reply(200, {"server_time": 1})) is None


@pytest.mark.parametrize("market", [Market.SPOT, Market.FUTURES])
def test_requests_the_client_sends_equal_ccxts(rsps, market):
    ccxt = pytest.importorskip("ccxt")
    healthy(rsps)
    GateClient(clock=FakeClock()).run_checks(Credentials(VECTOR_KEY, VECTOR_SECRET), market)
    ccxt_calls = {
        "/api/v4/account/main_keys": ("main_keys", ["private", "account"], {}),
        "/api/v4/account/detail": ("detail", ["private", "account"], {}),
        "/api/v4/spot/accounts": ("accounts", ["private", "spot"], {}),
        "/api/v4/futures/usdt/accounts": (
            "{settle}/accounts",
            ["private", "futures"],
            {"settle": "usdt"},
        ),
    }
    sent = [c.request for c in rsps.calls if "SIGN" in c.request.headers]
    assert len(sent) == 3
    for request in sent:
        exchange = ccxt.gate({"apiKey": VECTOR_KEY, "secret": VECTOR_SECRET})
        stamp = int(request.headers["Timestamp"])
        exchange.nonce = lambda stamp=stamp: stamp * 1000
        path, api, params = ccxt_calls[request.path_url]
        theirs = exchange.sign(path, api, "GET", params)
        assert request.url == theirs["url"]
        assert not request.body and theirs["body"] is None
        for name in ("KEY", "Timestamp", "SIGN", "Content-Type"):
            assert request.headers[name] == theirs["headers"][name], name
