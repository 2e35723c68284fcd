"""KuCoin: spot (api.kucoin.com) and futures (api-futures.kucoin.com).

Facts and sources are collected in docs exchanges.md §2 and §12 (KuCoin's official
universal SDK and its OpenAPI spec, the old docs repository, docs-new pages).

KuCoin describes the calling key (`GET /api/v1/user/api-key`): its permissions (General,
Spot, Margin, Futures, InnerTransfer, Transfer, Earn) and IP whitelist. Trade, futures and
withdrawal permission and the IP restriction are read from there; no order is probed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
)
from .flow import ExchangeAPI, KeyFacts, SignedPlan, TestContext
from .http import (
    Call,
    Reply,
    as_int,
    category_from_message,
    coded_error,
    parse_retry_after,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import normalise_pair, rows_of

SLUG = "kucoin"

SUCCESS_CODE = "200000"

# CCXT always sends "2" (ccxt:kucoin.py:L11089-11102, exchanges.md §2.2), as do KuCoin's
# older SDKs; the universal SDK sends "3". Versions 2 and 3 encrypt the passphrase the same
# way, and "2" is what the bulk of third-party clients send for keys of either version.
KEY_VERSION = "2"

# System error codes (exchanges.md §2.7 and §12; kc-docs-old "System error codes").
ERROR_CODES: dict[str, Category] = {
    "400001": Category.INVALID_KEY,  # a KC-API-* header is missing
    "400003": Category.INVALID_KEY,  # KC-API-KEY not exists
    "400004": Category.INVALID_KEY,  # KC-API-PASSPHRASE error
    "400005": Category.INVALID_KEY,  # Signature error
    "400002": Category.CLOCK_SKEW,  # KC-API-TIMESTAMP differs from server time by > 5 s
    "400006": Category.IP_NOT_ALLOWED,  # ip address is not in the api whitelist
    "400007": Category.NO_TRADE_PERMISSION,  # Access Denied: key lacks permission for URI
    "411100": Category.ACCOUNT_RESTRICTED,  # User are frozen
    "400500": Category.ACCOUNT_RESTRICTED,  # restricted location (CCXT RestrictedLocation)
    "429000": Category.EXCHANGE_UNAVAILABLE,  # Too Many Requests
    "200002": Category.EXCHANGE_UNAVAILABLE,  # per-endpoint rate limit, blocked 10 s
    "1015": Category.EXCHANGE_UNAVAILABLE,  # Cloudflare IP rate limit
    "500000": Category.EXCHANGE_UNAVAILABLE,  # Internal Server Error
    "429": Category.EXCHANGE_UNAVAILABLE,
    "500": Category.EXCHANGE_UNAVAILABLE,
    "503": Category.EXCHANGE_UNAVAILABLE,
}

RATE_LIMIT_CODES = frozenset({"429000", "200002", "1015", "429"})

# Permission names of `GET /api/v1/user/api-key` (§2.4) → our normalised names.
# "Trade" is the name older keys carry for order placement (KuCoin support article
# 900006465403 "General / Trade / Transfer").
PERMISSION_NAMES: dict[str, str] = {
    "general": "read",
    "spot": "spot",
    "trade": "spot",
    "margin": "margin",
    "futures": "futures",
    "transfer": "withdraw",
    "innertransfer": "inner_transfer",
    "earn": "earn",
}

# Spot balances live in the classic trade account or the high-frequency one (§2.6).
SPOT_ACCOUNT_TYPES = frozenset({"trade", "trade_hf"})


# --- Signing -------------------------------------------------------------------------------


def sign(secret: str, message: str) -> str:
    """base64 HMAC-SHA256 (§2.2; vector `jie/gxS…` from KuCoin's own SDK test, §2.3)."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_passphrase(secret: str, passphrase: str) -> str:
    """Key versions 2 and 3 send the passphrase HMAC'd with the secret (§2.2)."""
    return sign(secret, passphrase)


def sign_request(
    secret: str, timestamp_ms: int | str, method: str, endpoint: str, body: str = ""
) -> str:
    """KC-API-SIGN over timestamp + METHOD + path-with-query (not URL-encoded) + body."""
    return sign(secret, f"{timestamp_ms}{method.upper()}{endpoint}{body}")


def auth_headers(
    credentials: Credentials, timestamp_ms: int, method: str, endpoint: str, body: str = ""
) -> dict[str, str]:
    # No KC-API-PARTNER / broker headers: those identify CCXT or a broker (§0.7, §2.2).
    return {
        "KC-API-KEY": credentials.api_key,
        "KC-API-SIGN": sign_request(credentials.api_secret, timestamp_ms, method, endpoint, body),
        "KC-API-TIMESTAMP": str(timestamp_ms),
        "KC-API-PASSPHRASE": sign_passphrase(credentials.api_secret, credentials.passphrase),
        "KC-API-KEY-VERSION": KEY_VERSION,
        "Content-Type": "application/json",
    }


# --- Error classification ------------------------------------------------------------------


def classify(reply: Reply, *, futures_call: bool = False) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status.

    KuCoin answers errors with HTTP 200 as well as 4xx, always with a string `code`
    (§2.7, §13.1); Cloudflare pages (1015, 5xx) come as HTML.
    """
    what = "KuCoin futures" if futures_call else "KuCoin"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    data = reply.data
    if not isinstance(data, dict) or "code" not in data:
        return transport_fallback(reply, what, "no code in the answer")
    code = str(data.get("code"))
    if code == SUCCESS_CODE and reply.status < 400:
        return None
    message = str(data.get("msg") or "")
    category = ERROR_CODES.get(code) or category_from_message(message)
    if futures_call and category == Category.NO_TRADE_PERMISSION:
        # 400007 on the futures host means the key lacks the Futures permission.
        category = Category.FUTURES_NOT_PERMITTED
    text = f"{code} {message}".strip()
    retry_after = parse_retry_after(
        reply.headers, rate_limited=reply.status == 429 or code in RATE_LIMIT_CODES
    )
    return coded_error(
        reply,
        what,
        category,
        text,
        code=code,
        message=message,
        retry_after=retry_after,
    )


# Calls answered by the futures host, whose 400007 means "no Futures permission".
FUTURES_CALLS = frozenset({"futures_time", "account_overview"})

# KuCoin futures contract type of perpetual swaps ("FFWCSX"); dated futures ("FFICSX")
# expire, which a strategy that keeps a group open until its exit cannot live with.
KUCOIN_PERPETUAL = "FFWCSX"


# --- The client ----------------------------------------------------------------------------


class KucoinClient(ExchangeAPI):
    slug = SLUG
    default_base_urls = {
        "kucoin": "https://api.kucoin.com",
        "kucoin_futures": "https://api-futures.kucoin.com",
    }
    # KuCoin's key info has no expiry (§2.4).
    not_verifiable = {CheckName.KEY_EXPIRY: "not_reported"}

    def time_calls(self, market: Market) -> list[Call]:
        calls = [Call("time", "GET", self.url("kucoin", "/api/v1/timestamp"))]
        if market == Market.FUTURES:
            calls.append(
                Call("futures_time", "GET", self.url("kucoin_futures", "/api/v1/timestamp"))
            )
        return calls

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # GET /api/v1/timestamp: {"code": "200000", "data": 1546837113087} on both hosts
        # (kucoin-go-sdk time.go; kucoin-skills-hub futures-trading "Get Server Time").
        value = as_int(reply.data.get("data"))
        if value is None:
            raise unexpected("KuCoin", f"no server time in {reply.name}")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply, futures_call=reply.name in FUTURES_CALLS)

    def _signed_call(
        self, name: str, host: str, endpoint: str, ctx: TestContext, time_call: str
    ) -> Call:
        # The endpoint is signed exactly as sent: path plus the raw query (§2.2).
        headers = auth_headers(ctx.credentials, ctx.now_ms(time_call), "GET", endpoint)
        return Call(name, "GET", self.url(host, endpoint), headers)

    def plan(self, ctx: TestContext) -> SignedPlan:
        # Key info and the balances, at once, each signed with its host's clock.
        key_info = self._signed_call("api_key", "kucoin", "/api/v1/user/api-key", ctx, "time")
        if ctx.futures:
            balances = self._signed_call(
                "account_overview",
                "kucoin_futures",
                "/api/v1/account-overview?currency=USDT",
                ctx,
                "futures_time",
            )
        else:
            # All account types at once; the trade and trade_hf ones are summarised.
            balances = self._signed_call("accounts", "kucoin", "/api/v1/accounts", ctx, "time")
        return SignedPlan(key_info=key_info, balances=balances)

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        assert reply is not None
        data = reply.data.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("permission"), str):
            raise unexpected("KuCoin", "api-key info without permission")
        raw = [name.strip() for name in data["permission"].split(",") if name.strip()]
        names = {name.lower() for name in raw}
        # `ipWhitelist` is optional in the spec: absent or empty means no restriction
        # (exchanges.md §2.4, UNVERIFIED which of the two KuCoin sends). It comes back masked
        # ("203.**.154,103.**.34"): entries are only counted. No whitelist is a warning: KuCoin
        # allows it, but disables or deletes such trading keys after 30 days of inactivity
        # (KuCoin support 360015102174).
        whitelist = data.get("ipWhitelist")
        whitelist = whitelist.strip() if isinstance(whitelist, str) else ""
        return KeyFacts(
            read="general" in names,
            spot_trade=bool(names & {"spot", "trade"}),
            # A futures connection trades with the Futures permission; Spot is not needed.
            futures_trade="futures" in names,
            # "Transfer — Allows a key to transfer funds (including deposit and withdrawal)"
            # (KuCoin support 900006465403). A trading bot's key must never have it.
            withdraw="transfer" in names,
            raw_permissions=raw,
            permissions=[PERMISSION_NAMES.get(name.lower(), name.lower()) for name in raw],
            ip_whitelist=[ip for ip in whitelist.split(",") if ip.strip()],
        )

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market == Market.FUTURES:
            rows = rows_of(
                get(self.url("kucoin_futures", "/api/v1/contracts/active")),
                "kucoin contracts/active",
                ok=lambda p: p.get("code") == SUCCESS_CODE,
            )
            return [
                pair
                for row in rows
                if row.get("status") == "Open"
                and row.get("type") == KUCOIN_PERPETUAL
                and (pair := normalise_pair(row.get("baseCurrency"), row.get("quoteCurrency")))
            ]
        rows = rows_of(
            get(self.url("kucoin", "/api/v2/symbols")),
            "kucoin symbols",
            ok=lambda p: p.get("code") == SUCCESS_CODE,
        )
        return [
            pair
            for row in rows
            if row.get("enableTrading") is True
            and (pair := normalise_pair(row.get("baseCurrency"), row.get("quoteCurrency")))
        ]

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /api/v1/accounts: [{"currency", "type", "balance", "available", "holds"}] (§2.6).
        rows = reply.data.get("data")
        if not isinstance(rows, list):
            raise unexpected("KuCoin", "accounts without data")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict) or row.get("type") not in SPOT_ACCOUNT_TYPES:
                continue
            asset = str(row.get("currency") or "").upper()
            free, holds = to_decimal(row.get("available")), to_decimal(row.get("holds"))
            if not asset or free is None or holds is None:
                raise unexpected("KuCoin", f"unreadable balance for {asset or 'an account'}")
            before = amounts.get(asset, (Decimal(0), Decimal(0)))
            amounts[asset] = (before[0] + free, before[1] + holds)
        return summarise_balances(amounts, ("free", "locked"))

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /api/v1/account-overview?currency=USDT: {"accountEquity", "availableBalance",
        # "currency", ...} (§2.6).
        data = reply.data.get("data")
        if not isinstance(data, dict):
            raise unexpected("KuCoin futures", "account overview without data")
        equity = to_decimal(data.get("accountEquity"))
        available = to_decimal(data.get("availableBalance"))
        if equity is None or available is None:
            raise unexpected("KuCoin futures", "unreadable account overview")
        asset = str(data.get("currency") or "USDT").upper()
        return summarise_balances({asset: (equity, available)}, ("equity", "available"))
