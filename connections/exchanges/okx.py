"""OKX (API v5): spot and USDT-margined perpetual swaps, one host, one unified account.

Facts and sources are collected in docs exchanges-more.md §2 (OKX's v5 docs as crawled
2026-06/07, the official SDK `okxapi/python-okx`, ccxt 4.5.90), §9, §10.2 and §11; the
crawled doc pages (github qiuham/crypto-api-docs, docs/okx/…, updated 2026-06-15) were read
again for the example responses stored in tests/exchanges/fixtures/okx_*.json.

OKX describes the calling key (`GET /api/v5/account/config`): its permissions (`perm`:
read_only, trade, withdraw), its IP whitelist (`ip`) and the account mode (`acctLv`), which
decides whether perpetual swaps can be traded at all. No order is probed: OKX has no test
order endpoint (§2.4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime
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
    extract_ip,
    parse_retry_after,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import normalise_pair, rows_of

SLUG = "okx"

SUCCESS_CODE = "0"

CONFIG_PATH = "/api/v5/account/config"
BALANCE_PATH = "/api/v5/account/balance"
TIME_PATH = "/api/v5/public/time"
INSTRUMENTS_PATH = "/api/v5/public/instruments"

# The header that switches a request to Demo Trading: "x-simulated-trading: 1 needs to be
# added to the header of the Demo Trading request" (okx-docs #overview-demo-trading-services,
# §2.1); python-okx sends it on every request (okx/okxclient.py).
DEMO_HEADER = "x-simulated-trading"

# Error codes of OKX's "API Class" / "General Class" tables (okx-docs
# #error-code-rest-api-public, §2.6; 50119/50120/50110/50101 texts confirmed in §11).
ERROR_CODES: dict[str, Category] = {
    "50103": Category.INVALID_KEY,  # Request header "OK-ACCESS-KEY" cannot be empty.
    "50111": Category.INVALID_KEY,  # Invalid OK-ACCESS-KEY.
    "50119": Category.INVALID_KEY,  # API key doesn't exist
    "50104": Category.INVALID_KEY,  # Request header "OK-ACCESS-PASSPHRASE" cannot be empty.
    "50105": Category.INVALID_KEY,  # Request header "OK-ACCESS-PASSPHRASE" incorrect.
    "50106": Category.INVALID_KEY,  # Request header "OK-ACCESS-SIGN" cannot be empty.
    "50113": Category.INVALID_KEY,  # Invalid signature.
    "50114": Category.INVALID_KEY,  # Invalid authorization.
    "50101": Category.INVALID_KEY,  # APIKey does not match current environment.
    "50107": Category.CLOCK_SKEW,  # Request header "OK-ACCESS-TIMESTAMP" cannot be empty.
    "50102": Category.CLOCK_SKEW,  # Timestamp request expired (> 30 s from server time).
    "50112": Category.CLOCK_SKEW,  # Invalid OK-ACCESS-TIMESTAMP.
    "50110": Category.IP_NOT_ALLOWED,  # Your IP {param0} is not included in … IP whitelist.
    "50120": Category.NO_TRADE_PERMISSION,  # This API key doesn't have permission to use …
    "50030": Category.NO_TRADE_PERMISSION,  # You don't have permission to use this API endpoint
    # "This endpoint requires that APIKey must be bound to IP": the key was recognised, the
    # endpoint refused for a key property (none of the endpoints we call is documented so).
    "50035": Category.NO_TRADE_PERMISSION,
    "50100": Category.ACCOUNT_RESTRICTED,  # API frozen, please contact customer service.
    "50007": Category.ACCOUNT_RESTRICTED,  # User blocked.
    "50009": Category.ACCOUNT_RESTRICTED,  # Account is frozen due to stop-out.
    "50012": Category.ACCOUNT_RESTRICTED,  # Account status invalid…
    "50027": Category.ACCOUNT_RESTRICTED,  # This account is restricted from trading…
    "50029": Category.ACCOUNT_RESTRICTED,  # risk-control restriction
    "50121": Category.ACCOUNT_RESTRICTED,  # You can't access our services through the IP …
    "50011": Category.EXCHANGE_UNAVAILABLE,  # Rate limit reached / Too Many Requests
    "50061": Category.EXCHANGE_UNAVAILABLE,  # sub-account order rate limit
    "50013": Category.EXCHANGE_UNAVAILABLE,  # Systems are busy
    "50001": Category.EXCHANGE_UNAVAILABLE,  # Service temporarily unavailable [503]
    "50026": Category.EXCHANGE_UNAVAILABLE,  # System error [500]
    "50004": Category.EXCHANGE_UNAVAILABLE,  # API endpoint request timeout [400]
    "50005": Category.EXCHANGE_UNAVAILABLE,  # API is offline or unavailable [410]
}

RATE_LIMIT_CODES = frozenset({"50011", "50061"})

# Detail codes for the codes whose category alone would mislead (texts in problems.py).
PASSPHRASE_CODES = frozenset({"50104", "50105"})
SIGNATURE_CODES = frozenset({"50106", "50113", "50114"})
# 50119 "API key doesn't exist": also what a key of OKX's regional sites (EEA my.okx.com,
# US app.okx.com) gets on www.okx.com [S freqtrade#10967, #11405, ccxt#23779; §2.1, §2.8].
KEY_NOT_FOUND_CODES = frozenset({"50111", "50119"})

# `acctLv` of GET /api/v5/account/config: "1: Spot mode, 2: Futures mode, 3: Multi-currency
# margin, 4: Portfolio margin" (okx-docs "Get account configuration", 2026-06-15; §2.3). In
# Spot mode SWAP/FUTURES cannot be traded (§2.3, §9). Names as OKX shows them.
ACCOUNT_MODES: dict[int, str] = {
    1: "Spot mode",
    2: "Futures mode",
    3: "Multi-currency margin",
    4: "Portfolio margin",
}
SPOT_MODE = 1
# `posMode`: "long_short_mode: long/short, only applicable to FUTURES/SWAP; net_mode: net"
# (same page).
POSITION_MODES: dict[str, str] = {"long_short_mode": "long/short", "net_mode": "net"}

# `perm` values (same page): read_only = Read, trade = Trade, withdraw = Withdraw.
PERMISSION_NAMES: dict[str, str] = {"read_only": "read", "trade": "spot", "withdraw": "withdraw"}


# --- Signing -------------------------------------------------------------------------------


def iso_timestamp(ms: int) -> str:
    """OK-ACCESS-TIMESTAMP: ISO 8601 in UTC with milliseconds, e.g. 2020-12-08T09:08:57.715Z
    (§2.2; a local-time offset instead of `Z` is "the most common cause of error 50102")."""
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def sign(secret: str, message: str) -> str:
    """base64 HMAC-SHA256 with the secret key (§2.2; python-okx okx/utils.py `sign`)."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_request(
    secret: str, timestamp: str, method: str, request_path: str, body: str = ""
) -> str:
    """OK-ACCESS-SIGN over timestamp + METHOD + requestPath (with `?query` for GET) + body
    (§2.2; vectors reproduced in tests/exchanges/test_okx.py)."""
    return sign(secret, f"{timestamp}{method.upper()}{request_path}{body}")


def auth_headers(
    credentials: Credentials, timestamp: str, method: str, request_path: str, body: str = ""
) -> dict[str, str]:
    # The passphrase is sent as typed at key creation, in clear (§2.2, python-okx
    # utils.get_header); unlike KuCoin's it is not HMAC'd.
    return {
        "OK-ACCESS-KEY": credentials.api_key,
        "OK-ACCESS-SIGN": sign_request(
            credentials.api_secret, timestamp, method, request_path, body
        ),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": credentials.passphrase,
        "Content-Type": "application/json",
    }


# --- Error classification ------------------------------------------------------------------


def classify(reply: Reply, *, demo: bool = False) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status.

    OKX answers `{"code": "<string>", "msg": "…", "data": […]}` with HTTP 200 for some errors
    and 4xx/5xx for others (§2.6); gateway faults come as HTML.
    """
    if not reply.json_ok:
        return transport_fallback(reply, "OKX")
    data = reply.data
    if not isinstance(data, dict) or "code" not in data:
        return transport_fallback(reply, "OKX", "no code in the answer")
    code = str(data.get("code"))
    if code == SUCCESS_CODE and reply.status < 400:
        return None
    message = str(data.get("msg") or "")
    category = ERROR_CODES.get(code) or category_from_message(message)
    text = f"{code} {message}".strip()
    # OKX documents no Retry-After (§2.6); one sent by a gateway in front is still honoured.
    retry_after = parse_retry_after(
        reply.headers, rate_limited=reply.status == 429 or code in RATE_LIMIT_CODES
    )
    return coded_error(
        reply,
        "OKX",
        category,
        text,
        code=code,
        message=message,
        retry_after=retry_after,
        detail=_detail(code, demo),
        # 50110 names the caller: "Your IP {param0} is not included in your API key's IP
        # whitelist." [P okx-docs error table, §2.6, §9].
        ip_from=reported_ip,
    )


# 50110's wording names the caller's address, IPv4 or IPv6 (§2.6).
_CALLER_IP = re.compile(r"Your IP \[?([0-9A-Fa-f:.]+?)\]? is not included")


def reported_ip(message: str) -> str | None:
    """The caller IP in OKX's 50110 text, else whatever address the message carries."""
    match = _CALLER_IP.search(message)
    if match:
        try:
            return str(ipaddress.ip_address(match.group(1)))
        except ValueError:
            pass
    return extract_ip(message)


def _detail(code: str, demo: bool) -> str | None:
    if code == "50101":
        # "APIKey does not match current environment": a Demo Trading key on the live
        # exchange, or a live key with the demo header (§2.8, python-okx#30). Which one
        # follows from the environment this connection uses.
        return "live_key_on_demo" if demo else "demo_key_on_live"
    if code in PASSPHRASE_CODES:
        return "passphrase_wrong"
    if code in SIGNATURE_CODES:
        return "secret_wrong"
    if code in KEY_NOT_FOUND_CODES:
        return "okx_key_not_found"
    if code == "50100":
        return "key_frozen"
    return None


# --- The client ----------------------------------------------------------------------------


class OkxClient(ExchangeAPI):
    slug = SLUG
    # python-okx consts.py API_URL; ccxt `https://{hostname}` with www.okx.com (§2.1).
    default_base_urls = {"okx": "https://www.okx.com"}
    # Demo Trading. OKX's docs as crawled 2026-06-15/07-03 list the REST domain
    # `https://openapi.okx.com` and require the header `x-simulated-trading: 1` (okx-docs
    # #overview-demo-trading-services, §2.1). python-okx and ccxt (`set_sandbox_mode`) still
    # use www.okx.com + the header, as older docs did; whether that still serves demo is
    # UNVERIFIED (§10.2). We follow OKX's current docs and send the header as well, which
    # both descriptions require; the `okx_demo` key of EXCHANGE_URLS can point demo
    # connections back to https://www.okx.com if OKX's domain ever misbehaves.
    demo_base_urls = {"okx": "https://openapi.okx.com"}
    demo_headers = {DEMO_HEADER: "1"}
    # GET /api/v5/account/config has no expiry field (§2.3). The 14-day deletion of unbound
    # keys is from a secondary source only (§10.2), so it is not claimed.
    not_verifiable = {CheckName.KEY_EXPIRY: "not_reported"}

    def time_calls(self, market: Market) -> list[Call]:
        # One host for spot and swaps. Demo connections send the header on every call, as
        # python-okx does.
        return [Call("time", "GET", self.url("okx", TIME_PATH), self.signed_headers({}))]

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"code":"0","msg":"","data":[{"ts":"1597026383085"}]} (okx-docs "Get system time").
        rows = reply.data.get("data")
        value = as_int(rows[0].get("ts")) if rows and isinstance(rows[0], dict) else None
        if value is None:
            raise unexpected("OKX", "no server time")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply, demo=self.demo)

    def _signed_call(self, name: str, request_path: str, ctx: TestContext) -> Call:
        # A GET is signed with its query as part of requestPath, no body (§2.2).
        timestamp = iso_timestamp(ctx.now_ms("time"))
        headers = auth_headers(ctx.credentials, timestamp, "GET", request_path)
        return Call(name, "GET", self.url("okx", request_path), self.signed_headers(headers))

    def plan(self, ctx: TestContext) -> SignedPlan:
        # Spot and swaps share the one trading account of the unified v5 account (§2.1):
        # the same two calls serve both markets.
        return SignedPlan(
            key_info=self._signed_call("account_config", CONFIG_PATH, ctx),
            balances=self._signed_call("balance", BALANCE_PATH, ctx),
        )

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        assert reply is not None
        rows = reply.data.get("data")
        config = rows[0] if isinstance(rows, list) and rows else None
        if not isinstance(config, dict) or not isinstance(config.get("perm"), str):
            raise unexpected("OKX", "account config without perm")
        raw = [name.strip() for name in config["perm"].split(",") if name.strip()]
        names = {name.lower() for name in raw}
        trade = "trade" in names
        level = as_int(config.get("acctLv"))
        # `trade` covers every instrument type; swaps also need an account mode other than
        # Spot mode (§2.3, §9). An unreadable mode leaves futures unknown, never guessed.
        futures_trade = None if level is None else trade and level != SPOT_MODE
        permissions = [PERMISSION_NAMES.get(name.lower(), name.lower()) for name in raw]
        if futures_trade:
            permissions.append("futures")
        # `ip`: "separate with commas if more than one … an empty string "" if there is no
        # IP bonded" (§2.3).
        whitelist = config.get("ip")
        whitelist = whitelist if isinstance(whitelist, str) else ""
        facts = KeyFacts(
            read="read_only" in names,
            spot_trade=trade,
            futures_trade=futures_trade,
            withdraw="withdraw" in names,
            raw_permissions=raw,
            permissions=list(dict.fromkeys(permissions)),
            ip_whitelist=[ip.strip() for ip in whitelist.split(",") if ip.strip()],
        )
        if ctx.futures and level is not None:
            mode = {"account_mode": ACCOUNT_MODES.get(level, str(level))}
            if level == SPOT_MODE:
                facts.details[CheckName.FUTURES_PERMISSION] = ("okx_spot_mode_account", mode)
                if trade:
                    # The key may trade, the account may not trade swaps: say why.
                    facts.details[CheckName.TRADE_PERMISSION] = ("okx_spot_mode_account", mode)
            elif trade:
                position = str(config.get("posMode") or "")
                if position:
                    mode["position_mode"] = POSITION_MODES.get(position, position)
                # Without a position mode the line names the account mode alone (never "?").
                code = "okx_futures_enabled" if position else "okx_futures_enabled_account_mode"
                facts.details[CheckName.FUTURES_PERMISSION] = (code, mode)
        return facts

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        # GET /api/v5/account/balance: data[0].details[] per currency (okx-docs "Get balance",
        # §2.5). Spot: availBal free, frozenBal locked. Swaps: eq the currency's equity,
        # availEq available ("Applicable to Futures mode/Multi-currency margin/Portfolio
        # margin"; "" otherwise, when availBal is the fallback).
        rows = reply.data.get("data")
        account = rows[0] if isinstance(rows, list) and rows else {"details": []}
        details = account.get("details") if isinstance(account, dict) else None
        if not isinstance(details, list):
            raise unexpected("OKX", "balance without details")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in details:
            if not isinstance(row, dict):
                continue
            asset = str(row.get("ccy") or "").upper()
            if ctx.futures:
                first = to_decimal(row.get("eq"))
                second = to_decimal(row.get("availEq")) if row.get("availEq") != "" else None
                second = second if second is not None else to_decimal(row.get("availBal"))
            else:
                first, second = to_decimal(row.get("availBal")), to_decimal(row.get("frozenBal"))
            if not asset or first is None or second is None:
                raise unexpected("OKX", f"unreadable balance for {asset or 'a currency'}")
            amounts[asset] = (first, second)
        fields = ("equity", "available") if ctx.futures else ("free", "locked")
        return summarise_balances(amounts, fields)

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        # GET /api/v5/public/instruments?instType=SPOT|SWAP (okx-docs "Get instruments"):
        # state `live` only (suspend, preopen, test, rebase, post_only are not tradable by a
        # bot's market orders). Swaps: linear, settled in USDT; baseCcy/quoteCcy are "" for
        # swaps, so the pair comes from the instrument family (`BTC-USDT`).
        swaps = market == Market.FUTURES
        kind = "SWAP" if swaps else "SPOT"
        rows = rows_of(
            get(self.url("okx", f"{INSTRUMENTS_PATH}?instType={kind}")),
            f"okx instruments {kind}",
            ok=lambda p: str(p.get("code")) == SUCCESS_CODE,
        )
        pairs = []
        for row in rows:
            if row.get("state") != "live":
                continue
            if swaps:
                if row.get("ctType") != "linear" or row.get("settleCcy") != "USDT":
                    continue
                family = str(row.get("instFamily") or row.get("uly") or "")
                base, _, quote = family.partition("-")
            else:
                base, quote = row.get("baseCcy"), row.get("quoteCcy")
            pair = normalise_pair(base, quote)
            if pair:
                pairs.append(pair)
        return pairs
