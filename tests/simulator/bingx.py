"""BingX (host `bingx`, and the VST demo host `bingx_demo`).

Sources: exchanges-more.md §7 (BingX-API/docs-v3) and the BingX docs pages crawled in github
rosssaunders/coincise `docs/bingx/...` (endpoint pages with their "Errors" tables), CCXT's
quoted bodies (`ccxt:bingx.py` exceptions table). The signature is verified here the way the
docs describe it, independently of the client: HMAC-SHA256 (hex) of the query string as sent,
without its `signature` parameter.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import string
import time
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

# "The request's timestamp must be within 5 seconds of the API service time" (§7.5).
TIMESTAMP_TOLERANCE_MS = 5000

# Texts from the endpoint pages' "Errors" tables (bingx-crawl spot/account/query_assets.md).
TIMESTAMP_MISMATCH = (
    "Null timestamp or timestamp mismatch, try to run our sample code from the link "
    "https://bingx-api.github.io/docs/#/en-us/spot/account-api.html#Query%20Assets"
)
IP_MISMATCH = (
    "IP does not match IP whitelist , please go to https://bingx.com/en/account/api/ to "
    "verify the ip you have set"
)

# GET /openApi/spot/v1/common/symbols (bingx-crawl spot/public_rest_api/spot_trading_symbols.md;
# CCXT's example `ccxt:bingx.py` L980-1005): status 1 online, 25 suspended.
SPOT_SYMBOLS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "minQty": 0,
        "maxQty": 0,
        "minNotional": 5,
        "maxNotional": 20000,
        "status": status,
        "tickSize": 0.01,
        "stepSize": 0.0001,
        "apiStateSell": api_sell,
        "apiStateBuy": api_buy,
        "timeOnline": 0,
        "offTime": 0,
        "maintainTime": 0,
        "displayName": symbol.replace("-", "/"),
    }
    for symbol, status, api_buy, api_sell in (
        ("BTC-USDT", 1, True, True),
        ("ETH-USDT", 1, True, True),
        ("VST-USDT", 1, False, True),  # not buyable over the API
        ("OLD-USDT", 25, True, True),  # trading suspended
    )
]

# GET /openApi/swap/v2/quote/contracts (CCXT's example, `ccxt:bingx.py` L1013-1040): strings.
SWAP_CONTRACTS: list[dict[str, Any]] = [
    {
        "contractId": str(100 + index),
        "symbol": f"{asset}-USDT",
        "size": "0.0001",
        "quantityPrecision": "4",
        "pricePrecision": "1",
        "feeRate": "0.0005",
        "makerFeeRate": "0.0002",
        "takerFeeRate": "0.0005",
        "tradeMinLimit": "0",
        "tradeMinQuantity": "0.0001",
        "tradeMinUSDT": "2",
        "maxLongLeverage": "125",
        "maxShortLeverage": "125",
        "currency": "USDT",
        "asset": asset,
        "status": status,
        "apiStateOpen": api_open,
        "apiStateClose": "true",
        "ensureTrigger": True,
        "triggerFeeRate": "0.00020000",
    }
    for index, (asset, status, api_open) in enumerate(
        (("BTC", "1", "true"), ("ETH", "1", "true"), ("DOGE", "1", "false"), ("LUNA", "0", "true"))
    )
]

_ALNUM = string.ascii_letters + string.digits


def bingx_credentials(rng: random.Random) -> tuple[str, str, None]:
    # The docs' example key and secret are 85 letters and digits (§7.2).
    key = "".join(rng.choice(_ALNUM) for _ in range(85))
    secret = "".join(rng.choice(_ALNUM) for _ in range(85))
    return key, secret, None


def _strip_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))


def _mask(api_key: str) -> str:
    return f"{api_key[:6]}****{api_key[-4:]}"


class BingxAPI(HostAPI):
    exchange = "bingx"
    role = "bingx"

    def register(self) -> None:
        # Per-UID limits per endpoint ("each api has its own independent rate limit", 5/s on
        # the pages of the account endpoints); public market group 500 per 10 s per IP.
        self.add("GET", "/openApi/swap/v2/server/time", self.server_time, pool="market")
        self.add("GET", "/openApi/spot/v1/server/time", self.server_time, pool="market")
        self.add("GET", "/openApi/spot/v1/common/symbols", self.symbols, pool="market")
        self.add("GET", "/openApi/swap/v2/quote/contracts", self.contracts, pool="market")
        self.add(
            "GET",
            "/openApi/v1/account/apiPermissions",
            self.api_permissions,
            signed=True,
            pool="account",
        )
        self.add(
            "GET",
            "/openApi/spot/v1/account/balance",
            self.spot_balance,
            signed=True,
            pool="account",
        )
        self.add(
            "GET", "/openApi/swap/v3/user/balance", self.swap_balance, signed=True, pool="account"
        )

    # -- errors ---------------------------------------------------------------------------

    def fail(self, code: int, msg: str, status: int = 200, **headers: str) -> SimResponse:
        # Errors come with HTTP 200 and the business code: `{"code":100419,"msg":"IP does not
        # match IP whitelist","success":false,"timestamp":1705274099347}` (CCXT L644).
        body = {"code": code, "msg": msg, "success": False, "timestamp": self.now_ms()}
        return json_response(status, body, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # No caller IP in BingX's text (§7.6, §9).
            return self.fail(100419, IP_MISMATCH, status or 200)
        if kind == "invalid_signature":
            return self.fail(100001, "Signature verification failed", status or 200)
        if kind == "account_frozen":
            # CCXT's observed body for AccountSuspended (L641); the frozen code is UNVERIFIED.
            return self.fail(
                100414, "Code: 100414, Msg: risk control check fail,code(1)", status or 200
            )
        if kind == "maintenance":
            # No maintenance body is documented: "80012 service unavailable" with HTTP 503.
            return self.fail(80012, "Service Unavailable", status or 503)
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            # Retry-After only where the caller names one (the limiter, or a test); the
            # message always carries BingX's unblock time in epoch ms (bingx-crawl
            # query_assets.md "Errors").
            headers = {"Retry-After": str(opts["retry_after"])} if "retry_after" in opts else {}
            wait = int(opts.get("retry_after", opts.get("unblock_in", 2)))
            until = int(time.time() * 1000) + wait * 1000
            return self.fail(
                100410,
                "code:100410:The endpoint trigger frequency limit rule is currently in the "
                f"disabled period and will be unblocked after {until}",
                status or 429,
                **headers,
            )
        if kind == "ip_banned":
            # HTTP 418 for an IP that kept going after 429; lifted after 5 minutes (§7.7).
            retry = str(opts.get("retry_after", 300))
            return self.fail(
                418, "IP banned for too many requests", status or 418, **{"Retry-After": retry}
            )
        if kind == "not_found":
            return json_response(404, {"code": 100404, "msg": "Not Found"})
        if kind == "method_not_allowed":
            return json_response(405, {"code": 100405, "msg": "Method Not Allowed"})
        raise ValueError(kind)

    # -- auth -----------------------------------------------------------------------------

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("X-BX-APIKEY")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        api_key = self.key_id(request)
        key = self.sim.get_key("bingx", api_key) if api_key else None
        if key is None:
            return self.fail(100413, "Incorrect apiKey")
        params = request.params
        signature = params.get("signature")
        if not signature:
            return self.fail(100412, "Null signature")
        timestamp = params.get("timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self.now_ms()) > TIMESTAMP_TOLERANCE_MS:
            return self.fail(100421, TIMESTAMP_MISMATCH)
        # The parameter string exactly as sent (query requests are not re-sorted, §7.2).
        signed = _strip_signature(request.query)
        expected = hmac.new(key.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return self.fail(100001, "Signature verification failed")
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request)
        return key

    # -- endpoints ------------------------------------------------------------------------

    def server_time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": 0, "msg": "", "data": {"serverTime": self.now_ms()}})

    def symbols(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(
            200, {"code": 0, "msg": "", "debugMsg": "", "data": {"symbols": SPOT_SYMBOLS}}
        )

    def contracts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": 0, "msg": "", "data": SWAP_CONTRACTS})

    def no_permission(self) -> SimResponse:
        # "Permission denied, the API key was created without the permission ..." (CCXT L627).
        return self.fail(
            100004, "Permission denied as the API key was created without the permission"
        )

    def api_permissions(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # `extra`: read (default True), permissions (more codes, e.g. [4, 7]).
        if not key.extra.get("read", True):
            return self.no_permission()
        codes = [2]
        if key.trade:
            codes.insert(0, 1)
        if key.futures:
            codes.append(3)
        codes.extend(key.extra.get("permissions", []))
        if key.withdrawal:
            codes.append(5)
        # Doc example `{"apiKey":"","permissions":[1,2],"ipAddresses":[],"note":"demo"}` in the
        # usual envelope (the envelope itself is UNVERIFIED, §7.3).
        data = {
            "apiKey": _mask(key.api_key),
            "permissions": sorted(set(codes)),
            "ipAddresses": list(key.ip_whitelist or []),
            "note": key.remark,
        }
        return json_response(200, {"code": 0, "msg": "", "data": data})

    def spot_balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.extra.get("read", True):
            return self.no_permission()
        rows = [
            {"asset": asset, "displayName": asset, "free": plain(free), "locked": plain(locked)}
            for asset, (free, locked) in key.balances.items()
        ]
        return json_response(
            200, {"code": 0, "msg": "", "debugMsg": "", "data": {"balances": rows}}
        )

    def swap_balance(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.extra.get("read", True):
            return self.no_permission()
        # The perpetual account holds USDT and USDC (bingx-crawl query_account_data.md).
        rows = []
        for asset, (free, locked) in key.balances.items():
            if asset not in ("USDT", "USDC"):
                continue
            rows.append(
                {
                    "userId": f"{str(key.uid)[:3]}***{str(key.uid)[-3:]}",
                    "asset": asset,
                    "balance": plain(free + locked),
                    "equity": plain(free + locked),
                    "unrealizedProfit": "0",
                    "realisedProfit": "0",
                    "availableMargin": plain(free),
                    "usedMargin": plain(locked),
                    "freezedMargin": "0",
                    "shortUid": str(key.uid),
                }
            )
        return json_response(200, {"code": 0, "msg": "", "data": rows})


class BingxDemoAPI(BingxAPI):
    # VST demo trading (§7.1). The same key works on both hosts; whether VST serves the
    # account endpoints is not documented (ccxt sends them there): simulated as served.
    role = "bingx_demo"


SIM = SimExchange(
    slug="bingx",
    hosts={"bingx": BingxAPI, "bingx_demo": BingxDemoAPI},
    pools=(
        RatePool("bingx", "account", 5, 1.0, per_endpoint=True, fixed_window=False),
        RatePool("bingx", "market", 500, 10.0, per_endpoint=False, fixed_window=False),
    ),
    credentials=bingx_credentials,
)
