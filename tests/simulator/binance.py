"""Binance spot/wallet (host `binance`) and USDⓈ-M futures (host `binance_futures`), and the
demo-mode hosts (`binance_demo`, `binance_futures_demo`).

Sources: exchanges-more.md §1 (bn-spot-docs rest-api.md and errors.md, the official SDK's
models, developers.binance.com pages) and the observed error bodies quoted there.

Key traits: `trade` = enableSpotAndMarginTrading, `futures` = enableFutures, `withdrawal` =
enableWithdrawals, `ip_whitelist` = ipRestrict (and the list the server checks),
`expires_at_ms` = the legacy tradingAuthorityExpirationTime, `demo` = a demo.binance.com key;
`extra`: `portfolio_margin` (fapi refuses the account, §1.8), `key_type` ("hmac" or
"ed25519"; an Ed25519 key's `secret` is its private key PEM, from which the simulated server
keeps only the public key, as Binance does).
"""

from __future__ import annotations

import hmac
import random
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from . import data
from .base import (
    HostAPI,
    RatePool,
    SimExchange,
    SimKey,
    SimRequest,
    SimResponse,
    html_502,
    json_response,
    plain,
)
from .signing import binance_ed25519_valid, binance_hmac_signature

DEFAULT_FAULT_IP = "198.51.100.7"
# errors.md texts (§1.6).
REJECTED = "Invalid API-key, IP, or permissions for action"
BAD_SIGNATURE = "Signature for this request is not valid."
OUTSIDE_WINDOW = "Timestamp for this request is outside of the recvWindow."
AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."


def new_ed25519_key(sim: Any, **options: Any) -> SimKey:
    """Register an Ed25519 key: an API key like the others, the private key PEM as secret."""
    rng = options.pop("rng", None) or random.Random()
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
        .strip()
    )
    return sim.add_key("binance", data.binance_api_key(rng), pem, key_type="ed25519", **options)


def public_pem(key: SimKey) -> str:
    private = load_pem_private_key(key.secret.encode(), password=None)
    return (
        private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    )


def _strip_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))


class BinanceAPI(HostAPI):
    exchange = "binance"
    demo = False
    futures_host = False

    def fail(self, code: int, msg: str, status: int = 400, **headers: str) -> SimResponse:
        return json_response(status, {"code": code, "msg": msg}, headers)

    def rejected(self, ip: str | None = None) -> SimResponse:
        # -2015 with HTTP 401 (§1.6). The ", request ip: x" suffix is observed on fapi answers
        # (ccxt/ccxt#7822, node-binance-api#414); the spot host sends the bare text here, so
        # clients are tested with both.
        if ip and self.futures_host:
            return self.fail(-2015, f"{REJECTED}, request ip: {ip}", 401)
        return self.fail(-2015, f"{REJECTED}.", 401)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # An IP-restricted key called from elsewhere gets the merged -2015 (§1.8); the fault
            # carries the observed suffix on both hosts.
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            return self.fail(-2015, f"{REJECTED}, request ip: {ip}", status or 401)
        if kind == "invalid_signature":
            return self.fail(-1022, BAD_SIGNATURE, status or 400)
        if kind == "account_frozen":
            # errors.md messages for -2010/-1010 (§1.6).
            return self.fail(-2010, "This action is disabled on this account.", status or 400)
        if kind == "maintenance":
            # No maintenance body is documented; -1008 SERVER_BUSY with 503 (§1.6).
            return self.fail(
                -1008,
                "Server is currently overloaded with other requests. Please try again in a few "
                "minutes.",
                status or 503,
            )
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            retry = str(opts.get("retry_after", 2))
            limit = 2400 if self.futures_host else 6000
            return self.fail(
                -1003,
                f"Too much request weight used; current limit is {limit} request weight per 1 "
                "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                status or 429,
                **{"Retry-After": retry},
            )
        if kind == "ip_banned":
            retry = str(opts.get("retry_after", 120))
            return self.fail(
                -1003,
                "Way too much request weight used; IP banned until 1659146400000. Please use "
                "WebSocket Streams for live updates to avoid bans.",
                status or 418,
                **{"Retry-After": retry},
            )
        if kind == "not_found":
            # Binance answers an unknown path with an empty 404.
            return SimResponse(404, b"", content_type="text/html")
        if kind == "method_not_allowed":
            return SimResponse(405, b"", content_type="text/html")
        raise ValueError(kind)

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("X-MBX-APIKEY")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        api_key = self.key_id(request)
        if not api_key:
            return self.fail(-2014, "API-key format invalid.", 401)
        params = dict(request.params)
        body = request.body_text
        if body:
            params.update(parse_qsl(body, keep_blank_values=True))
        key = self.sim.get_key("binance", api_key)
        # Demo keys live in their own key store (§1.8): elsewhere they are unknown keys.
        if key is None or key.demo != self.demo:
            return self.rejected(request.caller_ip)
        for name in ("timestamp", "signature"):
            if not params.get(name):
                return self.fail(
                    -1102,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        timestamp, recv_window = params["timestamp"], params.get("recvWindow") or "5000"
        if not timestamp.isdigit() or not recv_window.isdigit():
            return self.fail(-1100, "Illegal characters found in a parameter.")
        if int(recv_window) > 60000:
            return self.fail(-1131, "recvWindow must be less than 60000")
        # Accept iff timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
        server = self.now_ms()
        if int(timestamp) >= server + 1000:
            return self.fail(-1021, AHEAD)
        if server - int(timestamp) > int(recv_window):
            return self.fail(-1021, OUTSIDE_WINDOW)
        # The signature covers the query string concatenated with the body, as sent (§1.2).
        total = _strip_signature(request.query) + _strip_signature(body)
        signature = params["signature"]
        if key.extra.get("key_type") == "ed25519":
            valid = binance_ed25519_valid(public_pem(key), total, signature)
        else:
            # "HMAC signatures are case-insensitive" (§1.2).
            expected = binance_hmac_signature(key.secret, total)
            valid = hmac.compare_digest(signature.lower(), expected)
        if not valid:
            return self.fail(-1022, BAD_SIGNATURE)
        if not key.ip_allowed(request.caller_ip):
            return self.rejected(request.caller_ip)
        return key

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"serverTime": self.now_ms()})


class BinanceSpotAPI(BinanceAPI):
    role = "binance"

    def register(self) -> None:
        # Weights: §1.3, §1.5, §1.7 (exchangeInfo weight 20).
        self.add("GET", "/api/v3/time", self.time, pool="spot")
        self.add("GET", "/api/v3/exchangeInfo", self.exchange_info, pool="spot", weight=20)
        self.add("GET", "/api/v3/account", self.account, signed=True, pool="spot", weight=20)
        self.add("POST", "/api/v3/order/test", self.order_test, signed=True, pool="spot")
        if not self.demo:
            # The demo-mode docs list only /api (demo-mode/general-info.md): the simulated
            # demo host has no /sapi, the cautious reading of the UNVERIFIED fact (§10.1).
            self.add(
                "GET",
                "/sapi/v1/account/apiRestrictions",
                self.api_restrictions,
                signed=True,
                pool="sapi",
            )

    def exchange_info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(
            200,
            {
                "timezone": "UTC",
                "serverTime": self.now_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    }
                ],
                "exchangeFilters": [],
                "symbols": data.BINANCE_SPOT_SYMBOLS,
            },
        )

    def api_restrictions(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # Field set and order of the official example (§1.3).
        body: dict[str, Any] = {
            "ipRestrict": bool(key.ip_whitelist),
            "createTime": key.created_at_ms,
            "enableReading": True,
            "enableWithdrawals": key.withdrawal,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": key.futures,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": True,
            "enableSpotAndMarginTrading": key.trade,
            "enablePortfolioMarginTrading": bool(key.extra.get("portfolio_margin")),
        }
        if key.expires_at_ms is not None:
            # Legacy field (older docs, third-party models; §1.3 UNVERIFIED today).
            body["tradingAuthorityExpirationTime"] = key.expires_at_ms
        return json_response(200, body)

    def account(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        omit = request.params.get("omitZeroBalances") == "true"
        balances = [
            {"asset": asset, "free": f"{free:.8f}", "locked": f"{locked:.8f}"}
            for asset, (free, locked) in key.balances.items()
            if not omit or free or locked
        ]
        # Shape of "Account information (USER_DATA)" (bn-spot-docs rest-api.md, §1.3).
        return json_response(
            200,
            {
                "makerCommission": 15,
                "takerCommission": 15,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": key.trade,
                "canWithdraw": key.withdrawal,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": self.now_ms(),
                "accountType": "SPOT",
                "balances": balances,
                "permissions": ["SPOT"],
                "uid": key.uid,
            },
        )

    def order_test(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.trade:
            # Security type TRADE: a key without the permission gets -2015 (§1.4).
            return self.rejected()
        params = dict(parse_qsl(request.body_text)) | dict(request.params)
        if params.get("symbol") not in {s["symbol"] for s in data.BINANCE_SPOT_SYMBOLS}:
            return self.fail(-1121, "Invalid symbol.")
        return json_response(200, {})


class BinanceFuturesAPI(BinanceAPI):
    role = "binance_futures"
    futures_host = True

    def register(self) -> None:
        self.add("GET", "/fapi/v1/time", self.time, pool="futures")
        self.add("GET", "/fapi/v1/exchangeInfo", self.exchange_info, pool="futures")
        self.add("GET", "/fapi/v3/balance", self.balance, signed=True, pool="futures", weight=5)
        self.add("POST", "/fapi/v1/order/test", self.order_test, signed=True, pool="futures")

    def exchange_info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(
            200,
            {
                "timezone": "UTC",
                "serverTime": self.now_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 2400,
                    }
                ],
                "assets": [],
                "symbols": data.BINANCE_CONTRACTS,
            },
        )

    def futures_refused(self, key: SimKey, request: SimRequest) -> bool:
        # enableFutures false (e.g. a key older than the futures account), or a
        # portfolio-margin account, whose fapi calls answer -2015 (§1.3, §1.8).
        return not key.futures or bool(key.extra.get("portfolio_margin"))

    def balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if self.futures_refused(key, request):
            return self.rejected(request.caller_ip)
        rows = []
        for asset, (free, locked) in key.balances.items():
            total = free + locked
            # Fields of "Futures Account Balance V3" (bn-sdk account_api.py, §1.5).
            rows.append(
                {
                    "accountAlias": "SgsR",
                    "asset": asset,
                    "balance": plain(total),
                    "crossWalletBalance": plain(total),
                    "crossUnPnl": "0.00000000",
                    "availableBalance": plain(free),
                    "maxWithdrawAmount": plain(free),
                    "marginAvailable": True,
                    "updateTime": self.now_ms(),
                }
            )
        return json_response(200, rows)

    def order_test(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if self.futures_refused(key, request):
            return self.rejected(request.caller_ip)
        params = dict(parse_qsl(request.body_text)) | dict(request.params)
        if params.get("symbol") not in {s["symbol"] for s in data.BINANCE_CONTRACTS}:
            return self.fail(-1121, "Invalid symbol.")
        return json_response(200, {})


class BinanceSpotDemoAPI(BinanceSpotAPI):
    role = "binance_demo"
    demo = True


class BinanceFuturesDemoAPI(BinanceFuturesAPI):
    role = "binance_futures_demo"
    demo = True


SIM = SimExchange(
    slug="binance",
    hosts={
        "binance": BinanceSpotAPI,
        "binance_futures": BinanceFuturesAPI,
        "binance_demo": BinanceSpotDemoAPI,
        "binance_futures_demo": BinanceFuturesDemoAPI,
    },
    pools=(
        # Request weight per IP per minute (exchangeInfo REQUEST_WEIGHT: spot 6000, futures
        # 2400; registry.py names the sources); /sapi has its own IP pool of 12000 per minute.
        RatePool("binance", "spot", 6000, 60.0, per_endpoint=False, fixed_window=True),
        RatePool("binance", "sapi", 12000, 60.0, per_endpoint=False, fixed_window=True),
        RatePool("binance", "futures", 2400, 60.0, per_endpoint=False, fixed_window=True),
    ),
    credentials=lambda rng: (data.binance_api_key(rng), data.binance_secret(rng), None),
)
