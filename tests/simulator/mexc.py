"""MEXC spot v3 (host `mexc`) and contract v1 (host `mexc_futures`).

Sources: exchanges.md §3 (mexcdevelop/apidocs spot_v3_en and contract_v1_en, the Sep-2025
mexc.com crawl) and the real error bodies quoted there.
"""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import parse_qsl

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
from .data import (
    MEXC_CONTRACTS,
    MEXC_DEFAULT_SYMBOLS,
    MEXC_SPOT_SYMBOLS,
    mexc_api_key,
    mexc_secret,
)
from .signing import mexc_futures_param_string, mexc_futures_signature, mexc_spot_signature

MEXC_KEY_FORMAT = re.compile(r"mx0[A-Za-z0-9]{15}")

# Maintenance body quoted by CCXT (exchanges.md §3.7); the status is not documented.
MAINTENANCE = {
    "code": 500,
    "message": "Under maintenance, please try again later",
    "announcement": "https://www.mexc.com/support/articles/17827791510263",
}
# "IP [x.x.x.x] not in the whitelist" is the observed text (mexcdevelop/mexc-api-sdk#87).
DEFAULT_FAULT_IP = "198.51.100.7"


def _strip_signature(raw: str) -> str:
    """The raw parameter string without its `signature` parameter, order kept (§3.2)."""
    if "signature=" not in raw:
        return raw
    return "&".join(part for part in raw.split("&") if not part.startswith("signature="))


def _retry_after(opts: dict[str, Any], default: int) -> dict[str, str]:
    return {"Retry-After": str(opts.get("retry_after", default))}


class MexcSpotAPI(HostAPI):
    exchange = "mexc"
    role = "mexc"

    def register(self) -> None:
        # Spot limits are per endpoint: public ones per IP, signed ones per UID (§3.8).
        self.add("GET", "/api/v3/ping", lambda r, k: json_response(200, {}), pool="spot")
        self.add("GET", "/api/v3/time", self.time, pool="spot")
        self.add("GET", "/api/v3/exchangeInfo", self.exchange_info, pool="spot")
        self.add("GET", "/api/v3/defaultSymbols", self.default_symbols, pool="spot")
        self.add("GET", "/api/v3/account", self.account, signed=True, pool="spot")
        self.add("POST", "/api/v3/order/test", self.order_test, signed=True, pool="spot")
        self.add("GET", "/api/v3/selfSymbols", self.self_symbols, signed=True, pool="spot")

    # -- errors ---------------------------------------------------------------------------

    def fail(self, code: int, msg: str, status: int = 400, **headers: str) -> SimResponse:
        # Spot errors come as HTTP 400 with {"code", "msg"}: "with status code 400:
        # {"code":700002,...}" (mexcdevelop/mexc-api-sdk#65).
        return json_response(status, {"code": code, "msg": msg}, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            return self.fail(700006, f"IP [{ip}] not in the whitelist", status or 400)
        if kind == "invalid_signature":
            return self.fail(700002, "Signature for this request is not valid.", status or 400)
        if kind == "account_frozen":
            return self.fail(60005, "your account is abnormal", status or 400)
        if kind == "maintenance":
            return json_response(status or 503, MAINTENANCE)
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            return json_response(
                status or 429, {"code": 429, "msg": "Too Many Requests"}, _retry_after(opts, 2)
            )
        if kind == "ip_banned":
            # 418 after repeated violations, Retry-After on 418/429, bans from 2 minutes (§3.8).
            return json_response(
                status or 418,
                {"code": 418, "msg": "IP banned for too many requests"},
                _retry_after(opts, 120),
            )
        if kind == "not_found":
            return json_response(404, {"code": 404, "msg": "Not Found"})
        if kind == "method_not_allowed":
            return json_response(405, {"code": 405, "msg": "Method Not Allowed"})
        raise ValueError(kind)

    # -- auth -----------------------------------------------------------------------------

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("X-MEXC-APIKEY")

    def _all_params(self, request: SimRequest) -> dict[str, str]:
        params = dict(request.params)
        body = request.body_text
        if body and not body.lstrip().startswith(("{", "[")):
            params.update(parse_qsl(body, keep_blank_values=True))
        return params

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        api_key = self.key_id(request)
        if not api_key:
            return self.fail(400, "api key required")
        key = self.sim.get_key("mexc", api_key)
        if key is None:
            if not MEXC_KEY_FORMAT.fullmatch(api_key):
                return self.fail(700001, "API-key format invalid.")
            return self.fail(10072, "invalid access key")
        params = self._all_params(request)
        for name in ("signature", "timestamp"):
            if not params.get(name):
                return self.fail(
                    700004,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        timestamp = params["timestamp"]
        recv_window = params.get("recvWindow") or "5000"
        if not timestamp.isdigit() or not recv_window.isdigit():
            return self.fail(700008, "Illegal characters found in parameter")
        if int(recv_window) > 60000:
            return self.fail(700005, "recvWindow must less than 60000")
        # Server rule (§3.2): accept iff timestamp < serverTime + 1000 and
        # serverTime - timestamp <= recvWindow.
        server_time = self.now_ms()
        if not (
            int(timestamp) < server_time + 1000 and server_time - int(timestamp) <= int(recv_window)
        ):
            return self.fail(700003, "Timestamp for this request is outside of the recvWindow.")
        total_params = _strip_signature(request.query) + _strip_signature(request.body_text)
        expected = mexc_spot_signature(key.secret, total_params)
        # Docs specify lowercase hex; an uppercase signature is treated as wrong.
        if not hmac.compare_digest(params["signature"], expected):
            return self.fail(700002, "Signature for this request is not valid.")
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        return key

    # -- endpoints ------------------------------------------------------------------------

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"serverTime": self.now_ms()})

    def exchange_info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        wanted: set[str] | None = None
        if request.params.get("symbol"):
            wanted = {request.params["symbol"]}
        elif request.params.get("symbols"):
            wanted = {s.strip() for s in request.params["symbols"].split(",")}
        symbols = [s for s in MEXC_SPOT_SYMBOLS if wanted is None or s["symbol"] in wanted]
        return json_response(
            200,
            {
                "timezone": "CST",
                "serverTime": self.now_ms(),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": symbols,
            },
        )

    def default_symbols(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": 200, "data": MEXC_DEFAULT_SYMBOLS, "msg": None})

    def self_symbols(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": 200, "data": MEXC_DEFAULT_SYMBOLS, "msg": None})

    def account(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # Shape of the doc example (§3.6). Whether canTrade/canWithdraw mirror the key's
        # permissions is undocumented; the simulator mirrors them so clients can be tested.
        return json_response(
            200,
            {
                "makerCommission": None,
                "takerCommission": None,
                "buyerCommission": None,
                "sellerCommission": None,
                "canTrade": key.trade,
                "canWithdraw": key.withdrawal,
                "canDeposit": True,
                "updateTime": None,
                "accountType": "SPOT",
                "balances": [
                    {"asset": asset, "free": plain(free), "locked": plain(locked)}
                    for asset, (free, locked) in key.balances.items()
                ],
                "permissions": ["SPOT"],
            },
        )

    def order_test(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # Needs SPOT_DEAL_WRITE; 700007 for keys without it is inferred from the error
        # table, not observed (§3.5).
        if not key.trade:
            return self.fail(700007, "No permission to access the endpoint.")
        return json_response(200, {})


class MexcFuturesAPI(HostAPI):
    exchange = "mexc"
    role = "mexc_futures"

    def register(self) -> None:
        # Contract limits: "20 times / 2 seconds" per endpoint (§3.8, contract docs).
        self.add("GET", "/api/v1/contract/ping", self.ping, pool="futures_public")
        self.add("GET", "/api/v1/contract/detail", self.detail, pool="futures_public")
        self.add(
            "GET",
            "/api/v1/private/account/assets",
            self.assets,
            signed=True,
            pool="futures_private",
        )

    def fail(self, code: int, message: str, status: int = 200, **headers: str) -> SimResponse:
        # Contract errors use the {"success": false, "code", "message"} envelope with HTTP 200
        # (contract docs "Access to url"; makarworld/pymexc#14).
        return json_response(status, {"success": False, "code": code, "message": message}, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # Code 406 "Accessed IP is not in the whitelist" (contract error table); the
            # bracketed IP is the simulator's addition, mirroring the spot wording.
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            return self.fail(406, f"Accessed IP [{ip}] is not in the whitelist", status or 200)
        if kind == "invalid_signature":
            return self.fail(602, "Signature verification failed!", status or 200)
        if kind == "account_frozen":
            return self.fail(60005, "your account is abnormal", status or 200)
        if kind == "maintenance":
            return json_response(status or 503, {"success": False, **MAINTENANCE})
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            return self.fail(
                510, "Excessive frequency of requests", status or 429, **_retry_after(opts, 2)
            )
        if kind == "ip_banned":
            return self.fail(
                418, "IP banned for too many requests", status or 418, **_retry_after(opts, 120)
            )
        if kind == "not_found":
            return self.fail(404, "Not Found", 404)
        if kind == "method_not_allowed":
            return self.fail(405, "Method Not Allowed", 405)
        raise ValueError(kind)

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("ApiKey")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        api_key = self.key_id(request)
        request_time = request.headers.get("Request-Time")
        signature = request.headers.get("Signature")
        if not api_key or not request_time or not signature:
            return self.fail(401, "Unauthorized")
        key = self.sim.get_key("mexc", api_key)
        if key is None:
            return self.fail(401, "Unauthorized")
        # Request-Time must be within Recv-Window seconds of server time (default 10, max 60).
        window = request.headers.get("Recv-Window") or "10"
        window_s = min(int(window), 60) if window.isdigit() else 10
        if not request_time.isdigit() or abs(self.now_ms() - int(request_time)) > window_s * 1000:
            return self.fail(513, "Invalid request time")
        if request.method in ("POST", "PUT"):
            candidates = [request.body_text]
        else:
            # Docs sign sorted k=v with URL-encoded values ("special symbols such as comma
            # ... need to be URL encoded"); plain values are accepted too, as they coincide
            # for ordinary parameters.
            candidates = [
                mexc_futures_param_string(request.params, encode=True),
                mexc_futures_param_string(request.params, encode=False),
            ]
        valid = any(
            hmac.compare_digest(
                signature, mexc_futures_signature(key.secret, api_key, request_time, candidate)
            )
            for candidate in candidates
        )
        if not valid:
            return self.fail(602, "Signature verification failed!")
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        return key

    def ping(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"success": True, "code": 0, "data": self.now_ms()})

    def detail(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        symbol = request.params.get("symbol")
        if symbol:
            match = [c for c in MEXC_CONTRACTS if c["symbol"] == symbol]
            return json_response(
                200, {"success": True, "code": 0, "data": match[0] if match else []}
            )
        return json_response(200, {"success": True, "code": 0, "data": MEXC_CONTRACTS})

    def assets(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.futures:
            return self.fail(701, "Account read permission is required")
        rows = []
        for asset, (free, locked) in key.balances.items():
            rows.append(
                {
                    "currency": asset,
                    "positionMargin": 0,
                    "availableBalance": float(free),
                    "cashBalance": float(free + locked),
                    "frozenBalance": float(locked),
                    "equity": float(free + locked),
                    "unrealized": 0,
                    "bonus": 0,
                }
            )
        return json_response(200, {"success": True, "code": 0, "data": rows})


SIM = SimExchange(
    slug="mexc",
    hosts={"mexc": MexcSpotAPI, "mexc_futures": MexcFuturesAPI},
    pools=(
        # MEXC spot: "each endpoint 500 per 10 s" per IP or per UID (§3.8).
        RatePool("mexc", "spot", 500, 10.0, per_endpoint=True, fixed_window=False),
        # MEXC contract: "20 times / 2 seconds" (§3.8 and contract market docs).
        RatePool("mexc", "futures_private", 20, 2.0, per_endpoint=True, fixed_window=False),
        RatePool("mexc", "futures_public", 20, 2.0, per_endpoint=True, fixed_window=False),
    ),
    credentials=lambda rng: (mexc_api_key(rng), mexc_secret(rng), None),
)
