"""KuCoin spot (host `kucoin`) and futures (host `kucoin_futures`).

Sources: exchanges.md §2 (kucoin-universal-sdk specs, kucoin-api-docs, kucoin-skills-hub) and
the real error bodies quoted in §2.7.
"""

from __future__ import annotations

import hmac
import math
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from . import data
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
from .data import KUCOIN_CONTRACTS, KUCOIN_SYMBOLS
from .signing import kucoin_passphrase, kucoin_signature

OK = "200000"
DEFAULT_FAULT_IP = "198.51.100.7"
# Requests more than 5 s away from server time are rejected with 400002 (§2.2).
TIMESTAMP_TOLERANCE_MS = 5000

# Cloudflare's IP rate-limit page (code 1015, "block 30 s", §2.7): what a banned IP gets.
CLOUDFLARE_1015 = (
    b"<!DOCTYPE html>\n<html><head><title>Access denied | api.kucoin.com used Cloudflare to "
    b"restrict access</title></head>\n<body><h1>Error 1015</h1><h2>You are being rate "
    b"limited</h2><p>The owner of this website (api.kucoin.com) has banned you temporarily "
    b"from accessing this website.</p></body></html>\n"
)


def mask_ip(ip: str) -> str:
    """`203.0.113.154` -> `203.**.154`, the masking of the api-key example (§2.4)."""
    parts = ip.split(".")
    if len(parts) == 4:
        return f"{parts[0]}.**.{parts[3]}"
    return ip[:4] + "**"


class KucoinAPI(HostAPI):
    exchange = "kucoin"

    def fail(self, code: str, msg: str, status: int, **headers: str) -> SimResponse:
        return json_response(status, {"code": code, "msg": msg}, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # 403 {"code":"400006","msg":"Invalid request ip"} is observed
            # (Kucoin/kucoin-api-docs#395); newer answers append the caller IP.
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            return self.fail(
                "400006", f"Invalid request ip, the current clientIp is:{ip}", status or 403
            )
        if kind == "invalid_signature":
            return self.fail("400005", "Signature error", status or 401)
        if kind == "account_frozen":
            return self.fail("411100", "User are frozen", status or 403)
        if kind == "maintenance":
            # "503 Service Unavailable -- We're temporarily offline for maintenance"
            # (kucoin-api-docs HTTP error status codes).
            return self.fail(
                "500000",
                "Service Unavailable -- We're temporarily offline for maintenance. "
                "Please try again later.",
                status or 503,
            )
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            retry = int(opts.get("retry_after", 2))
            return self.fail(
                "429000",
                "Too Many Requests",
                status or 429,
                **{"Retry-After": str(retry), "gw-ratelimit-reset": str(retry * 1000)},
            )
        if kind == "ip_banned":
            return ban_page(status or 418, CLOUDFLARE_1015, opts)
        if kind == "not_found":
            return self.fail("404000", "Url Not Found", 404)
        if kind == "method_not_allowed":
            return self.fail("405000", "Method Not Allowed", 405)
        raise ValueError(kind)

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("KC-API-KEY")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        headers = request.headers
        api_key = headers.get("KC-API-KEY")
        signature = headers.get("KC-API-SIGN")
        timestamp = headers.get("KC-API-TIMESTAMP")
        passphrase = headers.get("KC-API-PASSPHRASE")
        if not (api_key and signature and timestamp and passphrase):
            # Observed 400 body (sieblyio/kucoin-api#44, 2025).
            return self.fail(
                "400001",
                "Please check the header of your request for KC-API-KEY, KC-API-SIGN, "
                "KC-API-TIMESTAMP, KC-API-PASSPHRASE",
                400,
            )
        if not timestamp.isdigit() or abs(int(timestamp) - self.now_ms()) > TIMESTAMP_TOLERANCE_MS:
            return self.fail("400002", "KC-API-TIMESTAMP Invalid", 400)
        key = self.sim.get_key("kucoin", api_key)
        if key is None:
            return self.fail("400003", "KC-API-KEY not exists", 401)
        # Version 1 keys send the passphrase in plain text, versions 2 and 3 send
        # base64(HMAC-SHA256(secret, passphrase)) (§2.2). The header must match the key's kind.
        version = headers.get("KC-API-KEY-VERSION") or "1"
        if version == "1" and key.key_version == 1:
            expected_passphrase = key.passphrase or ""
        elif version in ("2", "3") and key.key_version in (2, 3):
            expected_passphrase = kucoin_passphrase(key.secret, key.passphrase or "")
        else:
            expected_passphrase = None
        if expected_passphrase is None or not hmac.compare_digest(
            passphrase.encode(), expected_passphrase.encode()
        ):
            return self.fail("400004", "KC-API-PASSPHRASE error", 401)
        # The endpoint is signed in its non-URL-encoded form (kucoin.com docs-new
        # "authentication"), so the server compares against the decoded request target.
        prehash = f"{timestamp}{request.method}{unquote(request.target)}{request.body_text}"
        if not hmac.compare_digest(
            signature.encode(), kucoin_signature(key.secret, prehash).encode()
        ):
            return self.fail("400005", "Signature error", 401)
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        return key

    def no_permission(self) -> SimResponse:
        # Observed wording (mickomagallanes/kucoin-futures-node-api#1); HTTP status assumed.
        return self.fail("400007", "Access denied, require more permission.", 403)

    def timestamp(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": OK, "data": self.now_ms()})


class KucoinSpotAPI(KucoinAPI):
    role = "kucoin"

    def register(self) -> None:
        # Weights and pools from exchanges.md §2.8 (kucoin-universal-sdk specs); the public
        # weights are small values of the same order as the spec's.
        self.add("GET", "/api/v1/timestamp", self.timestamp, pool="public", weight=3)
        self.add("GET", "/api/v2/symbols", self.symbols, pool="public", weight=4)
        self.add(
            "GET",
            "/api/v1/user/api-key",
            self.api_key_info,
            signed=True,
            pool="management",
            weight=20,
        )
        self.add("GET", "/api/v1/accounts", self.accounts, signed=True, pool="management", weight=5)
        self.add(
            "GET", "/api/v1/hf/accounts/opened", self.hf_opened, signed=True, pool="spot", weight=30
        )
        self.add("POST", "/api/v1/hf/orders/test", self.order_test, signed=True, pool="spot")

    def symbols(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": OK, "data": KUCOIN_SYMBOLS})

    def api_key_info(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # Field set and order of the spec example (§2.4): Futures before Spot, Transfer means
        # withdrawals are allowed.
        permissions = ["General"]
        if key.futures:
            permissions.append("Futures")
        if key.trade:
            permissions.append("Spot")
        if key.withdrawal:
            permissions.append("Transfer")
        data: dict[str, Any] = {
            "remark": key.remark,
            "apiKey": key.api_key,
            "apiVersion": key.key_version,
            "permission": ",".join(permissions),
        }
        # Optional in the spec: absent when the key has no whitelist (§2.4, UNVERIFIED there).
        if key.ip_whitelist:
            data["ipWhitelist"] = ",".join(mask_ip(ip) for ip in key.ip_whitelist)
        data.update({"createdAt": key.created_at_ms, "uid": key.uid, "isMaster": True})
        return json_response(200, {"code": OK, "data": data})

    def accounts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        rows: list[dict[str, str]] = []
        for index, (asset, (free, locked)) in enumerate(key.balances.items()):
            rows.append(
                {
                    "id": f"{key.uid:016x}{index:08x}",
                    "currency": asset,
                    "type": "trade",
                    "balance": plain(free + locked),
                    "available": plain(free),
                    "holds": plain(locked),
                }
            )
        zero = plain(Decimal(0))
        rows.append(
            {
                "id": f"{key.uid:016x}{len(rows):08x}",
                "currency": "USDT",
                "type": "main",
                "balance": zero,
                "available": zero,
                "holds": zero,
            }
        )
        wanted_type = request.params.get("type")
        wanted_currency = request.params.get("currency")
        rows = [
            row
            for row in rows
            if (not wanted_type or row["type"] == wanted_type)
            and (not wanted_currency or row["currency"] == wanted_currency)
        ]
        return json_response(200, {"code": OK, "data": rows})

    def hf_opened(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": OK, "data": False})

    def order_test(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.trade:
            return self.no_permission()
        # Response example of "Add Order Test" (§2.5).
        return json_response(
            200,
            {"code": OK, "data": {"orderId": "670fd33bf9406e0007ab3945", "clientOid": ""}},
        )


class KucoinFuturesAPI(KucoinAPI):
    role = "kucoin_futures"

    def register(self) -> None:
        self.add("GET", "/api/v1/timestamp", self.timestamp, pool="public", weight=2)
        self.add("GET", "/api/v1/contracts/active", self.contracts, pool="public", weight=3)
        self.add(
            "GET", "/api/v1/account-overview", self.overview, signed=True, pool="futures", weight=5
        )

    def contracts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"code": OK, "data": KUCOIN_CONTRACTS})

    def overview(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.futures:
            return self.no_permission()
        # Default currency is XBT (§2.6); numbers are JSON numbers in the spec example.
        currency = request.params.get("currency") or "XBT"
        free, locked = key.balances.get(currency, (Decimal(0), Decimal(0)))
        equity = float(free + locked)
        return json_response(
            200,
            {
                "code": OK,
                "data": {
                    "accountEquity": equity,
                    "unrealisedPNL": 0.0,
                    "marginBalance": equity,
                    "positionMargin": 0.0,
                    "orderMargin": float(locked),
                    "frozenFunds": 0.0,
                    "availableBalance": float(free),
                    "currency": currency,
                    "riskRatio": 0.0,
                    "maxWithdrawAmount": float(free),
                },
            },
        )


def rate_headers(decision: Any) -> list[tuple[str, str]]:
    # KuCoin reports its quota in gw-ratelimit-* headers, reset in ms (§2.8, read by the
    # official SDK); MEXC documents no such headers.
    return [
        ("gw-ratelimit-limit", str(decision.limit)),
        ("gw-ratelimit-remaining", str(max(0, decision.remaining))),
        ("gw-ratelimit-reset", str(max(0, math.ceil(decision.reset_s * 1000)))),
    ]


SIM = SimExchange(
    slug="kucoin",
    hosts={"kucoin": KucoinSpotAPI, "kucoin_futures": KucoinFuturesAPI},
    pools=(
        # KuCoin VIP0 resource pools per 30 s (§2.8); public is per IP, the others per UID.
        RatePool("kucoin", "management", 2000, 30.0, per_endpoint=False, fixed_window=True),
        RatePool("kucoin", "spot", 4000, 30.0, per_endpoint=False, fixed_window=True),
        RatePool("kucoin", "futures", 2000, 30.0, per_endpoint=False, fixed_window=True),
        RatePool("kucoin", "public", 2000, 30.0, per_endpoint=False, fixed_window=True),
    ),
    credentials=lambda rng: (
        data.kucoin_api_key(rng),
        data.kucoin_secret(rng),
        data.kucoin_passphrase(rng),
    ),
    needs_passphrase=True,
    rate_headers=rate_headers,
)
