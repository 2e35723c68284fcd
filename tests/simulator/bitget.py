"""Bitget (host `bitget`): classic v2 spot and USDT-M futures on one host, demo trading on the
same host with the `paptrading: 1` header.

Sources: exchanges-more.md §4 (Bitget's API docs and their verbatim copies, the official SDK,
the error texts quoted in CCXT's comments) and the observed bodies named below. The signature
is verified here by an implementation of its own (`bitget_signature`), not the client's.

Key traits beyond `SimKey`'s: `coarse_authorities=True` answers the key info with the coarse
values of the docs' example (`["trade", "readonly"]`) instead of the fine-grained codes;
`spot_read=False` makes a futures-only key that the spot endpoints refuse; `unified=True` is
an account in Unified Trading mode, which the classic endpoints refuse (40085).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .base import (
    HostAPI,
    RatePool,
    SimExchange,
    SimKey,
    SimRequest,
    SimResponse,
    ban_page,
    html_502,
    json_response,
    plain,
)
from .signing import SignedRequest, now_ms

OK = "00000"
# "The timestamp of the request must be within 30 seconds of the API server time"
# (bitget.com/api-doc/common/intro, "Standard Specification").
TIMESTAMP_TOLERANCE_MS = 30_000

# A CDN's answer to a banned IP (Bitget's own wording for it is not documented).
ACCESS_DENIED = (
    b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n<body><h1>Access "
    b"denied</h1><p>You have been temporarily blocked.</p></body></html>\n"
)

# GET /api/v2/spot/public/symbols (bitget.com/api-doc/spot/market/Get-Symbols, Apr 2025 copy):
# `status` offline, gray, online, halt.
BITGET_SYMBOLS: list[dict[str, Any]] = [
    {
        "symbol": f"{base}{quote}",
        "baseCoin": base,
        "quoteCoin": quote,
        "minTradeAmount": "0",
        "maxTradeAmount": "900000000000000000000",
        "takerFeeRate": "0.001",
        "makerFeeRate": "0.001",
        "pricePrecision": "2",
        "quantityPrecision": "6",
        "quotePrecision": "8",
        "status": status,
        "minTradeUSDT": "1",
        "buyLimitPriceRatio": "0.05",
        "sellLimitPriceRatio": "0.05",
        "areaSymbol": "no",
        "orderQuantity": "200",
        "openTime": "1532454360000",
        "offTime": "",
    }
    for base, quote, status in (
        ("BTC", "USDT", "online"),
        ("ETH", "USDT", "online"),
        ("ETH", "BTC", "online"),
        ("NEWCOIN", "USDT", "gray"),
        ("OLDCOIN", "USDT", "offline"),
        ("HALTED", "USDT", "halt"),
    )
]

# GET /api/v2/mix/market/contracts?productType=USDT-FUTURES (CCXT fetch_markets example,
# `ccxt:bitget.py` L2232-2270): `symbolType` perpetual or delivery, `symbolStatus` normal when
# trading normally.
BITGET_CONTRACTS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "baseCoin": base,
        "quoteCoin": "USDT",
        "buyLimitPriceRatio": "0.01",
        "sellLimitPriceRatio": "0.01",
        "feeRateUpRatio": "0.005",
        "makerFeeRate": "0.0002",
        "takerFeeRate": "0.0006",
        "openCostUpRatio": "0.01",
        "supportMarginCoins": ["USDT"],
        "minTradeNum": "0.001",
        "priceEndStep": "1",
        "volumePlace": "3",
        "pricePlace": "1",
        "sizeMultiplier": "0.001",
        "symbolType": symbol_type,
        "minTradeUSDT": "5",
        "maxSymbolOrderNum": "200",
        "maxProductOrderNum": "400",
        "maxPositionNum": "150",
        "symbolStatus": status,
        "offTime": "-1",
        "limitOpenTime": "-1",
        # A delivery contract's settlement time in ms (26 Sep 2025 08:00 UTC); "" for
        # perpetuals.
        "deliveryTime": "1758873600000" if symbol_type == "delivery" else "",
        "deliveryStartTime": "",
        "deliveryPeriod": "",
        "launchTime": "",
        "fundInterval": "8",
        "minLever": "1",
        "maxLever": "125",
        "posLimit": "0.05",
        "maintainTime": "",
    }
    for symbol, base, symbol_type, status in (
        ("BTCUSDT", "BTC", "perpetual", "normal"),
        ("ETHUSDT", "ETH", "perpetual", "normal"),
        ("SOLUSDT", "SOL", "perpetual", "maintain"),
        ("BTCUSDT_250926", "BTC", "delivery", "normal"),
    )
]

_HEX = "0123456789abcdef"


def bitget_api_key(rng: random.Random) -> str:
    """`bg_` + 32 hex characters, the shape of Bitget keys seen in public repositories."""
    return "bg_" + "".join(rng.choices(_HEX, k=32))


def bitget_secret(rng: random.Random) -> str:
    return "".join(rng.choices(_HEX, k=64))


def bitget_passphrase(rng: random.Random) -> str:
    return "Pass" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=10))


# --- Signing, as the exchange verifies it ---------------------------------------------------


def bitget_signature(secret: str, prehash: str) -> str:
    """base64(HMAC-SHA256(secret, prehash)) (bitget.com/api-doc/common/signature)."""
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def bitget_prehash(timestamp: str, method: str, path: str, query: str, body: str) -> str:
    """timestamp + METHOD + requestPath + ("?" + queryString) + body; the query's parameters
    sorted by key, values as they are (not percent-encoded)."""
    items = sorted(parse_qsl(query, keep_blank_values=True))
    sorted_query = "&".join(f"{key}={value}" for key, value in items)
    return f"{timestamp}{method.upper()}{path}{'?' + sorted_query if sorted_query else ''}{body}"


def bitget_request(
    base_url: str,
    method: str,
    path: str,
    api_key: str,
    secret: str,
    passphrase: str,
    params: dict[str, str] | None = None,
    *,
    timestamp: int | None = None,
    demo: bool = False,
) -> SignedRequest:
    """A signed request for tests that talk to the simulator with plain `requests`."""
    ts = str(now_ms() if timestamp is None else timestamp)
    query = urlencode(sorted((params or {}).items()))
    headers = {
        "ACCESS-KEY": api_key,
        "ACCESS-SIGN": bitget_signature(secret, bitget_prehash(ts, method, path, query, "")),
        "ACCESS-TIMESTAMP": ts,
        "ACCESS-PASSPHRASE": passphrase,
        "Content-Type": "application/json",
        "locale": "en-US",
    }
    if demo:
        headers["paptrading"] = "1"
    url = f"{base_url}{path}" + (f"?{query}" if query else "")
    return SignedRequest(method, url, headers)


# --- The host ------------------------------------------------------------------------------


class BitgetAPI(HostAPI):
    exchange = "bitget"
    role = "bitget"

    def register(self) -> None:
        # Frequency limits: public 20/s per IP; account info 1/s per UID; assets and futures
        # accounts 10/s per UID (exchanges-more.md §4.3, §4.7; registry.py names each page).
        self.add("GET", "/api/v2/public/time", self.time, pool="public")
        self.add("GET", "/api/v2/spot/public/symbols", self.symbols, pool="public")
        self.add("GET", "/api/v2/mix/market/contracts", self.contracts, pool="public")
        self.add("GET", "/api/v2/spot/account/info", self.info, signed=True, pool="info")
        self.add("GET", "/api/v2/spot/account/assets", self.assets, signed=True, pool="private")
        self.add(
            "GET", "/api/v2/mix/account/accounts", self.mix_accounts, signed=True, pool="private"
        )

    # Answers ------------------------------------------------------------------------------

    def ok(self, data: Any) -> SimResponse:
        return json_response(
            200, {"code": OK, "msg": "success", "requestTime": self.now_ms(), "data": data}
        )

    def fail(self, code: str, msg: str, status: int = 400, **headers: str) -> SimResponse:
        # Error body as quoted in CCXT's comments, e.g. {"code":"40015","msg":"",
        # "requestTime":1595698564931,"data":null} (`ccxt:bitget.py` handle_errors).
        body = {"code": code, "msg": msg, "requestTime": self.now_ms(), "data": None}
        return json_response(status, body, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # "40018 Invalid IP": whether Bitget appends the caller's IP is UNVERIFIED
            # (§10.4); the documented text has none.
            return self.fail("40018", "Invalid IP", status or 400)
        if kind == "invalid_signature":
            return self.fail("40009", "sign signature error", status or 400)
        if kind == "account_frozen":
            return self.fail("40013", "User status is abnormal", status or 400)
        if kind == "maintenance":
            return self.fail("40200", "Server upgrade, please try again later", status or 503)
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            # HTTP 429 "Too Many Requests" (bitget.com/api-doc/common/intro). A Retry-After
            # header is not documented by Bitget; the simulator sends one so the client's
            # handling of it is exercised.
            retry = int(opts.get("retry_after", 1))
            return self.fail(
                "429", "Too Many Requests", status or 429, **{"Retry-After": str(retry)}
            )
        if kind == "ip_banned":
            return ban_page(status or 403, ACCESS_DENIED, opts)
        if kind == "not_found":
            return self.fail("40404", "Request URL NOT FOUND", 404)
        if kind == "method_not_allowed":
            return self.fail("405", "Method Not Allowed", 405)
        raise ValueError(kind)

    # Authentication -----------------------------------------------------------------------

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("ACCESS-KEY")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        headers = request.headers
        api_key = headers.get("ACCESS-KEY")
        signature = headers.get("ACCESS-SIGN")
        timestamp = headers.get("ACCESS-TIMESTAMP")
        passphrase = headers.get("ACCESS-PASSPHRASE")
        # Texts of the codes: `ccxt:bitget.py` L1467-1488 (exchanges-more.md §4.6).
        if not api_key:
            return self.fail("40001", "ACCESS_KEY cannot be empty")
        if not signature:
            return self.fail("40003", "Signature cannot be empty")
        if not passphrase:
            return self.fail("40011", "ACCESS_PASSPHRASE cannot be empty")
        if not timestamp or not timestamp.isdigit():
            return self.fail("40005", "Invalid ACCESS_TIMESTAMP")
        if abs(int(timestamp) - self.now_ms()) > TIMESTAMP_TOLERANCE_MS:
            return self.fail("40008", "Request timestamp expired")
        key = self.sim.get_key("bitget", api_key)
        if key is None:
            return self.fail("40037", "Apikey does not exist")
        demo_request = str(headers.get("paptrading") or "") == "1"
        if key.demo != demo_request:
            # Observed for a demo key on live trading (ccxt/ccxt#25004, #26125); the live key
            # with the demo header is assumed to answer the same (UNVERIFIED).
            return self.fail("40099", "exchange environment is incorrect")
        if not hmac.compare_digest(passphrase.encode(), (key.passphrase or "").encode()):
            return self.fail("40012", "apikey/password is incorrect")
        expected = bitget_signature(
            key.secret,
            bitget_prehash(
                timestamp, request.method, request.path, request.query, request.body_text
            ),
        )
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return self.fail("40009", "sign signature error")
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        if key.extra.get("unified"):
            return self.fail(
                "40085",
                "You are in Unified Account mode, and the Classic Account API is not "
                "supported at this time",
            )
        return key

    def no_permission(self) -> SimResponse:
        return self.fail("40014", "Incorrect permissions")

    # Public -------------------------------------------------------------------------------

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        # {"code":"00000","msg":"success","requestTime":…,"data":{"serverTime":"…"}}
        # (bitget.com/api-doc/common/public/Get-Server-Time).
        now = self.now_ms()
        return json_response(
            200,
            {"code": OK, "msg": "success", "requestTime": now, "data": {"serverTime": str(now)}},
        )

    def symbols(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return self.ok(BITGET_SYMBOLS)

    def contracts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        product = request.params.get("productType")
        if not product:
            return self.fail("40019", "Parameter productType cannot be empty")
        return self.ok(BITGET_CONTRACTS if product.upper() == "USDT-FUTURES" else [])

    # Private ------------------------------------------------------------------------------

    def info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # "SPOT read or SPOT read/write permission needed" (exchanges-more.md §4.3).
        if not key.extra.get("spot_read", True):
            return self.no_permission()
        if key.extra.get("coarse_authorities"):
            # The docs' example: ["trade", "readonly"] (§4.3).
            authorities = ["trade", "readonly"] if key.trade or key.futures else ["readonly"]
        else:
            # Fine-grained codes (§4.3): r = read only, w = read and write.
            authorities = ["stow" if key.trade else "stor"]
            authorities += ["coow", "cpow"] if key.futures else ["coor", "cpor"]
            if key.withdrawal:
                authorities.append("wwow")
        # Field set and order of the docs' example (§4.3).
        return self.ok(
            {
                "userId": str(key.uid),
                "inviterId": "",
                "ips": ",".join(key.ip_whitelist or ()),
                "authorities": authorities,
                "parentId": key.uid,
                "traderType": "",
                "channelCode": "",
                "channel": "",
                "regisTime": str(key.created_at_ms),
            }
        )

    def assets(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.extra.get("spot_read", True):
            return self.no_permission()
        # [{"coin", "available", "frozen", "locked", "limitAvailable", "uTime"}]
        # (bitget.com/api-doc/spot/account/Get-Account-Assets); hold_only by default.
        updated = str(int(time.time() * 1000))
        rows = [
            {
                "coin": asset,
                "available": plain(free),
                "frozen": plain(locked),
                "locked": "0",
                "limitAvailable": "0",
                "uTime": updated,
            }
            for asset, (free, locked) in key.balances.items()
            if free or locked
        ]
        return self.ok(rows)

    def mix_accounts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not request.params.get("productType"):
            return self.fail("40019", "Parameter productType cannot be empty")
        if not key.futures:
            return self.no_permission()
        free, locked = key.balances.get("USDT", (Decimal(0), Decimal(0)))
        equity = plain(free + locked)
        # One row per margin coin (CCXT fetch_balance swap example, `ccxt:bitget.py`).
        row = {
            "marginCoin": "USDT",
            "locked": plain(locked),
            "available": plain(free),
            "crossedMaxAvailable": plain(free),
            "isolatedMaxAvailable": plain(free),
            "maxTransferOut": plain(free),
            "accountEquity": equity,
            "usdtEquity": equity,
            "btcEquity": "0",
            "crossedRiskRate": "0",
            "unrealizedPL": "0",
            "coupon": "0",
            "crossedUnrealizedPL": None,
            "isolatedUnrealizedPL": None,
        }
        return self.ok([row])


SIM = SimExchange(
    slug="bitget",
    hosts={"bitget": BitgetAPI},
    pools=(
        RatePool("bitget", "public", 20, 1.0, per_endpoint=True, fixed_window=False),
        RatePool("bitget", "info", 1, 1.0, per_endpoint=True, fixed_window=False),
        RatePool("bitget", "private", 10, 1.0, per_endpoint=True, fixed_window=False),
    ),
    credentials=lambda rng: (bitget_api_key(rng), bitget_secret(rng), bitget_passphrase(rng)),
    needs_passphrase=True,
)
