"""Signature vectors from exchanges.md §2.3, §3.3 and §3.4, and the signed requests we send."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from connections.exchanges import kucoin, mexc
from connections.exchanges.base import Market

from .conftest import (
    KUCOIN_PASSPHRASE,
    KUCOIN_SECRET,
    MEXC_KEY,
    MEXC_SECRET,
    NOW_MS,
    FakeClock,
    load,
)

MEXC_ORDER_PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
)


def test_mexc_spot_signature_matches_doc_example_2():
    # mexc-docs "SIGNED Endpoint Examples for POST /api/v3/order", Example 2 (§3.3).
    assert (
        mexc.sign_spot(MEXC_SECRET, MEXC_ORDER_PAYLOAD)
        == "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    )


def test_mexc_doc_example_1_value_is_a_doc_error():
    # Example 1 prints 323c96ab… for the same payload; its real HMAC is Example 2's value
    # (exchanges.md §0.4, §3.3). Reproducing it would mean our signing is wrong.
    assert (
        mexc.sign_spot(MEXC_SECRET, MEXC_ORDER_PAYLOAD)
        != "323c96ab85a745712e95e63cad28903dd8292e4a905e99c4ee3932023843a117"
    )


def test_mexc_spot_signature_of_mixed_query_and_body():
    # Query "...type=LIMIT" + body "quantity=1&..." concatenated without "&" (§3.3).
    payload = (
        "symbol=BTCUSDT&side=BUY&type=LIMITquantity=1&price=11&recvWindow=5000"
        "&timestamp=1644489390087"
    )
    assert (
        mexc.sign_spot(MEXC_SECRET, payload)
        == "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
    )


def test_mexc_spot_query_uses_the_documented_parameter_order():
    query = mexc.spot_query((), timestamp_ms=1644489390087)
    assert query == "recvWindow=5000&timestamp=1644489390087"
    # Derived vector for this order (§3.3).
    assert (
        mexc.sign_spot(MEXC_SECRET, query)
        == "1103ce19f47c037fc03b8b9d674e10ee76e53272851eb2a3b10321cd353fb9bf"
    )


def test_mexc_contract_signature_vector():
    # key + Request-Time + empty paramString for GET /api/v1/private/account/assets (§3.4).
    assert (
        mexc.sign_contract(MEXC_SECRET, MEXC_KEY, 1644489390087, "")
        == "8c0d829f0a56a0c771c2e0623e07a8f20d55a32b83a7eeb3b9c1c75d20c153b6"
    )


def test_mexc_contract_param_string_is_sorted_and_encoded():
    params = {"symbol": "BTC_USDT", "page_num": 1, "note": "a b", "skip": None}
    assert mexc.contract_param_string(params) == "note=a%20b&page_num=1&symbol=BTC_USDT"


def test_kucoin_signature_matches_official_sdk_vector():
    # Kucoin/kucoin-universal-sdk test_default_signer.py (§2.3).
    assert kucoin.sign("test_api_secret", "test_plain") == (
        "jie/gxS38wLFFaBwl/cAzFbAzlI8MIny96jSXrB+iP4="
    )


def test_kucoin_passphrase_is_hmac_signed():
    assert kucoin.sign_passphrase("test_api_secret", "test_passphrase") == (
        "Ikr9KjwgA4urCb5Az1TNKgQELW10z84iOq+wsZsRRz0="
    )


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("/api/v1/user/api-key", "Z50xf42zyjkGSu8pAvdDPjAF6j+3EewNDZ7P0Z6d+wc="),
        ("/api/v1/accounts?type=trade", "sT2uEBdLXaBuf4ejO9p8JN5G76aDtGWYHWZE17sD+/E="),
        (
            "/api/v1/account-overview?currency=USDT",
            "zDW9RNM4c3mt69bBDryIr8pg4JMZ+FkpF8jnSADR2Nk=",
        ),
    ],
)
def test_kucoin_request_signature_vectors(endpoint, expected):
    # Derived in exchanges.md §2.3 and cross-checked there against CCXT's kucoin.sign().
    assert kucoin.sign_request("test_api_secret", 1718000000000, "GET", endpoint) == expected


def test_kucoin_auth_headers_carry_no_broker_headers(kucoin_credentials):
    headers = kucoin.auth_headers(kucoin_credentials, NOW_MS, "GET", "/api/v1/user/api-key")
    assert set(headers) == {
        "KC-API-KEY",
        "KC-API-SIGN",
        "KC-API-TIMESTAMP",
        "KC-API-PASSPHRASE",
        "KC-API-KEY-VERSION",
        "Content-Type",
    }
    assert headers["KC-API-KEY-VERSION"] == "2"
    assert headers["KC-API-PASSPHRASE"] == kucoin.sign_passphrase(KUCOIN_SECRET, KUCOIN_PASSPHRASE)


def _mexc_time(ms: int) -> dict:
    body = load("mexc_time")
    body["serverTime"] = ms
    return body


def test_mexc_signed_requests_carry_a_signature_over_what_was_sent(rsps, mexc_credentials):
    skew = 2_500
    clock = FakeClock()
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/time", json=_mexc_time(NOW_MS + skew))
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", json=load("mexc_account"))
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})

    mexc.MexcClient(clock=clock).run_checks(mexc_credentials, Market.SPOT)

    signed = [c.request for c in rsps.calls if "signature=" in c.request.url]
    # Cold, the first signed calls went out with the time call signed with our own clock; 2.5 s
    # is beyond the tolerance, so their answers were dropped and the calls signed again.
    first, used = signed[:2], signed[2:]
    for calls in (first, used):
        assert {urlsplit(r.url).path for r in calls} == {"/api/v3/account", "/api/v3/order/test"}
    for request in signed:
        query = urlsplit(request.url).query
        unsigned, signature = query.rsplit("&signature=", 1)
        assert signature == mexc.sign_spot(MEXC_SECRET, unsigned + (request.body or ""))
        params = dict(parse_qsl(unsigned))
        assert params["recvWindow"] == "5000"
        # The answers read are those of calls signed with the exchange's time: our clock plus
        # the measured skew.
        assert int(params["timestamp"]) == (NOW_MS + skew if request in used else NOW_MS)
        assert request.headers["X-MEXC-APIKEY"] == MEXC_KEY
        assert request.headers["User-Agent"] == "BackFuture/1.0"
        assert MEXC_SECRET not in request.url
    order = next(r for r in signed if r.method == "POST")
    params = dict(parse_qsl(urlsplit(order.url).query))
    assert params["symbol"] == "BTCUSDT"
    assert params["side"] == "BUY"
    assert params["type"] == "LIMIT"


def test_mexc_contract_request_is_signed_with_headers(rsps, mexc_credentials):
    ping = load("mexc_contract_ping")
    ping["data"] = NOW_MS
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/time", json=_mexc_time(NOW_MS))
    rsps.add(responses.GET, "https://contract.mexc.com/api/v1/contract/ping", json=ping)
    rsps.add(
        responses.GET,
        "https://contract.mexc.com/api/v1/private/account/assets",
        json=load("mexc_contract_assets"),
    )

    mexc.MexcClient(clock=FakeClock()).run_checks(mexc_credentials, Market.FUTURES)

    request = next(c.request for c in rsps.calls if "private" in c.request.url)
    assert request.headers["ApiKey"] == MEXC_KEY
    assert request.headers["Request-Time"] == str(NOW_MS)
    assert request.headers["Signature"] == mexc.sign_contract(MEXC_SECRET, MEXC_KEY, NOW_MS, "")
    assert urlsplit(request.url).query == ""


def test_kucoin_signed_requests_carry_correct_headers(rsps, kucoin_credentials):
    timestamp = load("kucoin_timestamp")
    timestamp["data"] = NOW_MS - 700
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/timestamp", json=timestamp)
    rsps.add(
        responses.GET, "https://api.kucoin.com/api/v1/user/api-key", json=load("kucoin_api_key")
    )
    rsps.add(responses.GET, "https://api.kucoin.com/api/v1/accounts", json=load("kucoin_accounts"))

    kucoin.KucoinClient(clock=FakeClock()).run_checks(kucoin_credentials, Market.SPOT)

    signed = [c.request for c in rsps.calls if "KC-API-SIGN" in c.request.headers]
    # Cold: signed with our clock, sent with the time call, dropped (0.7 s is beyond the
    # tolerance) and signed again with KuCoin's.
    assert len(signed) == 4
    for n, request in enumerate(signed):
        headers = request.headers
        assert headers["KC-API-KEY"] == kucoin_credentials.api_key
        assert headers["KC-API-TIMESTAMP"] == str(NOW_MS - 700 if n >= 2 else NOW_MS)
        assert headers["KC-API-SIGN"] == kucoin.sign_request(
            KUCOIN_SECRET, headers["KC-API-TIMESTAMP"], request.method, request.path_url
        )
        assert headers["KC-API-PASSPHRASE"] == kucoin.sign_passphrase(
            KUCOIN_SECRET, KUCOIN_PASSPHRASE
        )
        assert headers["KC-API-KEY-VERSION"] == "2"
        assert not any(name.upper().startswith("KC-API-PARTNER") for name in headers)
        assert KUCOIN_PASSPHRASE not in str(headers)
