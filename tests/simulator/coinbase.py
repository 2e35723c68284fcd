"""Coinbase Advanced Trade (host `coinbase`): spot only.

Sources: /work/shared/docs/exchanges-more.md §8 (the official SDK coinbase-advanced-py and
the CDP docs). Authentication is a JWT per request (§8.2), verified here as Coinbase does:
signature with the key's public key, `kid`/`sub` = key name, `iss` "cdp", the `nbf`/`exp`
window on the server's clock, and `uri` = "METHOD host/path" with the host the request was
sent to (its Host header, `:port` included).

Error bodies: 401 answers are a plain "Unauthorized" (observed, ccxt#26300); 403 "Missing
required scopes" (cb-sdk rest_base.handle_exception); 429 `rate_limit_exceeded` (CCXT's
error id) with x-ratelimit-* headers (cb-sdk constants.py). Coinbase's answers for a
disallowed IP and a frozen account are not documented (§10.8): the simulator answers the IP
case with the same 401 as every other authentication failure and the frozen account with a
403 `PERMISSION_DENIED` "account suspended" (our assumption, marked as such).
"""

from __future__ import annotations

import hmac
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
from .signing import b64url_decode, coinbase_jwt_verify, coinbase_private_key

JWT_ISSUER = "cdp"
# "coinbase-cloud" is the issuer the earlier SDKs and ccxt still put in ES256 tokens, which
# Coinbase accepts too (ccxt:coinbase.py create_auth_token): the ccxt peer benchmark signs so.
JWT_ISSUERS = frozenset({JWT_ISSUER, "coinbase-cloud"})
# How far `nbf` may lie ahead of the server clock. Coinbase does not document a leeway
# (§10.8); a few seconds covers rounding to whole seconds.
NBF_LEEWAY_S = 5

# Quote wallets Coinbase lists even when empty (every currency has an account).
ZERO_WALLETS = ("USDC", "USD")


def _plain_401() -> SimResponse:
    return SimResponse(401, b"Unauthorized\n", content_type="text/plain; charset=utf-8")


class CoinbaseAPI(HostAPI):
    exchange = "coinbase"
    role = "coinbase"

    def register(self) -> None:
        api = "/api/v3/brokerage"
        self.add("GET", f"{api}/time", self.time, pool="public")
        self.add("GET", f"{api}/market/products", self.products, pool="public")
        self.add("GET", f"{api}/key_permissions", self.key_permissions, signed=True, pool="private")
        self.add("GET", f"{api}/accounts", self.accounts, signed=True, pool="private")

    # -- errors -----------------------------------------------------------------------------

    @staticmethod
    def fail(status: int, error: str, message: str, details: str = "", **headers: str):
        body = {"error": error, "error_details": details or message, "message": message}
        return json_response(status, body, headers)

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        status = opts.get("status")
        if kind in ("ip_not_allowed", "invalid_signature"):
            # UNVERIFIED for the IP case (§10.8): the gateway's 401, like any refused token.
            response = _plain_401()
            response.status = status or 401
            return response
        if kind == "account_frozen":
            # Simulator assumption (no documented body, §10.8).
            return self.fail(status or 403, "PERMISSION_DENIED", "Account suspended")
        if kind == "maintenance":
            return self.fail(status or 503, "UNAVAILABLE", "Service unavailable")
        if kind == "html_502":
            return html_502()
        if kind == "rate_limited":
            retry = int(opts.get("retry_after", 2))
            return self.fail(
                status or 429,
                "rate_limit_exceeded",
                "Too many requests",
                **{
                    "Retry-After": str(retry),
                    "x-ratelimit-limit": "30",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(retry),
                },
            )
        if kind == "ip_banned":
            return ban_page(
                status or 429, b"<html><body><h1>429 Too Many Requests</h1></body></html>", opts
            )
        if kind == "not_found":
            return self.fail(404, "NOT_FOUND", "Not Found")
        if kind == "method_not_allowed":
            return self.fail(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
        raise ValueError(kind)

    # -- authentication ---------------------------------------------------------------------

    @staticmethod
    def _token(request: SimRequest) -> str | None:
        value = request.headers.get("Authorization") or ""
        return value[7:].strip() if value.startswith("Bearer ") else None

    def key_id(self, request: SimRequest) -> str | None:
        token = self._token(request)
        if not token:
            return None
        # The unverified `kid`, for the per-user quota only.
        try:
            return json.loads(b64url_decode(token.split(".")[0])).get("kid")
        except (ValueError, AttributeError):
            return None

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        token = self._token(request)
        kid = self.key_id(request)
        key = self.sim.get_key("coinbase", kid) if isinstance(kid, str) else None
        if not token or key is None:
            return _plain_401()
        verified = coinbase_jwt_verify(token, coinbase_private_key(key.secret).public_key())
        if verified is None:
            return _plain_401()
        header, claims = verified
        now_s = self.now_ms() // 1000
        host = request.headers.get("Host") or ""
        expected_uri = f"{request.method} {host}{request.path}"
        nbf, exp = claims.get("nbf"), claims.get("exp")
        valid = (
            header.get("kid") == key.api_key
            and claims.get("sub") == key.api_key
            and claims.get("iss") in JWT_ISSUERS
            and isinstance(nbf, int)
            and isinstance(exp, int)
            and nbf <= now_s + NBF_LEEWAY_S
            and now_s < exp
            and hmac.compare_digest(str(claims.get("uri") or ""), expected_uri)
        )
        if not valid:
            return _plain_401()
        if not key.ip_allowed(request.caller_ip):
            return self.error("ip_not_allowed", request)
        return key

    # -- endpoints --------------------------------------------------------------------------

    def time(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        ms = self.now_ms()
        iso = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
        return json_response(
            200,
            {
                "iso": iso.replace("+00:00", "Z"),
                "epochSeconds": str(ms // 1000),
                "epochMillis": str(ms),
            },
        )

    def products(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        wanted = request.params.get("product_type")
        rows = [p for p in data.COINBASE_PRODUCTS if not wanted or p["product_type"] == wanted]
        return json_response(200, {"products": rows, "num_products": len(rows)})

    def key_permissions(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        # cb-sdk types/data_api_types.py (§8.3).
        return json_response(
            200,
            {
                "can_view": True,
                "can_trade": key.trade,
                "can_transfer": key.withdrawal,
                "portfolio_uuid": key.extra.get(
                    "portfolio_uuid", "8b1d2f6e-0c43-4a52-9d9e-3f1c2b7a6e01"
                ),
                "portfolio_type": key.extra.get("portfolio_type", "DEFAULT"),
            },
        )

    def accounts(self, request: SimRequest, key: SimKey | None) -> SimResponse:
        assert key is not None
        if not key.extra.get("can_view", True):
            return self.fail(403, "PERMISSION_DENIED", "Missing required scopes")
        balances = dict(key.balances)
        for asset in ZERO_WALLETS:
            balances.setdefault(asset, (Decimal(0), Decimal(0)))
        portfolio = key.extra.get("portfolio_uuid", "8b1d2f6e-0c43-4a52-9d9e-3f1c2b7a6e01")
        rows = [
            {
                "uuid": f"{key.uid:08x}-0000-4000-8000-{index:012x}",
                "name": f"{asset} Wallet",
                "currency": asset,
                "available_balance": {"value": plain(free), "currency": asset},
                "default": True,
                "active": True,
                "created_at": "2024-01-31T20:03:42.123Z",
                "updated_at": "2024-01-31T20:03:42.123Z",
                "deleted_at": None,
                "type": "ACCOUNT_TYPE_CRYPTO",
                "ready": True,
                "hold": {"value": plain(locked), "currency": asset},
                "retail_portfolio_id": portfolio,
                "platform": "ACCOUNT_PLATFORM_CONSUMER",
            }
            for index, (asset, (free, locked)) in enumerate(balances.items())
        ]
        return json_response(
            200, {"accounts": rows, "has_next": False, "cursor": "", "size": len(rows)}
        )


def _credentials(rng: random.Random) -> tuple[str, str, None]:
    return data.coinbase_key_name(rng), data.coinbase_ec_private_key(), None


SIM = SimExchange(
    slug="coinbase",
    hosts={"coinbase": CoinbaseAPI},
    pools=(
        # §8.7 (secondary, UNVERIFIED): private 30/s per user, public 10/s per IP.
        RatePool("coinbase", "private", 30, 1.0, per_endpoint=False, fixed_window=False),
        RatePool("coinbase", "public", 10, 1.0, per_endpoint=False, fixed_window=False),
    ),
    credentials=_credentials,
)
