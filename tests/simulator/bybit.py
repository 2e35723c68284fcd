"""Bybit v5: the live host (`bybit`) and the demo trading host (`bybit_demo`).

Sources: exchanges-more.md §3 (bybit-exchange/docs @072c197: guide.mdx, error.mdx, demo.mdx,
user/apikey-info.mdx, account/wallet-balance.mdx, account/account-info.mdx,
market/instrument.mdx, market/time.mdx, rate-limit.mdx) and the live error texts quoted in
§3.6. The signature is verified here with its own implementation, not the client's.

Key traits (`SimKey.extra`): `read_only` (readOnly 1), `transfer` (Wallet AccountTransfer),
`sub_transfer` (Wallet SubMemberTransfer), `account_mode` (unifiedMarginStatus, default 5 =
UTA 2.0). Without an IP whitelist a key expires 90 days after creation unless
`expires_at_ms` says otherwise; a key bound to IPs reports the epoch (no expiry).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import string
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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

DEFAULT_RECV_WINDOW = 5000
# A key without an IP binding is "invalid after 90 days" (user/create-subuid-apikey.mdx, §3.8).
UNBOUND_KEY_DAYS = 90
DAY_MS = 86_400_000

MESSAGES = {
    10002: "invalid request, please check your server timestamp or recv_window param. "
    "req_timestamp[{req}],server_timestamp[{server}],recv_window[{window}]",
    10003: "API key is invalid. Check whether the key and domain are matched, there are 4 env: "
    "mainnet, testnet, mainnet-demo, testnet-demo",
    10004: "Error sign, please check your signature generation algorithm.",
    10005: "Permission denied, please check your API key permissions.",
    10006: "Too many visits. Exceeded the API Rate Limit.",
    10007: "User authentication failed.",
    10008: "Common banned, please check your account mode",
    10010: "Unmatched IP, please check your API key's bound IP addresses.",
    10016: "Server error.",
    33004: "Your api key has expired",
}

# Public market data, in the docs' shapes (market/instrument.mdx examples), values ours.
SPOT_INSTRUMENTS: list[dict[str, Any]] = [
    {
        "symbol": f"{base}USDT",
        "baseCoin": base,
        "quoteCoin": "USDT",
        "innovation": "0",
        "status": status,
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {"basePrecision": "0.000001", "minOrderAmt": "5"},
        "priceFilter": {"tickSize": "0.01"},
        "symbolType": "",
    }
    for base, status in (("BTC", "Trading"), ("ETH", "Trading"), ("XRP", "Trading"))
]
LINEAR_INSTRUMENTS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "contractType": contract_type,
        "status": status,
        "baseCoin": base,
        "quoteCoin": quote,
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "settleCoin": quote,
        "isPreListing": status == "PreLaunch",
        "symbolType": "",
    }
    for symbol, base, quote, contract_type, status in (
        ("BTCUSDT", "BTC", "USDT", "LinearPerpetual", "Trading"),
        ("ETHUSDT", "ETH", "USDT", "LinearPerpetual", "Trading"),
        ("SOLUSDT", "SOL", "USDT", "LinearPerpetual", "Trading"),
        ("BTCPERP", "BTC", "USDC", "LinearPerpetual", "Trading"),
        ("BTCUSDT-26DEC26", "BTC", "USDT", "LinearFutures", "Trading"),
        ("BIOUSDT", "BIO", "USDT", "LinearPerpetual", "PreLaunch"),
    )
]
# Linear answers are paged; small pages here so the cursor is followed (the docs: up to 1000).
LINEAR_PAGE = 4


def bybit_signature(
    secret: str, timestamp: str, api_key: str, recv_window: str, payload: str
) -> str:
    """Lowercase hex HMAC-SHA256 of timestamp + key + recv_window + query|body (§3.2)."""
    message = f"{timestamp}{api_key}{recv_window}{payload}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_UPPER_ALNUM = string.ascii_uppercase + string.digits


def api_key(rng: random.Random) -> str:
    """18 characters, like pybit's test key `CFEJUGQEQPPHGOHGHM` (§3.2)."""
    return "".join(rng.choices(_UPPER_ALNUM, k=18))


def secret(rng: random.Random) -> str:
    """36 characters, like pybit's test secret (§3.2)."""
    return "".join(rng.choices(_UPPER_ALNUM, k=36))


class BybitAPI(HostAPI):
    exchange = "bybit"
    demo = False

    def envelope(self, code: int, message: str, result: Any = None) -> dict[str, Any]:
        return {
            "retCode": code,
            "retMsg": message,
            "result": {} if result is None else result,
            "retExtInfo": {},
            "time": self.now_ms(),
        }

    def ok(self, result: Any) -> SimResponse:
        return json_response(200, self.envelope(0, "OK", result))

    def fail(self, code: int, status: int = 200, message: str | None = None, **headers: str):
        return json_response(status, self.envelope(code, message or MESSAGES[code]), headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # No caller IP in the text (§3.6; sieblyio/bybit-api#555 shows this body).
            return self.fail(10010, status or 200)
        if kind == "invalid_signature":
            return self.fail(10004, status or 200)
        if kind == "account_frozen":
            return self.fail(10008, status or 200)
        if kind == "maintenance":
            # 10016 "Server error." / "Service is restarting" (error.mdx).
            return self.fail(10016, status or 503, "Service is restarting")
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            # 10006 in the JSON with the quota headers; the reset is a timestamp in ms
            # (rate-limit.mdx "API Rate Limit").
            retry = int(opts.get("retry_after", 1))
            return self.fail(
                10006,
                status or 200,
                **{
                    "X-Bapi-Limit": str(opts.get("limit", 10)),
                    "X-Bapi-Limit-Status": "0",
                    "X-Bapi-Limit-Reset-Timestamp": str(self.now_ms() + retry * 1000),
                },
            )
        if kind == "ip_banned":
            # "403, access too frequent": the IP limit, wait at least 10 minutes (rate-limit.mdx).
            return SimResponse(
                status or 403, b"403 Forbidden: access too frequent", content_type="text/plain"
            )
        if kind in ("not_found", "method_not_allowed"):
            # HTTP 404 "Cannot find path" (error.mdx "HTTP Code").
            return SimResponse(404, b"404 page not found", content_type="text/plain")
        raise ValueError(kind)

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("X-BAPI-API-KEY")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        headers = request.headers
        key_name = headers.get("X-BAPI-API-KEY")
        signature = headers.get("X-BAPI-SIGN")
        timestamp = headers.get("X-BAPI-TIMESTAMP")
        recv_window = headers.get("X-BAPI-RECV-WINDOW") or str(DEFAULT_RECV_WINDOW)
        if not (key_name and signature and timestamp):
            # HTTP 401 "Need to put authentication params in the request header" (error.mdx).
            return self.fail(10007, 401)
        server = self.now_ms()
        window = int(recv_window) if recv_window.isdigit() else DEFAULT_RECV_WINDOW
        # server_time - recv_window <= timestamp < server_time + 1000 (guide.mdx).
        if not timestamp.isdigit() or not (server - window <= int(timestamp) < server + 1000):
            text = MESSAGES[10002].format(req=timestamp, server=server, window=window)
            return self.fail(10002, 200, text)
        key = self.sim.get_key("bybit", key_name)
        # A key belongs to one environment: mainnet or mainnet-demo (§3.6, §3.8).
        if key is None or key.demo != self.demo:
            return self.fail(10003, 200)
        payload = request.body_text if request.method == "POST" else request.query
        expected = bybit_signature(key.secret, timestamp, key_name, recv_window, payload)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return self.fail(10004, 200)
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request)
        if server >= expiry_ms(key):
            return self.fail(33004, 200)
        return key

    # --- endpoints ---------------------------------------------------------------------

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        now = self.now_ms()
        nano = now * 1_000_000 + 123_456
        return self.ok({"timeSecond": str(now // 1000), "timeNano": str(nano)})

    def instruments(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        category = request.params.get("category")
        if category == "spot":
            return self.ok({"category": "spot", "list": SPOT_INSTRUMENTS})
        if category != "linear":
            return self.fail(10001, 200, "params error: category invalid")
        # Default: Trading symbols only (instrument.mdx `status`), paged with a cursor.
        rows = [row for row in LINEAR_INSTRUMENTS if row["status"] == "Trading"]
        start = int(request.params.get("cursor") or 0)
        page = rows[start : start + LINEAR_PAGE]
        cursor = str(start + LINEAR_PAGE) if start + LINEAR_PAGE < len(rows) else ""
        return self.ok({"category": "linear", "list": page, "nextPageCursor": cursor})

    def query_api(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        read_only = bool(key.extra.get("read_only"))
        wallet = []
        if key.extra.get("transfer"):
            wallet.append("AccountTransfer")
        if key.extra.get("sub_transfer"):
            wallet.append("SubMemberTransfer")
        if key.withdrawal:
            wallet.append("Withdraw")
        bound = bool(key.ip_whitelist)
        expires = expiry_ms(key)
        now = self.now_ms()
        # Field set of the apikey-info.mdx example; ["*"] for an unbound key with its
        # countdown, the epoch and -2 days for a bound one (§3.3).
        result = {
            "id": str(key.uid * 10 + 1),
            "note": key.remark,
            "apiKey": key.api_key,
            "readOnly": 1 if read_only else 0,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if key.futures else [],
                "Spot": ["SpotTrade"] if key.trade else [],
                "Wallet": wallet,
                "Options": [],
                "Derivatives": ["DerivativesTrade"] if key.futures else [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": ["ExchangeHistory"],
                "NFT": [],
                "Affiliate": [],
                "Earn": [],
            },
            "ips": list(key.ip_whitelist) if bound else ["*"],
            "type": 1,
            "deadlineDay": max(0, (expires - now) // DAY_MS) if not bound else -2,
            "expiredAt": iso(expires) if not bound else "1970-01-01T00:00:00Z",
            "createdAt": iso(key.created_at_ms),
            "unified": 0,
            "uta": 0 if key.extra.get("account_mode", 5) == 1 else 1,
            "userID": key.uid,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_1",
            "kycRegion": "",
        }
        return self.ok(result)

    def wallet_balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if request.params.get("accountType") != "UNIFIED":
            return self.fail(10001, 200, "accountType only support UNIFIED.")
        coins = []
        total = Decimal(0)
        for asset, (free, locked) in key.balances.items():
            wallet = free + locked
            total += wallet if asset == "USDT" else Decimal(0)
            coins.append(
                {
                    "availableToBorrow": "",
                    "bonus": "0",
                    "accruedInterest": "0",
                    "availableToWithdraw": "",
                    "totalOrderIM": "0",
                    "equity": plain(wallet),
                    "totalPositionMM": "0",
                    "usdValue": plain(wallet),
                    "spotHedgingQty": "0",
                    "unrealisedPnl": "0",
                    "collateralSwitch": True,
                    "borrowAmount": "0",
                    "totalPositionIM": "0",
                    "walletBalance": plain(wallet),
                    "cumRealisedPnl": "0",
                    "locked": plain(locked),
                    "marginCollateral": True,
                    "coin": asset,
                    "spotBorrow": "0",
                }
            )
        account = {
            "totalEquity": plain(total),
            "accountIMRate": "0",
            "totalMarginBalance": plain(total),
            "totalInitialMargin": "0",
            "accountType": "UNIFIED",
            "totalAvailableBalance": plain(total),
            "accountMMRate": "0",
            "totalPerpUPL": "0",
            "totalWalletBalance": plain(total),
            "accountLTV": "0",
            "totalMaintenanceMargin": "0",
            "coin": coins,
        }
        return self.ok({"list": [account]})

    def account_info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        return self.ok(
            {
                "marginMode": "REGULAR_MARGIN",
                "updatedTime": str(key.created_at_ms),
                "unifiedMarginStatus": key.extra.get("account_mode", 5),
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
            }
        )


def expiry_ms(key: SimKey) -> int:
    """When the key stops working: its own expiry, else 90 days after creation when unbound."""
    if key.expires_at_ms is not None:
        return key.expires_at_ms
    if key.ip_whitelist:
        return 2**62
    return key.created_at_ms + UNBOUND_KEY_DAYS * DAY_MS


class BybitLiveAPI(BybitAPI):
    role = "bybit"

    def register(self) -> None:
        self.add("GET", "/v5/market/time", self.time, pool="ip")
        self.add("GET", "/v5/market/instruments-info", self.instruments, pool="ip")
        self.add("GET", "/v5/user/query-api", self.query_api, signed=True, pool="query_api")
        self.add(
            "GET", "/v5/account/wallet-balance", self.wallet_balance, signed=True, pool="account"
        )
        self.add("GET", "/v5/account/info", self.account_info, signed=True, pool="account")


class BybitDemoAPI(BybitAPI):
    """api-demo.bybit.com: no /v5/user/query-api (demo.mdx "Available API List")."""

    role = "bybit_demo"
    demo = True

    def register(self) -> None:
        self.add("GET", "/v5/market/time", self.time, pool="ip")
        self.add("GET", "/v5/market/instruments-info", self.instruments, pool="ip")
        self.add(
            "GET", "/v5/account/wallet-balance", self.wallet_balance, signed=True, pool="account"
        )
        self.add("GET", "/v5/account/info", self.account_info, signed=True, pool="account")


def bybit_request_headers(
    api_key_value: str, secret_value: str, payload: str = "", *, timestamp: int | None = None
) -> dict[str, str]:
    """Signed headers for tests that talk to the simulator with plain `requests`."""
    ts = str(int(time.time() * 1000) if timestamp is None else timestamp)
    window = str(DEFAULT_RECV_WINDOW)
    return {
        "X-BAPI-API-KEY": api_key_value,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": window,
        "X-BAPI-SIGN": bybit_signature(secret_value, ts, api_key_value, window, payload),
    }


SIM = SimExchange(
    slug="bybit",
    hosts={"bybit": BybitLiveAPI, "bybit_demo": BybitDemoAPI},
    pools=(
        # 600 requests per 5 s per IP (rate-limit.mdx "HTTP IP limit"); the per-UID limits are
        # per endpoint, per second, rolling: query-api 10/s, account endpoints 50/s.
        RatePool("bybit", "ip", 600, 5.0, per_endpoint=False, fixed_window=False),
        RatePool("bybit", "query_api", 10, 1.0, per_endpoint=True, fixed_window=False),
        RatePool("bybit", "account", 50, 1.0, per_endpoint=True, fixed_window=False),
    ),
    credentials=lambda rng: (api_key(rng), secret(rng), None),
)
