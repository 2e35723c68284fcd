"""Coinbase Advanced Trade: JWT signing (the §8.2 vector, the ccxt oracle), pasted key
formats, the error table and the documented response shapes (`responses` mocks)."""

from __future__ import annotations

import base64
import json

import pytest
import responses
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from connections.exchanges import coinbase, registry
from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    Market,
    TemporaryExchangeError,
)
from connections.exchanges.coinbase import (
    CoinbaseClient,
    KeyFormatError,
    build_jwt,
    jwt_uri,
    load_private_key,
    normalise,
)
from connections.exchanges.http import Reply

from .conftest import NOW, NOW_MS, FakeClock, load, outcomes

BASE = "https://api.coinbase.com"

# The official SDK's test key material (coinbase-advanced-py tests/constants.py, §8.2).
SDK_KEY_NAME = "organizations/test-organization/apiKeys/test-api-key"
SDK_EC_PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\n"
    "AwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\n"
    "qDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n"
    "-----END EC PRIVATE KEY-----\n"
)
SDK_ED25519 = (
    "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA=="
)
SDK_ED25519_PKCS8 = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJNAVJ4tKdL2RtQXaVY0uqIASe5MZut9ACdnTfrbqbrQ\n"
    "-----END PRIVATE KEY-----\n"
)
SDK_ED25519_SEED = "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputA="

# exchanges-more.md §8.2: the deterministic EdDSA token (PyJWT 2.15.1, the SDK's Ed25519
# test key, nbf 1700000000, nonce 00112233445566778899aabbccddeeff).
VECTOR_URI = "GET api.coinbase.com/api/v3/brokerage/key_permissions"
VECTOR_TOKEN = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6Im9yZ2FuaXphdGlvbnMvdGVzdC1vcmdhbml6YXRpb24vYXBpS2V5cy90ZXN0"
    "LWFwaS1rZXkiLCJub25jZSI6IjAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZmIiwidHlwIjoiSldUIn0."
    "eyJzdWIiOiJvcmdhbml6YXRpb25zL3Rlc3Qtb3JnYW5pemF0aW9uL2FwaUtleXMvdGVzdC1hcGkta2V5IiwiaXNz"
    "IjoiY2RwIiwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAxMjAsInVyaSI6IkdFVCBhcGkuY29pbmJhc2Uu"
    "Y29tL2FwaS92My9icm9rZXJhZ2Uva2V5X3Blcm1pc3Npb25zIn0."
    "4QbVWelmt1y5ZwZsu11SiiS5VgZunrXfjXyX64Wn4sZcMpZraVwd4Af-bFkXMSvIuFHKmqNd5GC34fM1dzA0Ag"
)


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode(token: str) -> tuple[dict, dict, bytes, bytes]:
    head, body, signature = token.split(".")
    return (
        json.loads(b64url(head)),
        json.loads(b64url(body)),
        f"{head}.{body}".encode(),
        b64url(signature),
    )


def verify_es256(token: str, pem: str) -> tuple[dict, dict]:
    """Verify with the public key: ES256 signatures are randomized, so no string vector."""
    header, claims, signed, signature = decode(token)
    assert len(signature) == 64  # JWS r ‖ s, not DER
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    load_private_key(pem).public_key().verify(der, signed, ec.ECDSA(hashes.SHA256()))
    return header, claims


# --- signing -------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [SDK_ED25519, SDK_ED25519_PKCS8, SDK_ED25519_SEED])
def test_eddsa_token_reproduces_the_documented_vector_from_every_key_form(secret):
    token = build_jwt(
        SDK_KEY_NAME,
        load_private_key(secret),
        uri=VECTOR_URI,
        now_s=1_700_000_000,
        nonce="00112233445566778899aabbccddeeff",
    )
    assert token == VECTOR_TOKEN


def test_es256_token_verifies_with_the_public_key_and_carries_the_sdk_claims():
    token = build_jwt(
        SDK_KEY_NAME, load_private_key(SDK_EC_PEM), uri=VECTOR_URI, now_s=1_700_000_000
    )
    header, claims = verify_es256(token, SDK_EC_PEM)
    assert header["alg"] == "ES256" and header["typ"] == "JWT" and header["kid"] == SDK_KEY_NAME
    assert len(header["nonce"]) == 64 and int(header["nonce"], 16) >= 0  # secrets.token_hex()
    assert claims == {
        "sub": SDK_KEY_NAME,
        "iss": "cdp",
        "nbf": 1_700_000_000,
        "exp": 1_700_000_120,
        "uri": VECTOR_URI,
    }


def test_every_token_has_a_fresh_nonce():
    key = load_private_key(SDK_EC_PEM)
    first = decode(build_jwt(SDK_KEY_NAME, key, uri=VECTOR_URI, now_s=1))[0]["nonce"]
    second = decode(build_jwt(SDK_KEY_NAME, key, uri=VECTOR_URI, now_s=1))[0]["nonce"]
    assert first != second


@pytest.mark.parametrize(
    ("base", "path", "uri"),
    [
        (
            BASE,
            "/api/v3/brokerage/accounts?limit=250",
            "GET api.coinbase.com/api/v3/brokerage/accounts",
        ),
        (
            "http://127.0.0.1:8907",
            "/api/v3/brokerage/time",
            "GET 127.0.0.1:8907/api/v3/brokerage/time",
        ),
        ("https://proxy.example:8443/", "/x", "GET proxy.example:8443/x"),
    ],
)
def test_uri_claim_is_method_host_as_configured_and_path_without_query(base, path, uri):
    assert jwt_uri("get", base.rstrip("/"), path) == uri


def test_ccxt_oracle_es256_same_request_shape_and_uri_but_its_older_issuer():
    # ccxt is a test-only oracle. It still signs ES256 tokens the pre-2024-05 way
    # (iss "coinbase-cloud", aud, iat: ccxt:coinbase.py L4920-4958), while the official SDK
    # sends iss "cdp" since v1.4.1 (§8.2, §11): we follow the SDK and compare the rest.
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.coinbase({"apiKey": SDK_KEY_NAME, "secret": SDK_EC_PEM})
    exchange.seconds = lambda: 1_700_000_000
    signed = exchange.sign("brokerage/key_permissions", ["v3", "private"], "GET", {})
    client = CoinbaseClient()
    ours = coinbase.auth_headers(
        Credentials(SDK_KEY_NAME, SDK_EC_PEM),
        "GET",
        client.base_urls["coinbase"],
        coinbase.KEY_PERMISSIONS_PATH,
        1_700_000_000,
    )
    assert signed["url"] == client.url("coinbase", coinbase.KEY_PERMISSIONS_PATH)
    assert signed["body"] is None
    assert set(signed["headers"]) == set(ours) == {"Authorization", "Content-Type"}
    assert signed["headers"]["Content-Type"] == ours["Content-Type"]
    theirs_header, theirs = verify_es256(signed["headers"]["Authorization"][7:], SDK_EC_PEM)
    our_header, claims = verify_es256(ours["Authorization"][7:], SDK_EC_PEM)
    for field in ("alg", "kid"):
        assert theirs_header[field] == our_header[field]
    for field in ("sub", "nbf", "exp", "uri"):
        assert theirs[field] == claims[field], field
    assert (theirs["iss"], claims["iss"]) == ("coinbase-cloud", "cdp")


def test_ccxt_oracle_eddsa_same_signer_and_uri():
    # For Ed25519 ccxt sends iss "cdp" like the SDK, but `uris` (a list) and `aud`/`iat`
    # instead of the SDK's `uri` (ccxt:coinbase.py L4931-4955): the key and the signed path
    # are compared, and ccxt's token verifies with the same public key ours does.
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.coinbase({"apiKey": SDK_KEY_NAME, "secret": SDK_ED25519})
    exchange.seconds = lambda: 1_700_000_000
    signed = exchange.sign("brokerage/key_permissions", ["v3", "private"], "GET", {})
    header, claims, signing_input, signature = decode(signed["headers"]["Authorization"][7:])
    public = load_private_key(SDK_ED25519).public_key()
    public.verify(signature, signing_input)
    assert header["alg"] == "EdDSA" and header["kid"] == SDK_KEY_NAME
    assert claims["iss"] == "cdp" and claims["sub"] == SDK_KEY_NAME
    assert claims["uris"] == [VECTOR_URI]


# --- pasted key formats --------------------------------------------------------------------


def test_pem_whose_line_breaks_a_password_input_dropped_is_rebuilt():
    flattened = SDK_EC_PEM.replace("\n", "")
    key, secret, _ = normalise(f" {SDK_KEY_NAME} ", flattened, "")
    assert key == SDK_KEY_NAME
    assert secret == SDK_EC_PEM
    assert not registry.get("coinbase").validate(key, secret)


def test_pem_with_literal_backslash_n_escapes_is_rebuilt():
    _, secret, _ = normalise(SDK_KEY_NAME, SDK_EC_PEM.replace("\n", "\\n"), "")
    assert secret == SDK_EC_PEM


@pytest.mark.parametrize("field", ["api_key", "api_secret"])
def test_downloaded_key_file_pasted_whole_into_either_field(field):
    file_text = json.dumps(
        {
            "name": SDK_KEY_NAME,
            "privateKey": SDK_EC_PEM,
            "nickname": "bot",
            "scopes": ["rat#view", "rat#trade"],
            "allowedIps": [],
            "keyType": "TRADING_KEY",
            "enabled": True,
        },
        indent=3,
    )
    # A password input or a text input drops the file's own line breaks.
    pasted = file_text.replace("\n", "")
    values = {"api_key": "", "api_secret": ""}
    values[field] = pasted
    key, secret, _ = normalise(values["api_key"], values["api_secret"], "")
    assert (key, secret) == (SDK_KEY_NAME, SDK_EC_PEM)
    assert not registry.get("coinbase").validate(key, secret)


def test_key_file_with_an_id_and_base64_ed25519_key():
    file_text = json.dumps(
        {"id": "d2efa49a-369c-43d7-a60e-ae26e28853c2", "privateKey": SDK_ED25519}
    )
    key, secret, _ = normalise("", file_text, "")
    assert (key, secret) == ("d2efa49a-369c-43d7-a60e-ae26e28853c2", SDK_ED25519)
    assert not registry.get("coinbase").validate(key, secret)


@pytest.mark.parametrize("secret", [SDK_EC_PEM, SDK_ED25519, SDK_ED25519_PKCS8, SDK_ED25519_SEED])
def test_every_cdp_key_form_passes_the_form(secret):
    key, secret, _ = normalise(SDK_KEY_NAME, secret, "")
    assert not registry.get("coinbase").validate(key, secret)
    load_private_key(secret)


def test_legacy_hmac_key_is_rejected_by_the_form_and_the_client():
    # Coinbase Pro / legacy keys: a 16-character key and a 32-character HMAC secret.
    errors = registry.get("coinbase").validate("Ab12Cd34Ef56Gh78", "a" * 32)
    assert errors == {"api_key": "malformed", "api_secret": "malformed"}
    with pytest.raises(KeyFormatError):
        load_private_key("a" * 32)


def test_registry_entry_is_spot_only_and_lists_its_rate_limits():
    spec = registry.get("coinbase")
    assert spec.markets == (Market.SPOT,)
    assert not spec.needs_passphrase and not spec.demo_environment
    assert {r.endpoint for r in spec.rate_limits} == {
        "GET /api/v3/brokerage/time",
        "GET /api/v3/brokerage/key_permissions",
        "GET /api/v3/brokerage/accounts",
    }
    assert CheckName.IP_RESTRICTION not in spec.verifies
    assert CheckName.WITHDRAWAL in spec.verifies


# --- error table ---------------------------------------------------------------------------


def reply(status, body=None, text=None, headers=None, name="accounts"):
    if text is None:
        text = json.dumps(body)
    return Reply(name, status, headers or {}, text, body, body is not None, 1, NOW, NOW)


@pytest.mark.parametrize(
    ("answer", "category", "detail"),
    [
        (reply(401, text="Unauthorized\n"), Category.INVALID_KEY, "coinbase_unauthorized"),
        (
            reply(401, {"error": "unauthorized", "message": "Unauthorized"}),
            Category.INVALID_KEY,
            "coinbase_unauthorized",
        ),
        (reply(401, {"error": "invalid_token"}), Category.INVALID_KEY, "coinbase_unauthorized"),
        (reply(401, {"error": "expired_token"}), Category.INVALID_KEY, "coinbase_unauthorized"),
        (
            reply(
                403,
                {
                    "error": "PERMISSION_DENIED",
                    "error_details": "Missing required scopes",
                    "message": "Missing required scopes",
                },
            ),
            Category.NO_TRADE_PERMISSION,
            None,
        ),
        (reply(403, {"error": "invalid_scope"}), Category.NO_TRADE_PERMISSION, None),
        (
            reply(403, {"error": "PERMISSION_DENIED", "message": "Account suspended"}),
            Category.ACCOUNT_RESTRICTED,
            None,
        ),
        (
            reply(401, {"error": "unauthorized", "message": "IP 198.51.100.7 not allowed"}),
            Category.IP_NOT_ALLOWED,
            None,
        ),
    ],
)
def test_permanent_errors(answer, category, detail):
    error = coinbase.classify(answer)
    assert error is not None and not error.temporary
    assert error.category == category
    assert error.detail == detail


def test_ip_wording_reports_the_callers_ip():
    error = coinbase.classify(
        reply(401, {"error": "unauthorized", "message": "IP 198.51.100.7 not allowed"})
    )
    assert error.reported_ip == "198.51.100.7"


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        (
            reply(
                429,
                {"error": "rate_limit_exceeded", "message": "Too many requests"},
                headers={"Retry-After": "3"},
            ),
            3,
        ),
        (reply(429, {"error": "rate_limit_exceeded"}, headers={"x-ratelimit-reset": "2"}), 2),
        (reply(429, text="<html>429</html>"), None),
        (reply(500, {"error": "INTERNAL", "message": "internal error"}), None),
        (reply(503, text="<html>down</html>"), None),
        (reply(418, {"error": "teapot"}), None),
    ],
)
def test_temporary_errors(answer, retry_after):
    error = coinbase.classify(answer)
    assert isinstance(error, TemporaryExchangeError)
    assert error.category == Category.EXCHANGE_UNAVAILABLE
    assert error.retry_after == retry_after


def test_success_is_no_error():
    assert coinbase.classify(reply(200, load("coinbase_key_permissions"))) is None


# --- documented responses through the client -----------------------------------------------


def mock(
    rsps,
    *,
    permissions=None,
    accounts=None,
    time_ms=NOW_MS,
    accounts_status=200,
    permissions_status=200,
):
    body = load("coinbase_time")
    body["epochMillis"], body["epochSeconds"] = str(time_ms), str(time_ms // 1000)
    rsps.add(responses.GET, f"{BASE}/api/v3/brokerage/time", json=body)
    rsps.add(
        responses.GET,
        f"{BASE}/api/v3/brokerage/key_permissions",
        json=permissions if permissions is not None else load("coinbase_key_permissions"),
        status=permissions_status,
    )
    rsps.add(
        responses.GET,
        f"{BASE}/api/v3/brokerage/accounts",
        json=accounts if accounts is not None else load("coinbase_accounts"),
        status=accounts_status,
    )


def run(market=Market.SPOT, secret=SDK_EC_PEM):
    client = CoinbaseClient(clock=FakeClock())
    return client.run_checks(Credentials(SDK_KEY_NAME, secret), market)


@responses.activate
def test_healthy_key_reads_permissions_portfolio_and_balances():
    mock(responses)
    report = run()
    assert report.verdict == "online", report.to_dict()
    checks = outcomes(report)
    assert checks["trade_permission"] == ("ok", "spot_trade_enabled")
    assert checks["withdrawal"] == ("ok", "withdrawal_disabled")
    assert checks["futures_permission"] == ("skipped", "not_futures_market")
    assert checks["ip_restriction"] == ("not_verifiable", "coinbase_ip_allowlist_hidden")
    assert checks["key_expiry"] == ("not_verifiable", "not_reported")
    assert checks["balances"] == ("ok", "coinbase_portfolio_balances")
    assert report.check(CheckName.BALANCES).params == {
        "count": 3,
        "portfolio_type": "DEFAULT",
        "portfolio_uuid": "8b1d2f6e-0c43-4a52-9d9e-3f1c2b7a6e01",
    }
    assert report.raw_permissions == ["View", "Trade"]
    # USDC and USD are kept (quote assets), DOGE (zero) is not; hold is the locked amount.
    assert report.balances == [
        {"asset": "USDC", "free": "812.34", "locked": "0"},
        {"asset": "USD", "free": "0", "locked": "0"},
        {"asset": "BTC", "free": "0.0125", "locked": "0.001"},
    ]
    # Every signed call carried a JWT for its own path, host as configured, no query.
    signed = [c for c in responses.calls if c.request.path_url != "/api/v3/brokerage/time"]
    assert len(signed) == 2
    for call in signed:
        token = call.request.headers["Authorization"][7:]
        _, claims = verify_es256(token, SDK_EC_PEM)
        assert claims["uri"] == "GET api.coinbase.com" + call.request.path_url.split("?")[0]
        assert claims["nbf"] == NOW_MS // 1000


@responses.activate
def test_sdk_mock_with_can_withdraw_is_read_as_a_read_only_key():
    mock(responses, permissions=load("coinbase_key_permissions_sdk_mock"))
    report = run()
    checks = outcomes(report)
    assert checks["trade_permission"] == ("failed", "trade_permission_missing")
    assert checks["withdrawal"] == ("ok", "withdrawal_disabled")
    # The SDK's mock has no portfolio_type: the portfolio is named by its ID alone.
    assert checks["balances"][1] == "coinbase_portfolio_id_balances"


@responses.activate
def test_transfer_permission_fails_the_test():
    body = load("coinbase_key_permissions")
    body["can_transfer"] = True
    mock(responses, permissions=body)
    report = run()
    assert report.category == Category.WITHDRAWAL_ENABLED
    assert report.raw_permissions == ["View", "Trade", "Transfer"]


@responses.activate
def test_sdk_time_mock_with_epoch_seconds_is_read():
    responses.add(
        responses.GET,
        f"{BASE}/api/v3/brokerage/time",
        json={"iso": "2022-01-01T00:00:00Z", "epoch": 1640995200},
    )
    client = CoinbaseClient(clock=FakeClock())
    reply_ = client.transport().send(client.time_calls(Market.SPOT)[0])
    assert client.server_time_ms(reply_) == 1_640_995_200_000


@pytest.mark.parametrize("signed_answers", ["accepted", "refused"])
@responses.activate
def test_large_clock_skew_fails_as_the_clock_before_any_signed_answer_is_read(signed_answers):
    # The signed calls went out with the time call (signed with our clock: nothing was
    # remembered), and came back; the skew beyond the JWT's lifetime is judged first, whether
    # Coinbase accepted them (a token it still took) or refused them (what an expired one gets).
    refused = {"error": "expired_token"}
    if signed_answers == "refused":
        mock(
            responses,
            time_ms=NOW_MS + 180_000,
            permissions=refused,
            permissions_status=401,
            accounts=refused,
            accounts_status=401,
        )
    else:
        mock(responses, time_ms=NOW_MS + 180_000)
    report = run()
    assert report.category == Category.CLOCK_SKEW
    assert outcomes(report)["credentials"] == ("failed", "clock_skew_beyond_limit")
    assert report.check(CheckName.CREDENTIALS).params == {"skew_s": 180, "limit_s": 120}
    # Nothing of the signed answers was read or reported, and nothing was sent again.
    assert outcomes(report)["balances"] == ("skipped", "not_run")
    assert report.balances == [] and report.raw_permissions == []
    assert set(report.latencies_ms) == {"time"}
    assert sorted(c.request.path_url for c in responses.calls) == [
        "/api/v3/brokerage/accounts?limit=250",
        "/api/v3/brokerage/key_permissions",
        "/api/v3/brokerage/time",
    ]


@responses.activate
def test_small_skew_is_signed_with_the_exchange_clock():
    mock(responses, time_ms=NOW_MS + 60_000)
    report = run()
    assert report.verdict == "online"
    signed = [c for c in responses.calls if c.request.path_url != "/api/v3/brokerage/time"]
    # Cold: first signed with our clock (answers dropped: 60 s is beyond the tolerance), then
    # with Coinbase's.
    nbf = [
        verify_es256(c.request.headers["Authorization"][7:], SDK_EC_PEM)[1]["nbf"] for c in signed
    ]
    assert nbf == [NOW_MS // 1000] * 2 + [(NOW_MS + 60_000) // 1000] * 2


@responses.activate
def test_legacy_secret_fails_without_a_signed_call():
    mock(responses)
    report = run(secret="a" * 32)
    assert report.category == Category.INVALID_KEY
    assert outcomes(report)["credentials"] == ("failed", "coinbase_not_cdp_key")
    # The time call still went out, alone, and was judged as in any test.
    assert [c.request.path_url for c in responses.calls] == ["/api/v3/brokerage/time"]
    assert outcomes(report)["reachable"] == ("ok", "reachable")


@responses.activate
def test_futures_market_is_refused_as_not_offered():
    mock(responses)
    report = run(market=Market.FUTURES)
    assert report.verdict == "failed"
    assert outcomes(report)["credentials"] == ("failed", "coinbase_spot_only")


@responses.activate
def test_missing_scope_on_accounts_fails_balances():
    mock(
        responses,
        accounts={
            "error": "PERMISSION_DENIED",
            "error_details": "Missing required scopes",
            "message": "Missing required scopes",
        },
        accounts_status=403,
    )
    report = run()
    assert outcomes(report)["balances"] == ("failed", "read_permission_missing")
    assert outcomes(report)["credentials"] == ("ok", "credentials_accepted")


def test_pairs_are_online_spot_products_open_for_trading():
    client = CoinbaseClient()
    payload = load("coinbase_products")
    seen = []

    def get(url):
        seen.append(url)
        return payload

    assert client.pairs(get, Market.SPOT) == ["BTC/USD", "ETH/USDC"]
    assert seen == [f"{BASE}/api/v3/brokerage/market/products?product_type=SPOT"]
    assert client.pairs(get, Market.FUTURES) == []


def test_the_product_signs_without_pyjwt_or_ccxt():
    from pathlib import Path

    source = Path(coinbase.__file__).read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "jwt" in line or "ccxt" in line]
