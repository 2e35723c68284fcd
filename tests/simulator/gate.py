"""Gate API v4 (host `gate`: spot and USDT perpetual futures on one host).

Sources: exchanges-more.md §5 (gate-sdk `api_client.py gen_sign`, the API v4 docs' "Account"
section and label list, error bodies observed in the wild) and ccxt:gate.py response
comments. The signature is verified here independently of the client's code.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

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

DEFAULT_FAULT_IP = "198.51.100.7"
# "gap between request Timestamp and server time exceeds 60" (§5.2).
TIMESTAMP_TOLERANCE_S = 60

BLOCKED_PAGE = (
    b"<html><head><title>429 Too Many Requests</title></head><body><center>"
    b"<h1>429 Too Many Requests</h1></center><hr><center>openresty</center></body></html>\n"
)

# GET /api/v4/spot/currency_pairs (fields: gateapi-csharp docs/CurrencyPair.md; ccxt:gate.py
# fetch_spot_markets comment). Only `tradable` pairs can be bought and sold.
CURRENCY_PAIRS: list[dict[str, Any]] = [
    {
        "id": "BTC_USDT",
        "base": "BTC",
        "quote": "USDT",
        "fee": "0.2",
        "min_quote_amount": "3",
        "amount_precision": 6,
        "precision": 1,
        "trade_status": "tradable",
        "sell_start": 1516378650,
        "buy_start": 1516378650,
        "type": "normal",
    },
    {
        "id": "ETH_USDT",
        "base": "ETH",
        "quote": "USDT",
        "fee": "0.2",
        "min_quote_amount": "3",
        "amount_precision": 4,
        "precision": 2,
        "trade_status": "tradable",
        "sell_start": 1516378650,
        "buy_start": 1516378650,
        "type": "normal",
    },
    {
        "id": "GT_USDT",
        "base": "GT",
        "quote": "USDT",
        "fee": "0.2",
        "min_quote_amount": "3",
        "amount_precision": 2,
        "precision": 4,
        "trade_status": "tradable",
        "sell_start": 0,
        "buy_start": 0,
        "type": "normal",
    },
    {
        "id": "OLD_USDT",
        "base": "OLD",
        "quote": "USDT",
        "fee": "0.2",
        "trade_status": "untradable",
        "sell_start": 0,
        "buy_start": 0,
        "type": "normal",
    },
    {
        "id": "NEW_USDT",
        "base": "NEW",
        "quote": "USDT",
        "fee": "0.2",
        "trade_status": "buyable",
        "sell_start": 1900000000,
        "buy_start": 0,
        "type": "premarket",
    },
]

# GET /api/v4/futures/usdt/contracts (ccxt:gate.py parse_contract_market comment): perpetuals
# named BASE_USDT, `in_delisting` and `status` ("trading" or "suspend").
CONTRACTS: list[dict[str, Any]] = [
    {
        "name": "BTC_USDT",
        "type": "direct",
        "quanto_multiplier": "0.0001",
        "leverage_max": "125",
        "mark_price": "60000",
        "order_size_min": 1,
        "in_delisting": False,
        "status": "trading",
    },
    {
        "name": "ETH_USDT",
        "type": "direct",
        "quanto_multiplier": "0.01",
        "leverage_max": "100",
        "mark_price": "3000",
        "order_size_min": 1,
        "in_delisting": False,
        "status": "trading",
    },
    {
        "name": "OLD_USDT",
        "type": "direct",
        "quanto_multiplier": "1",
        "leverage_max": "20",
        "mark_price": "0.1",
        "order_size_min": 1,
        "in_delisting": True,
        "status": "trading",
    },
    {
        "name": "HALT_USDT",
        "type": "direct",
        "quanto_multiplier": "1",
        "leverage_max": "20",
        "mark_price": "1",
        "order_size_min": 1,
        "in_delisting": False,
        "status": "suspend",
    },
]


def gate_signature(secret: str, method: str, path: str, query: str, body: bytes, ts: str) -> str:
    """hex HMAC-SHA512 over METHOD, path (with /api/v4), the URL-decoded query, the body's hex
    SHA-512 and the timestamp, one per line (exchanges-more.md §5.2)."""
    payload = "\n".join(
        [method.upper(), path, unquote_plus(query), hashlib.sha512(body).hexdigest(), ts]
    )
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def masked(api_key: str) -> str:
    """`c5dcfbf1f3a7*****`: how the key list shows a key (§5.3 example)."""
    return f"{api_key[:12]}*****"


def perms_of(key: SimKey) -> list[dict[str, Any]]:
    """The key's `perms`, from its traits unless `extra["perms"]` gives them outright.

    `account` (read-only) unless `account=False`; `spot` writable with `trade`, read-only
    without; `futures` writable with `futures`; `wallet` writable with `withdrawal`.
    """
    if "perms" in key.extra:
        return list(key.extra["perms"])
    perms: list[dict[str, Any]] = []
    if key.extra.get("account", True):
        perms.append({"name": "account", "read_only": True})
    perms.append({"name": "spot", "read_only": not key.trade})
    if key.futures:
        perms.append({"name": "futures", "read_only": False})
    if key.withdrawal:
        perms.append({"name": "wallet", "read_only": False})
    return perms


def has_perm(key: SimKey, name: str) -> bool:
    return any(perm.get("name") == name for perm in perms_of(key))


class GateAPI(HostAPI):
    exchange = "gate"
    role = "gate"

    def register(self) -> None:
        self.add("GET", "/api/v4/spot/time", self.time, pool="public")
        self.add("GET", "/api/v4/spot/currency_pairs", self.currency_pairs, pool="public")
        self.add("GET", "/api/v4/futures/usdt/contracts", self.contracts, pool="public")
        self.add("GET", "/api/v4/account/main_keys", self.main_keys, signed=True, pool="account")
        self.add("GET", "/api/v4/account/detail", self.detail, signed=True, pool="account")
        self.add("GET", "/api/v4/spot/accounts", self.spot_accounts, signed=True, pool="private")
        self.add(
            "GET",
            "/api/v4/futures/usdt/accounts",
            self.futures_accounts,
            signed=True,
            pool="private",
        )

    # -- wording ------------------------------------------------------------------------------

    def fail(self, label: str, message: str, status: int, **headers: str) -> SimResponse:
        return json_response(status, {"label": label, "message": message}, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind == "ip_not_allowed":
            # Observed: 401 {"label":"IP_FORBIDDEN","message":"Request IP not in whitelist: x"}
            # (§5.6).
            ip = opts.get("ip", DEFAULT_FAULT_IP)
            return self.fail("IP_FORBIDDEN", f"Request IP not in whitelist: {ip}", status or 401)
        if kind == "invalid_signature":
            return self.fail("INVALID_SIGNATURE", "Signature mismatch", status or 401)
        if kind == "account_frozen":
            return self.fail("ACCOUNT_LOCKED", "Account is locked", status or 403)
        if kind == "maintenance":
            return self.fail(
                "TOO_BUSY", "Server is too busy, please try again later", status or 503
            )
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            retry = int(opts.get("retry_after", 2))
            reset_ms = int((time.time() + retry) * 1000)
            return self.fail(
                "TOO_MANY_REQUESTS",
                "Request Rate limit Exceeded",
                status or 429,
                **{"Retry-After": str(retry), "X-Gate-RateLimit-Reset-Timestamp": str(reset_ms)},
            )
        if kind == "ip_banned":
            return ban_page(status or 429, BLOCKED_PAGE, opts)
        if kind == "not_found":
            return self.fail("NOT_FOUND", "Not found", 404)
        if kind == "method_not_allowed":
            return self.fail("METHOD_NOT_ALLOWED", "Method not allowed", 405)
        raise ValueError(kind)

    # -- authentication -------------------------------------------------------------------------

    def key_id(self, request: SimRequest) -> str | None:
        return request.headers.get("KEY")

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        headers = request.headers
        api_key, sign, timestamp = headers.get("KEY"), headers.get("SIGN"), headers.get("Timestamp")
        if not (api_key and sign and timestamp):
            return self.fail("MISSING_REQUIRED_HEADER", "Missing required header", 400)
        # The timestamp is checked before the key (§5.2, a 2026 third-party note).
        try:
            stamp = float(timestamp)
        except ValueError:
            stamp = None
        if stamp is None or abs(stamp - self.now_ms() / 1000) > TIMESTAMP_TOLERANCE_S:
            return self.fail(
                "REQUEST_EXPIRED",
                f"gap between request Timestamp and server time exceeds {TIMESTAMP_TOLERANCE_S}",
                401,
            )
        key = self.sim.get_key("gate", api_key)
        if key is None:
            # Observed for APIv2 keys on v4 and for unknown keys (§5.6, ccxt#12600).
            return self.fail("INVALID_KEY", "Invalid key provided", 401)
        expected = gate_signature(
            key.secret, request.method, request.path, request.query, request.body, timestamp
        )
        if not hmac.compare_digest(sign.encode(), expected.encode()):
            return self.fail("INVALID_SIGNATURE", "Signature mismatch", 401)
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request, ip=request.caller_ip)
        return key

    # -- endpoints ------------------------------------------------------------------------------

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, {"server_time": self.now_ms()})

    def currency_pairs(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, CURRENCY_PAIRS)

    def contracts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        return json_response(200, CONTRACTS)

    def no_account_permission(self) -> SimResponse:
        # Third-party fixture (§5.3): both account/* endpoints, HTTP 403.
        return self.fail("FORBIDDEN", "Request API key does not have account permission", 403)

    def main_keys(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not has_perm(key, "account"):
            return self.no_account_permission()
        # All the main account's keys, masked (§5.3 example); the caller's among them.
        created = key.created_at_ms // 1000
        mine = {
            "state": int(key.extra.get("state", 1)),
            "mode": 1,
            "name": key.remark,
            "user_id": key.uid,
            "perms": perms_of(key),
            "ip_whitelist": list(key.ip_whitelist or []),
            "currency_pairs": list(key.extra.get("currency_pairs", [])),
            "key": masked(key.api_key),
            "created_at": created,
            "update_at": created,
            "last_access": int(time.time()),
        }
        other = {
            **mine,
            "name": "another key",
            "perms": [{"name": "wallet", "read_only": False}, {"name": "spot", "read_only": False}],
            "ip_whitelist": [],
            "currency_pairs": [],
            "key": "0000aaaa1111*****",
        }
        if key.extra.get("single_object"):
            return json_response(200, {**mine, "key": {"mode": 1}})
        return json_response(200, [other, mine])

    def detail(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not has_perm(key, "account"):
            return self.no_account_permission()
        # "Retrieve user account information" example (§5.3).
        return json_response(
            200,
            {
                "user_id": key.uid,
                "ip_whitelist": list(key.ip_whitelist or []),
                "currency_pairs": list(key.extra.get("currency_pairs", [])),
                "key": {"mode": 1},
                "tier": 0,
                "copy_trading_role": 0,
            },
        )

    def spot_accounts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not has_perm(key, "spot"):
            return self.fail("FORBIDDEN", "Request API key does not have spot permission", 403)
        rows = [
            {"currency": asset, "available": plain(free), "locked": plain(locked)}
            for asset, (free, locked) in key.balances.items()
        ]
        return json_response(200, rows)

    def futures_accounts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not has_perm(key, "futures"):
            return self.fail("FORBIDDEN", "no permission for futures", 403)
        if not key.extra.get("futures_account", True):
            return self.fail(
                "USER_NOT_FOUND", "please transfer funds first to create futures account", 400
            )
        free, locked = key.balances.get("USDT", (Decimal(0), Decimal(0)))
        return json_response(
            200,
            {
                "user": key.uid,
                "currency": "USDT",
                "total": plain(free + locked),
                "unrealised_pnl": "0",
                "position_margin": "0",
                "order_margin": plain(locked),
                "available": plain(free),
                "point": "0",
                "bonus": "0",
                "in_dual_mode": False,
                "enable_credit": False,
                "history": {
                    "dnw": plain(free + locked),
                    "pnl": "0",
                    "fee": "0",
                    "refr": "0",
                    "fund": "0",
                    "point_dnw": "0",
                    "point_fee": "0",
                    "point_refr": "0",
                    "bonus_dnw": "0",
                    "bonus_offset": "0",
                },
            },
        )


def rate_headers(decision: Any) -> list[tuple[str, str]]:
    # X-Gate-RateLimit-* on every answer (gate-docs #frequency-limit-rule).
    return [
        ("X-Gate-RateLimit-Requests-Remain", str(max(0, decision.remaining))),
        ("X-Gate-RateLimit-Limit", str(decision.limit)),
        (
            "X-Gate-RateLimit-Reset-Timestamp",
            str(int((time.time() + max(0.0, decision.reset_s)) * 1000)),
        ),
    ]


def credentials(rng: random.Random) -> tuple[str, str, None]:
    # APIv4 keys: 32 hex characters, secrets 64 (as in the registry's comment).
    return f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(256):064x}", None


SIM = SimExchange(
    slug="gate",
    hosts={"gate": GateAPI},
    pools=(
        # gate-docs #frequency-limit-rule: public 200 r/10 s per endpoint (IP); spot and
        # perpetual private 200 r/10 s per endpoint; other private (account/*) 150 r/10 s.
        RatePool("gate", "public", 200, 10.0, per_endpoint=True, fixed_window=False),
        RatePool("gate", "private", 200, 10.0, per_endpoint=True, fixed_window=False),
        RatePool("gate", "account", 150, 10.0, per_endpoint=True, fixed_window=False),
    ),
    credentials=credentials,
    rate_headers=rate_headers,
)
