"""The exchange simulator itself, driven with plain `requests` (all on 127.0.0.1, which the
autouse `responses` mock passes through)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.simulator import FAULTS, ExchangeSimulator, SimKey
from tests.simulator.signing import (
    kucoin_passphrase,
    kucoin_request,
    kucoin_signature,
    mexc_futures_request,
    mexc_futures_signature,
    mexc_spot_request,
    mexc_spot_signature,
    now_ms,
)

REPO = Path(__file__).resolve().parents[2]


# --- helpers ------------------------------------------------------------------------------


def mexc_account(sim: ExchangeSimulator, key: SimKey, **kwargs: Any) -> requests.Response:
    return mexc_spot_request(
        sim.urls["mexc"], "GET", "/api/v3/account", key.api_key, key.secret, **kwargs
    ).send()


def mexc_assets(sim: ExchangeSimulator, key: SimKey, **kwargs: Any) -> requests.Response:
    return mexc_futures_request(
        sim.urls["mexc_futures"],
        "GET",
        "/api/v1/private/account/assets",
        key.api_key,
        key.secret,
        **kwargs,
    ).send()


def kucoin_get(
    sim: ExchangeSimulator, key: SimKey, endpoint: str, *, host: str = "kucoin", **kwargs: Any
) -> requests.Response:
    assert key.passphrase is not None
    return kucoin_request(
        sim.urls[host],
        "GET",
        endpoint,
        key.api_key,
        key.secret,
        key.passphrase,
        key_version=kwargs.pop("key_version", key.key_version),
        **kwargs,
    ).send()


def signed_call(sim: ExchangeSimulator, host: str, key: SimKey, **kwargs: Any) -> requests.Response:
    """One representative signed request per host."""
    if host == "mexc":
        return mexc_account(sim, key, **kwargs)
    if host == "mexc_futures":
        return mexc_assets(sim, key, **kwargs)
    if host == "kucoin":
        return kucoin_get(sim, key, "/api/v1/user/api-key", **kwargs)
    return kucoin_get(sim, key, "/api/v1/account-overview?currency=USDT", host=host, **kwargs)


PUBLIC_TIME = {
    "mexc": "/api/v3/time",
    "mexc_futures": "/api/v1/contract/ping",
    "kucoin": "/api/v1/timestamp",
    "kucoin_futures": "/api/v1/timestamp",
}
HOSTS = tuple(PUBLIC_TIME)


def exchange_of(host: str) -> str:
    return host.split("_")[0]


def error_code(response: requests.Response) -> str:
    return str(response.json()["code"])


@pytest.fixture
def keys(sim: ExchangeSimulator) -> dict[str, SimKey]:
    return {"mexc": sim.new_key("mexc"), "kucoin": sim.new_key("kucoin")}


# --- signing primitives: the documented vectors (exchanges.md §2.3, §3.3, §3.4) -----------


def test_mexc_spot_signature_matches_the_documented_vector():
    payload = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000"
        "&timestamp=1644489390087"
    )
    assert (
        mexc_spot_signature("45d0b3c26f2644f19bfb98b07741b2f5", payload)
        == "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    )


def test_mexc_futures_signature_matches_the_derived_vector():
    assert (
        mexc_futures_signature(
            "45d0b3c26f2644f19bfb98b07741b2f5", "mx0aBYs33eIilxBWC5", "1644489390087", ""
        )
        == "8c0d829f0a56a0c771c2e0623e07a8f20d55a32b83a7eeb3b9c1c75d20c153b6"
    )


def test_kucoin_signatures_match_the_documented_vectors():
    assert kucoin_signature("test_api_secret", "test_plain") == (
        "jie/gxS38wLFFaBwl/cAzFbAzlI8MIny96jSXrB+iP4="
    )
    assert kucoin_passphrase("test_api_secret", "test_passphrase") == (
        "Ikr9KjwgA4urCb5Az1TNKgQELW10z84iOq+wsZsRRz0="
    )
    assert kucoin_signature("test_api_secret", "1718000000000GET/api/v1/user/api-key") == (
        "Z50xf42zyjkGSu8pAvdDPjAF6j+3EewNDZ7P0Z6d+wc="
    )


# --- hosts and public endpoints -----------------------------------------------------------


def test_urls_cover_every_exchange_urls_key_on_loopback(sim):
    assert set(sim.urls) == {
        "mexc",
        "mexc_futures",
        "kucoin",
        "kucoin_futures",
        "binance",
        "binance_futures",
        "binance_demo",
        "binance_futures_demo",
    }
    assert all(url.startswith("http://127.0.0.1:") for url in sim.urls.values())
    assert len(set(sim.urls.values())) == 8
    setting = dict(item.split("=", 1) for item in sim.urls_setting().split(","))
    assert setting == sim.urls


def test_public_endpoints_answer_with_documented_shapes(sim):
    before = now_ms()
    mexc_time = requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5).json()
    assert abs(mexc_time["serverTime"] - before) < 2000
    ping = requests.get(sim.urls["mexc_futures"] + "/api/v1/contract/ping", timeout=5).json()
    assert ping["success"] is True and ping["code"] == 0 and isinstance(ping["data"], int)
    for host in ("kucoin", "kucoin_futures"):
        body = requests.get(sim.urls[host] + "/api/v1/timestamp", timeout=5).json()
        assert body["code"] == "200000" and abs(body["data"] - before) < 2000

    info = requests.get(sim.urls["mexc"] + "/api/v3/exchangeInfo", timeout=5).json()
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    assert btc["status"] == "1" and btc["isSpotTradingAllowed"] is True
    assert btc["baseAsset"] == "BTC" and btc["quoteAsset"] == "USDT"
    one = requests.get(
        sim.urls["mexc"] + "/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"}, timeout=5
    ).json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    defaults = requests.get(sim.urls["mexc"] + "/api/v3/defaultSymbols", timeout=5).json()
    assert defaults["code"] == 200 and defaults["msg"] is None and "BTCUSDT" in defaults["data"]
    assert "GENE1USDT" not in defaults["data"]

    detail = requests.get(sim.urls["mexc_futures"] + "/api/v1/contract/detail", timeout=5).json()
    contracts = {c["symbol"]: c for c in detail["data"]}
    assert contracts["BTC_USDT"]["apiAllowed"] is True
    assert contracts["SOL_USDT"]["apiAllowed"] is False

    symbols = requests.get(sim.urls["kucoin"] + "/api/v2/symbols", timeout=5).json()
    assert {"symbol": "BTC-USDT", "enableTrading": True}.items() <= symbols["data"][0].items()
    active = requests.get(sim.urls["kucoin_futures"] + "/api/v1/contracts/active", timeout=5).json()
    assert active["data"][0]["symbol"] == "XBTUSDTM" and active["data"][0]["status"] == "Open"


def test_unknown_path_and_wrong_method_get_the_exchange_error(sim):
    missing = requests.get(sim.urls["kucoin"] + "/api/v1/nope", timeout=5)
    assert missing.status_code == 404 and missing.json() == {
        "code": "404000",
        "msg": "Url Not Found",
    }
    wrong = requests.post(sim.urls["mexc"] + "/api/v3/time", timeout=5)
    assert wrong.status_code == 405


# --- signatures: good accepted, tampered rejected, for all four hosts ----------------------


@pytest.mark.parametrize("host", HOSTS)
def test_valid_signature_is_accepted(sim, keys, host):
    response = signed_call(sim, host, keys[exchange_of(host)])
    assert response.status_code == 200
    body = response.json()
    if host == "mexc":
        assert body["accountType"] == "SPOT" and body["permissions"] == ["SPOT"]
        assert {"asset": "USDT", "free": "1250.5", "locked": "0"} in body["balances"]
        assert body["canTrade"] is True and body["canWithdraw"] is False
    elif host == "mexc_futures":
        assert body["success"] is True
        usdt = next(row for row in body["data"] if row["currency"] == "USDT")
        assert usdt["availableBalance"] == 1250.5 and usdt["equity"] == 1250.5
    elif host == "kucoin":
        data = body["data"]
        assert body["code"] == "200000" and data["apiKey"] == keys["kucoin"].api_key
        assert data["permission"] == "General,Futures,Spot" and "ipWhitelist" not in data
        assert data["apiVersion"] == 2 and data["isMaster"] is True
    else:
        assert body["data"]["currency"] == "USDT" and body["data"]["availableBalance"] == 1250.5


TAMPERED = {
    "mexc": (400, "700002", "Signature for this request is not valid."),
    "mexc_futures": (200, "602", "Signature verification failed!"),
    "kucoin": (401, "400005", "Signature error"),
    "kucoin_futures": (401, "400005", "Signature error"),
}


@pytest.mark.parametrize("host", HOSTS)
def test_signature_made_with_another_secret_is_rejected(sim, keys, host):
    genuine = keys[exchange_of(host)]
    impostor = SimKey(
        genuine.exchange, genuine.api_key, "f" * 32, genuine.passphrase, key_version=2
    )
    if host.startswith("kucoin"):
        # Passphrase made with the right secret, so that only the signature is wrong.
        request = kucoin_request(
            sim.urls[host],
            "GET",
            "/api/v1/user/api-key" if host == "kucoin" else "/api/v1/account-overview",
            genuine.api_key,
            "f" * 32,
            "unused",
        )
        request.headers["KC-API-PASSPHRASE"] = kucoin_passphrase(
            genuine.secret, genuine.passphrase or ""
        )
        response = request.send()
    else:
        response = signed_call(sim, host, impostor)
    status, code, message = TAMPERED[host]
    assert response.status_code == status
    body = response.json()
    assert str(body["code"]) == code
    assert body.get("msg", body.get("message")) == message


def test_mexc_rejects_a_query_changed_after_signing(sim, keys):
    request = mexc_spot_request(
        sim.urls["mexc"], "GET", "/api/v3/account", keys["mexc"].api_key, keys["mexc"].secret
    )
    request.url = request.url.replace("recvWindow=5000", "recvWindow=6000")
    response = request.send()
    assert response.status_code == 400 and error_code(response) == "700002"


def test_mexc_signs_query_plus_body_in_the_order_sent(sim, keys):
    key = keys["mexc"]
    timestamp = now_ms()
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT"
    body = f"quantity=1&price=11&recvWindow=5000&timestamp={timestamp}"
    signature = mexc_spot_signature(key.secret, query + body)
    response = requests.post(
        f"{sim.urls['mexc']}/api/v3/order/test?{query}",
        data=f"{body}&signature={signature}",
        headers={"X-MEXC-APIKEY": key.api_key},
        timeout=5,
    )
    assert response.status_code == 200 and response.json() == {}


def test_mexc_unknown_and_malformed_keys_and_missing_parameters(sim):
    unknown = SimKey("mexc", "mx0AAAAAAAAAAAAAAA", "0" * 32, None)
    response = mexc_account(sim, unknown)
    assert response.status_code == 400
    assert response.json() == {"code": 10072, "msg": "invalid access key"}
    malformed = SimKey("mexc", "not-a-mexc-key", "0" * 32, None)
    assert error_code(mexc_account(sim, malformed)) == "700001"
    no_key = requests.get(sim.urls["mexc"] + "/api/v3/account?timestamp=1", timeout=5)
    assert no_key.json() == {"code": 400, "msg": "api key required"}


def test_mexc_recv_window_rules(sim, keys):
    key = keys["mexc"]
    # serverTime - timestamp <= recvWindow ...
    assert error_code(mexc_account(sim, key, timestamp=now_ms() - 6000)) == "700003"
    assert mexc_account(sim, key, timestamp=now_ms() - 6000, recv_window=10000).status_code == 200
    # ... and timestamp < serverTime + 1000.
    assert error_code(mexc_account(sim, key, timestamp=now_ms() + 1500)) == "700003"
    assert error_code(mexc_account(sim, key, recv_window=60001)) == "700005"


def test_mexc_order_test_needs_trade_permission(sim):
    read_only = sim.new_key("mexc", trade=False)
    response = mexc_spot_request(
        sim.urls["mexc"],
        "POST",
        "/api/v3/order/test",
        read_only.api_key,
        read_only.secret,
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "11"},
    ).send()
    assert response.json() == {"code": 700007, "msg": "No permission to access the endpoint."}
    assert mexc_account(sim, read_only).json()["canTrade"] is False


def test_mexc_futures_auth_errors(sim, keys):
    key = keys["mexc"]
    stale = mexc_assets(sim, key, request_time=now_ms() - 11_000)
    assert stale.json() == {"success": False, "code": 513, "message": "Invalid request time"}
    unknown = mexc_assets(sim, SimKey("mexc", "mx0BBBBBBBBBBBBBBB", "0" * 32, None))
    assert unknown.json()["code"] == 401
    params = mexc_futures_request(
        sim.urls["mexc_futures"],
        "GET",
        "/api/v1/private/account/assets",
        key.api_key,
        key.secret,
        {"currency": "USDT", "a b": "x,y"},
    ).send()
    assert params.json()["success"] is True
    no_futures = sim.new_key("mexc", futures=False)
    assert mexc_assets(sim, no_futures).json()["code"] == 701


def test_kucoin_auth_errors(sim, keys):
    key = keys["kucoin"]
    stale = kucoin_get(sim, key, "/api/v1/user/api-key", timestamp=now_ms() - 5_500)
    assert stale.status_code == 400 and error_code(stale) == "400002"
    plain = kucoin_get(sim, key, "/api/v1/user/api-key", key_version=1)
    assert plain.status_code == 401 and error_code(plain) == "400004"
    wrong_passphrase = kucoin_request(
        sim.urls["kucoin"], "GET", "/api/v1/accounts", key.api_key, key.secret, "nope"
    ).send()
    assert error_code(wrong_passphrase) == "400004"
    missing = requests.get(
        sim.urls["kucoin"] + "/api/v1/accounts", headers={"KC-API-KEY": key.api_key}, timeout=5
    )
    assert missing.status_code == 400 and error_code(missing) == "400001"
    unknown = SimKey("kucoin", "0" * 24, key.secret, "x")
    assert error_code(kucoin_get(sim, unknown, "/api/v1/accounts")) == "400003"


def test_kucoin_version_1_key_sends_its_passphrase_in_plain_text(sim):
    key = sim.new_key("kucoin", key_version=1)
    response = kucoin_get(sim, key, "/api/v1/user/api-key")
    assert response.status_code == 200 and response.json()["data"]["apiVersion"] == 1
    assert kucoin_get(sim, key, "/api/v1/user/api-key", key_version=2).status_code == 401


def test_kucoin_signs_the_decoded_path_with_its_query(sim, keys):
    key = keys["kucoin"]
    response = kucoin_get(sim, key, "/api/v1/accounts?type=trade&currency=USDT")
    assert [(a["currency"], a["type"]) for a in response.json()["data"]] == [("USDT", "trade")]
    everything = kucoin_get(sim, key, "/api/v1/accounts").json()["data"]
    assert {a["type"] for a in everything} == {"trade", "main"}


def test_kucoin_permissions_follow_the_key(sim):
    key = sim.new_key("kucoin", trade=False, futures=False, withdrawal=True)
    info = kucoin_get(sim, key, "/api/v1/user/api-key").json()["data"]
    assert info["permission"] == "General,Transfer"
    denied = kucoin_get(sim, key, "/api/v1/account-overview?currency=USDT", host="kucoin_futures")
    assert denied.json() == {"code": "400007", "msg": "Access denied, require more permission."}


# --- keys ---------------------------------------------------------------------------------


def test_generated_keys_look_like_the_exchanges(sim):
    mexc = sim.new_key("mexc")
    assert mexc.api_key.startswith("mx0") and len(mexc.api_key) == 18
    assert len(mexc.secret) == 32 and mexc.secret == mexc.secret.lower()
    int(mexc.secret, 16)
    kucoin = sim.new_key("kucoin")
    assert len(kucoin.api_key) == 24
    int(kucoin.api_key, 16)
    assert len(kucoin.secret) == 36 and kucoin.secret[14] == "4"
    assert kucoin.passphrase


def test_key_repr_never_shows_secrets(sim):
    key = sim.new_key("kucoin")
    assert key.secret not in repr(key) and key.passphrase not in repr(key)
    assert key.api_key not in repr(key)


def test_revoked_key_gets_the_unknown_key_error(sim, keys):
    assert sim.remove_key("mexc", keys["mexc"].api_key)
    assert sim.remove_key("kucoin", keys["kucoin"].api_key)
    assert not sim.remove_key("kucoin", keys["kucoin"].api_key)
    assert error_code(signed_call(sim, "mexc", keys["mexc"])) == "10072"
    assert signed_call(sim, "mexc_futures", keys["mexc"]).json()["code"] == 401
    revoked = signed_call(sim, "kucoin", keys["kucoin"])
    assert revoked.status_code == 401 and error_code(revoked) == "400003"


def test_seed_keys_is_fast_and_gives_distinct_working_keys(sim):
    started = time.perf_counter()
    seeded = sim.seed_keys(10_000, "kucoin", seed=7)
    assert time.perf_counter() - started < 3
    assert len({key.api_key for key in seeded}) == 10_000
    assert signed_call(sim, "kucoin", seeded[-1]).status_code == 200
    assert [k.api_key for k in sim.seed_keys(3, "mexc", seed=1)] == [
        k.api_key for k in ExchangeSimulator().seed_keys(3, "mexc", seed=1)
    ]


# --- IP whitelist -------------------------------------------------------------------------


def test_ip_whitelist_blocks_callers_outside_it(sim):
    mexc = sim.new_key("mexc", ip_whitelist=["203.0.113.10"])
    kucoin = sim.new_key("kucoin", ip_whitelist=["203.0.113.10", "198.51.100.0/24"])
    sim.caller_ip = "192.0.2.55"
    assert mexc_account(sim, mexc).json() == {
        "code": 700006,
        "msg": "IP [192.0.2.55] not in the whitelist",
    }
    assert mexc_assets(sim, mexc).json()["code"] == 406
    blocked = kucoin_get(sim, kucoin, "/api/v1/user/api-key")
    assert blocked.status_code == 403
    assert blocked.json() == {
        "code": "400006",
        "msg": "Invalid request ip, the current clientIp is:192.0.2.55",
    }
    sim.caller_ip = "203.0.113.10"
    assert mexc_account(sim, mexc).status_code == 200
    info = kucoin_get(sim, kucoin, "/api/v1/user/api-key").json()["data"]
    assert info["ipWhitelist"] == "203.**.10,198.**.0/24"
    sim.caller_ip = "198.51.100.77"
    assert kucoin_get(sim, kucoin, "/api/v1/accounts").status_code == 200


# --- faults -------------------------------------------------------------------------------


def test_every_documented_fault_is_known():
    assert {
        "ip_not_allowed",
        "invalid_signature",
        "maintenance",
        "html_502",
        "timeout",
        "reset",
        "malformed_json",
        "truncated_json",
        "rate_limited",
        "ip_banned",
        "clock_skew",
        "account_frozen",
    } == set(FAULTS)
    with pytest.raises(ValueError):
        ExchangeSimulator().set_fault("mexc", "gremlins")


IP_FAULT = {
    "mexc": (400, {"code": 700006, "msg": "IP [198.51.100.7] not in the whitelist"}),
    "mexc_futures": (
        200,
        {
            "success": False,
            "code": 406,
            "message": "Accessed IP [198.51.100.7] is not in the whitelist",
        },
    ),
    "kucoin": (
        403,
        {"code": "400006", "msg": "Invalid request ip, the current clientIp is:198.51.100.7"},
    ),
}
IP_FAULT["kucoin_futures"] = IP_FAULT["kucoin"]


@pytest.mark.parametrize("host", HOSTS)
def test_ip_not_allowed_fault_reports_an_ip_on_signed_calls_only(sim, keys, host):
    sim.set_fault(exchange_of(host), "ip_not_allowed")
    public = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert public.status_code == 200
    response = signed_call(sim, host, keys[exchange_of(host)])
    status, body = IP_FAULT[host]
    assert (response.status_code, response.json()) == (status, body)


def test_ip_fault_reports_a_configured_ip(sim, keys):
    sim.set_fault("kucoin", "ip_not_allowed", ip="203.0.113.200")
    assert signed_call(sim, "kucoin", keys["kucoin"]).json()["msg"].endswith(":203.0.113.200")


@pytest.mark.parametrize("host", HOSTS)
def test_invalid_signature_fault_rejects_a_correct_signature(sim, keys, host):
    sim.set_fault(exchange_of(host), "invalid_signature")
    response = signed_call(sim, host, keys[exchange_of(host)])
    status, code, _ = TAMPERED[host]
    assert (response.status_code, error_code(response)) == (status, code)


@pytest.mark.parametrize(
    ("host", "status", "code"),
    [
        ("mexc", 400, "60005"),
        ("mexc_futures", 200, "60005"),
        ("kucoin", 403, "411100"),
        ("kucoin_futures", 403, "411100"),
    ],
)
def test_account_frozen_fault(sim, keys, host, status, code):
    sim.set_fault(exchange_of(host), "account_frozen")
    response = signed_call(sim, host, keys[exchange_of(host)])
    assert (response.status_code, error_code(response)) == (status, code)


@pytest.mark.parametrize("host", HOSTS)
def test_maintenance_fault(sim, host):
    sim.set_fault(exchange_of(host), "maintenance")
    response = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert response.status_code == 503
    body = response.json()
    if host.startswith("mexc"):
        assert body["code"] == 500
        assert body["message"] == "Under maintenance, please try again later"
    else:
        assert body["code"] == "500000" and "maintenance" in body["msg"]


@pytest.mark.parametrize("host", HOSTS)
def test_html_502_fault_is_an_nginx_page(sim, host):
    sim.set_fault(exchange_of(host), "html_502")
    response = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert "<center>nginx</center>" in response.text


def test_timeout_fault_outlasts_the_client_read_timeout(sim):
    sim.set_fault("mexc", "timeout", seconds=1.0)
    started = time.perf_counter()
    with pytest.raises(requests.ReadTimeout):
        requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=(1, 0.2))
    assert time.perf_counter() - started < 0.9
    # The other exchange is unaffected.
    assert requests.get(sim.urls["kucoin"] + "/api/v1/timestamp", timeout=1).status_code == 200


def test_timeout_fault_answers_late_when_the_client_waits(sim):
    sim.set_fault("kucoin_futures", "timeout", seconds=0.3)
    started = time.perf_counter()
    response = requests.get(sim.urls["kucoin_futures"] + "/api/v1/timestamp", timeout=5)
    assert response.status_code == 200 and time.perf_counter() - started >= 0.3


@pytest.mark.parametrize("host", HOSTS)
def test_reset_fault_drops_the_connection(sim, host):
    sim.set_fault(exchange_of(host), "reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert sim.requests[-1].status == 0


@pytest.mark.parametrize("host", HOSTS)
def test_malformed_json_fault(sim, keys, host):
    sim.set_fault(exchange_of(host), "malformed_json")
    response = signed_call(sim, host, keys[exchange_of(host)])
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert response.text.endswith(",}")


@pytest.mark.parametrize("host", HOSTS)
def test_truncated_json_fault(sim, host):
    full = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5).text
    sim.set_fault(exchange_of(host), "truncated_json")
    response = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert response.status_code == 200
    assert full.startswith(response.text) and len(response.text) < len(full)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_truncated_json_fault_can_cut_the_connection_short(sim):
    sim.set_fault("mexc", "truncated_json", short_read=True)
    with pytest.raises(requests.RequestException):
        requests.get(sim.urls["mexc"] + "/api/v3/exchangeInfo", timeout=5)


@pytest.mark.parametrize("host", HOSTS)
def test_rate_limited_fault_is_a_429_with_retry_after(sim, host):
    sim.set_fault(exchange_of(host), "rate_limited")
    response = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    expected = {"mexc": "429", "mexc_futures": "510"}.get(host, "429000")
    assert error_code(response) == expected
    assert sim.stats()[exchange_of(host)]["rate_limited"] == 1


@pytest.mark.parametrize("host", HOSTS)
def test_ip_banned_fault_is_a_418_with_retry_after(sim, host):
    sim.set_fault(exchange_of(host), "ip_banned", retry_after=60)
    response = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5)
    assert response.status_code == 418 and response.headers["Retry-After"] == "60"


@pytest.mark.parametrize("host", HOSTS)
def test_clock_skew_moves_server_time_and_rejects_unsynced_requests(sim, keys, host):
    sim.set_fault(exchange_of(host), "clock_skew", offset_ms=-20_000)
    server = requests.get(sim.urls[host] + PUBLIC_TIME[host], timeout=5).json()
    server_ms = server.get("serverTime", server.get("data"))
    assert abs(server_ms - (now_ms() - 20_000)) < 2000
    key = keys[exchange_of(host)]
    rejected = signed_call(sim, host, key)
    expected = {"mexc": "700003", "mexc_futures": "513"}.get(host, "400002")
    assert error_code(rejected) == expected
    # A client that signs with the exchange's clock gets through.
    synced = signed_call(
        sim,
        host,
        key,
        **({"request_time": server_ms} if host == "mexc_futures" else {"timestamp": server_ms}),
    )
    assert synced.status_code == 200
    sim.clear_faults()
    assert signed_call(sim, host, key).status_code == 200


def test_fault_body_can_replay_an_observed_answer(sim, keys):
    sim.set_fault("kucoin", "ip_not_allowed", body={"code": "400006", "msg": "Invalid request ip"})
    response = signed_call(sim, "kucoin", keys["kucoin"])
    assert response.status_code == 403
    assert response.json() == {"code": "400006", "msg": "Invalid request ip"}
    sim.set_fault("mexc", "maintenance", body="<h1>down</h1>", status=502)
    down = requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5)
    assert (down.status_code, down.text) == (502, "<h1>down</h1>")


def test_fault_for_the_next_n_requests_only(sim):
    sim.set_fault("kucoin", "maintenance", times=2)
    statuses = [
        requests.get(sim.urls["kucoin"] + "/api/v1/timestamp", timeout=5).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]


def test_fault_for_one_path_only(sim, keys):
    sim.set_fault("mexc", "html_502", path="/api/v3/account")
    assert requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5).status_code == 200
    assert signed_call(sim, "mexc", keys["mexc"]).status_code == 502


def test_fault_for_one_host_only(sim):
    sim.set_fault("mexc_futures", "maintenance")
    assert requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5).status_code == 200
    ping = requests.get(sim.urls["mexc_futures"] + "/api/v1/contract/ping", timeout=5)
    assert ping.status_code == 503


def test_clear_faults(sim):
    sim.set_fault("mexc", "maintenance")
    sim.set_fault("kucoin", "maintenance")
    sim.clear_faults("mexc")
    assert requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5).status_code == 200
    assert requests.get(sim.urls["kucoin"] + "/api/v1/timestamp", timeout=5).status_code == 503
    sim.clear_faults()
    assert requests.get(sim.urls["kucoin"] + "/api/v1/timestamp", timeout=5).status_code == 200


# --- rate limits --------------------------------------------------------------------------


def test_mexc_limits_each_endpoint_separately(sim, keys):
    sim.set_rate_limit("mexc", "spot", limit=3)
    statuses = [
        requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5)
    assert limited.json() == {"code": 429, "msg": "Too Many Requests"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 10
    # Another endpoint, and a signed one (counted per key), still have their quota.
    assert requests.get(sim.urls["mexc"] + "/api/v3/defaultSymbols", timeout=5).status_code == 200
    assert signed_call(sim, "mexc", keys["mexc"]).status_code == 200
    stats = sim.stats()["mexc"]
    assert stats["rate_limited"] == 2 and stats["hosts"]["mexc"]["rate_limited"] == 2
    assert stats["requests"] == 7


def test_mexc_futures_private_limit_is_per_key(sim):
    sim.set_rate_limit("mexc", "futures_private", limit=2, window_s=2)
    first, second = sim.new_key("mexc"), sim.new_key("mexc")
    assert [mexc_assets(sim, first).status_code for _ in range(3)] == [200, 200, 429]
    limited = mexc_assets(sim, first)
    assert limited.json()["code"] == 510 and "Retry-After" in limited.headers
    assert mexc_assets(sim, second).status_code == 200


def test_kucoin_pools_count_endpoint_weights(sim, keys):
    # Management pool: user/api-key weighs 20, accounts 5 (exchanges.md §2.8).
    sim.set_rate_limit("kucoin", "management", limit=45)
    key = keys["kucoin"]
    first = kucoin_get(sim, key, "/api/v1/user/api-key")
    assert first.headers["gw-ratelimit-limit"] == "45"
    assert first.headers["gw-ratelimit-remaining"] == "25"
    assert kucoin_get(sim, key, "/api/v1/accounts").headers["gw-ratelimit-remaining"] == "20"
    assert kucoin_get(sim, key, "/api/v1/user/api-key").status_code == 200
    limited = kucoin_get(sim, key, "/api/v1/accounts")
    assert limited.status_code == 429
    assert limited.json() == {"code": "429000", "msg": "Too Many Requests"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert 0 < int(limited.headers["gw-ratelimit-reset"]) <= 30_000
    # The futures pool is separate.
    assert signed_call(sim, "kucoin_futures", key).status_code == 200


def test_rate_limit_window_frees_quota_again(sim):
    sim.set_rate_limit("kucoin", "public", limit=3, window_s=0.3)
    url = sim.urls["kucoin"] + "/api/v1/timestamp"
    assert requests.get(url, timeout=5).status_code == 200
    assert requests.get(url, timeout=5).status_code == 429
    time.sleep(0.35)
    assert requests.get(url, timeout=5).status_code == 200


def test_rate_limits_scale_and_disable(sim):
    sim.set_rate_limit("mexc", scale=0.004)
    assert sim.rate_limit("mexc", "spot").limit == 2
    assert sim.rate_limit("mexc", "futures_private").limit == 1
    url = sim.urls["mexc"] + "/api/v3/time"
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [200, 200, 429]
    sim.set_rate_limit("mexc", "spot", enabled=False)
    assert requests.get(url, timeout=5).status_code == 200
    sim.set_rate_limit("mexc", "spot", enabled=True, limit=1)
    sim.rate_limits_enabled = False
    assert [requests.get(url, timeout=5).status_code for _ in range(3)] == [200, 200, 200]
    sim.reset_rate_limits()
    assert sim.rate_limit("mexc", "spot").limit == 500


# --- latency, concurrency, statistics -----------------------------------------------------


def test_latency_is_applied_to_every_request(sim):
    sim.latency_ms = 150
    started = time.perf_counter()
    requests.get(sim.urls["mexc"] + "/api/v3/time", timeout=5)
    assert time.perf_counter() - started >= 0.15
    sim.latency_ms = 0
    sim.set_latency("kucoin_futures", 120)
    started = time.perf_counter()
    requests.get(sim.urls["kucoin"] + "/api/v1/timestamp", timeout=5)
    assert time.perf_counter() - started < 0.1
    started = time.perf_counter()
    requests.get(sim.urls["kucoin_futures"] + "/api/v1/timestamp", timeout=5)
    assert time.perf_counter() - started >= 0.12


def test_latency_sleeps_per_request_so_concurrent_calls_overlap(sim):
    sim.latency_ms = 300
    url = sim.urls["kucoin"] + "/api/v1/timestamp"
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=5).status_code, range(20)))
    elapsed = time.perf_counter() - started
    assert statuses == [200] * 20
    assert 0.3 <= elapsed < 1.5
    assert sim.stats()["kucoin"]["peak_rps"] >= 15


def test_concurrent_signed_requests_from_many_keys(sim):
    seeded = sim.seed_keys(50, "mexc", seed=3)
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda k: mexc_account(sim, k).status_code, seeded))
    assert statuses == [200] * 50
    assert sim.stats()["mexc"]["hosts"]["mexc"]["statuses"] == {200: 50}


def test_request_log_keeps_no_secrets_and_can_be_reset(sim, keys):
    sim.set_fault("kucoin", "invalid_signature")
    signed_call(sim, "mexc", keys["mexc"])
    signed_call(sim, "kucoin", keys["kucoin"])
    log = sim.requests
    assert [(r.exchange, r.method, r.path, r.status) for r in log] == [
        ("mexc", "GET", "/api/v3/account", 200),
        ("kucoin", "GET", "/api/v1/user/api-key", 401),
    ]
    exchange, _method, _path, _status, timestamp = log[0]
    assert exchange == "mexc" and abs(timestamp - time.time()) < 5
    text = repr(log) + repr(sim.stats())
    for secret in (keys["mexc"].secret, keys["kucoin"].secret, keys["kucoin"].passphrase):
        assert secret not in text
    assert "signature" not in text
    sim.reset_stats()
    assert sim.requests == [] and sim.stats()["mexc"]["requests"] == 0


# --- lifecycle and CLI --------------------------------------------------------------------


def test_fixed_ports_and_stop_interrupts_sleeping_handlers():
    with ExchangeSimulator() as probe:
        port = int(probe.urls["mexc"].rsplit(":", 1)[1])
    sim = ExchangeSimulator(ports={"mexc": port}).start()
    try:
        assert sim.urls["mexc"] == f"http://127.0.0.1:{port}"
        sim.set_fault("mexc", "timeout", seconds=30)
        url = sim.urls["mexc"] + "/api/v3/time"
        outcome: list[str] = []

        def call() -> None:
            try:
                requests.get(url, timeout=10)
                outcome.append("answered")
            except requests.RequestException:
                outcome.append("dropped")

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        time.sleep(0.2)
    finally:
        started = time.perf_counter()
        sim.stop()
    assert time.perf_counter() - started < 3
    caller.join(timeout=5)
    assert outcome == ["dropped"]
    with pytest.raises(RuntimeError):
        _ = sim.urls


def test_cli_prints_the_urls_setting_and_stops_on_sigint():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.simulator", "--seed-demo-keys", "--latency-ms", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("EXCHANGE_URLS=mexc=http://127.0.0.1:")
        urls = dict(item.split("=", 1) for item in line.removeprefix("EXCHANGE_URLS=").split(","))
        assert {"mexc", "mexc_futures", "kucoin", "kucoin_futures", "binance"} <= set(urls)
        demo = SimKey("mexc", "mx0demoHealthy0001", "0123456789abcdef0123456789abcdef", None)
        response = mexc_spot_request(
            urls["mexc"], "GET", "/api/v3/account", demo.api_key, demo.secret
        ).send()
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
