"""Bitget: classic v2 API, spot and USDT-M futures, one host (api.bitget.com).

Facts and sources are collected in docs exchanges-more.md §4 (and §0, §9, §10.4): Bitget's API
docs (bitget.com/api-doc and its mirrors, verbatim crawl copies), Bitget's official SDK
(github BitgetLimited/v3-bitget-api-sdk) and CCXT 4.5.90 (`ccxt/bitget.py`), named next to
each fact below.

Bitget describes the calling key (`GET /api/v2/spot/account/info`): its `authorities` and its
IP whitelist (`ips`). Trading, futures and withdrawal permissions and the IP restriction are
read from there; no order is probed. Two unverified points shape the reading (§4.3, §10.4):
- the docs list fine-grained codes (`stow` spot trade, `coow`/`cpow` futures, `wwow`
  withdrawal, `*r` read-only), but their example answer shows the coarse `["trade",
  "readonly"]`. Both are accepted. From coarse values alone, what they cannot tell (spot or
  futures trading, withdrawal) is reported as "cannot be verified", never guessed;
- the form of `ips` with several addresses: comma, semicolon or space separated are accepted.

Demo trading: the same host, a demo key and the header `paptrading: 1` on signed calls
(§4.1; bitget.com/api-doc/common/demotrading/restapi). The public time call goes without it,
as CCXT does (`ccxt:bitget.py` sign(), "path != 'v2/public/time'").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    TemporaryExchangeError,
)
from .flow import ExchangeAPI, KeyFacts, SignedPlan, TestContext
from .http import (
    Call,
    Reply,
    as_int,
    category_from_message,
    coded_error,
    parse_retry_after,
    summarise_asset_rows,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import normalise_pair, rows_of

SLUG = "bitget"

SUCCESS_CODE = "00000"

# The product type of USDT-M perpetual futures (§4.5). A demo key uses the same value with the
# `paptrading` header; the `SUSDT-FUTURES` demo symbols belong to the other demo mode, live
# keys on simulated pairs (bitget.com/api-doc/common/demotrading/restapi; ccxt/ccxt#25523 and
# PR #25541, which stop CCXT from sending the header with the S-product types).
USDT_FUTURES = "USDT-FUTURES"

# Language of Bitget's messages: the docs' request examples send `locale: en-US` (§4.2).
LOCALE = "en-US"

# Demo trading (§4.1): demo keys are refused without this header, live keys with it.
DEMO_HEADERS: Mapping[str, str] = {"paptrading": "1"}

# Error codes (§4.6: codes and messages from the comments in `ccxt:bitget.py` L1461-1497, not
# from a Bitget error page; "Rest API will return 429 status" and "401 Unauthorized - Invalid
# API Key" from bitget.com/api-doc/common/intro, "Common Error Codes").
ERROR_CODES: dict[str, Category] = {
    "40001": Category.INVALID_KEY,  # ACCESS_KEY cannot be empty
    "40002": Category.INVALID_KEY,  # SECRET_KEY cannot be empty
    "40003": Category.INVALID_KEY,  # Signature cannot be empty
    "40006": Category.INVALID_KEY,  # Invalid ACCESS_KEY
    "40037": Category.INVALID_KEY,  # Apikey does not exist
    "40009": Category.INVALID_KEY,  # sign signature error
    "40010": Category.INVALID_KEY,  # sign signature error
    "40011": Category.INVALID_KEY,  # ACCESS_PASSPHRASE cannot be empty
    # "apikey/password is incorrect": the key or the passphrase, Bitget does not say which.
    "40012": Category.INVALID_KEY,
    # "exchange environment is incorrect": a demo key sent to live trading (observed in
    # ccxt/ccxt#25004, #25502 and #26125); the reverse (a live key with the demo header) is
    # assumed to answer the same, UNVERIFIED.
    "40099": Category.INVALID_KEY,
    "40004": Category.CLOCK_SKEW,  # Request timestamp expired
    "40005": Category.CLOCK_SKEW,  # Invalid ACCESS_TIMESTAMP
    "40008": Category.CLOCK_SKEW,  # Request timestamp expired
    "40018": Category.IP_NOT_ALLOWED,  # Invalid IP (caller IP included? UNVERIFIED, §10.4)
    "40014": Category.NO_TRADE_PERMISSION,  # Incorrect permissions
    "40013": Category.ACCOUNT_RESTRICTED,  # User status is abnormal
    # The user must bind the phone or Google: the account, not the key, must change.
    "40016": Category.ACCOUNT_RESTRICTED,
    # The account has been cancelled and cannot be used again (ccxt:bitget.py L1487).
    "40031": Category.ACCOUNT_RESTRICTED,
    # "You are in Unified Account mode, and the Classic Account API is not supported at this
    # time" (ccxt:bitget.py L1637): a UTA account cannot be served by the v2 endpoints.
    "40085": Category.ACCOUNT_RESTRICTED,
    "40200": Category.EXCHANGE_UNAVAILABLE,  # Server upgrade, please try again later
    "40015": Category.EXCHANGE_UNAVAILABLE,  # System is abnormal, please try again later
    "40604": Category.EXCHANGE_UNAVAILABLE,  # Server is busy, please try again later
    "429": Category.EXCHANGE_UNAVAILABLE,  # Too many requests
    "500": Category.EXCHANGE_UNAVAILABLE,  # System busy
}

# Detail codes for the failed check where the category alone would mislead.
ERROR_DETAILS: dict[str, str] = {
    "40012": "bitget_key_or_passphrase",
    "40099": "bitget_environment_mismatch",
    "40016": "bitget_bind_phone_or_google",
    "40085": "bitget_unified_account",
}

RATE_LIMIT_CODES = frozenset({"429"})

# Permission codes of `authorities` (§4.3, bitget.live/bitgetapp copies of "Get Account
# Information") → our normalised names. Read-only codes end in "r".
PERMISSION_NAMES: dict[str, str] = {
    "coor": "futures_read",  # futures orders, read
    "cpor": "futures_read",  # futures holdings, read
    "stor": "spot_read",  # spot trade, read
    "smor": "margin_read",
    "ttor": "copy_trading_read",
    "wtor": "transfer_read",
    "taxr": "tax_read",
    "chor": "subaccount_read",
    "p2pr": "p2p_read",
    "pllr": "pledge_loan_read",
    "coow": "futures",  # futures orders, read and write
    "cpow": "futures",  # futures holdings, read and write
    "stow": "spot",  # spot trade, read and write
    "smow": "margin",
    "ttow": "copy_trading",
    # Wallet transfer: between the account's own wallets, not off the account.
    "wtow": "transfer",
    "wwow": "withdraw",  # wallet withdrawal
    "chow": "subaccount",
    "p2p": "p2p",
    "p2pw": "p2p",
    "pllw": "pledge_loan",
    "taxw": "tax",
}
FINE_CODES = frozenset(PERMISSION_NAMES)
# The coarse values of the docs' example answer, and the names of the intro's permission list
# ("Read-Only", "Trade", "Transfer", "Withdraw"; bitget.com/api-doc/common/intro).
COARSE_NAMES: dict[str, str] = {
    "readonly": "read",
    "read": "read",
    "trade": "trade",
    "transfer": "transfer",
    "withdraw": "withdraw",
}

# Separators seen or plausible in `ips` with several entries (format UNVERIFIED, §10.4).
_IP_SEPARATORS = re.compile(r"[\s,;]+")

# Calls answered from the futures (mix) account, whose 40014 means "no futures permission".
FUTURES_CALLS = frozenset({"mix_accounts"})


# --- Signing -------------------------------------------------------------------------------


def sign(secret: str, message: str) -> str:
    """base64 HMAC-SHA256 (§4.2; bg-sdk `utils.sign`); vectors in exchanges-more.md §4.2."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def query_string(params: Mapping[str, str]) -> str:
    """The query as signed: keys in ascending order, values not percent-encoded ("Need to be
    sorted in ascending alphabetical order by key", bitget.com/api-doc/common/signature;
    bg-sdk `utils.parse_params_to_str`; CCXT signs the raw sorted query too)."""
    return "&".join(f"{key}={value}" for key, value in sorted(params.items()))


def prehash(
    timestamp_ms: int | str,
    method: str,
    path: str,
    params: Mapping[str, str] | None = None,
    body: str = "",
) -> str:
    """timestamp + METHOD + requestPath ["?" + queryString] + body (§4.2)."""
    query = query_string(params or {})
    return f"{timestamp_ms}{method.upper()}{path}{'?' + query if query else ''}{body}"


def auth_headers(
    credentials: Credentials,
    timestamp_ms: int,
    method: str,
    path: str,
    params: Mapping[str, str] | None = None,
    body: str = "",
) -> dict[str, str]:
    # The passphrase goes in clear (§4.2, bg-sdk `utils.get_header`). No X-CHANNEL-API-CODE:
    # that header is CCXT's broker code (`ccxt:bitget.py` L11617), not ours to send.
    message = prehash(timestamp_ms, method, path, params, body)
    return {
        "ACCESS-KEY": credentials.api_key,
        "ACCESS-SIGN": sign(credentials.api_secret, message),
        "ACCESS-TIMESTAMP": str(timestamp_ms),
        "ACCESS-PASSPHRASE": credentials.passphrase,
        "Content-Type": "application/json",
        "locale": LOCALE,
    }


# --- Error classification ------------------------------------------------------------------


def classify(reply: Reply, *, futures_call: bool = False) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status.

    Bitget answers `{"code": "00000", "msg": "success", ...}` on success and a string code
    with `msg` otherwise (§4.5, §4.6); some doc examples say `message` instead of `msg`.
    """
    what = "Bitget"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    data = reply.data
    if not isinstance(data, dict) or "code" not in data:
        return transport_fallback(reply, what, "no code in the answer")
    code = str(data.get("code"))
    if code == SUCCESS_CODE and reply.status < 400:
        return None
    message = str(data.get("msg") or data.get("message") or "")
    text = f"{code} {message}".strip()
    rate_limited = reply.status == 429 or code in RATE_LIMIT_CODES
    retry_after = parse_retry_after(reply.headers, rate_limited=rate_limited)
    if rate_limited:
        # Whatever the body says: a rate limit is temporary (bitget.com/api-doc/common/intro).
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"{what} rate limit (HTTP {reply.status}): {text}",
            exchange_code=code,
            retry_after=retry_after,
        )
    category = ERROR_CODES.get(code) or category_from_message(message)
    if futures_call and category == Category.NO_TRADE_PERMISSION:
        category = Category.FUTURES_NOT_PERMITTED
    return coded_error(
        reply,
        what,
        category,
        text,
        code=code,
        message=message,
        retry_after=retry_after,
        detail=ERROR_DETAILS.get(code),
    )


# --- Key introspection ---------------------------------------------------------------------


def read_authorities(authorities: Any) -> KeyFacts:
    """`authorities` of `GET /api/v2/spot/account/info` as facts (see the module docstring).

    Fine-grained codes decide where there are any; coarse values only say what they can.
    Names we do not know are kept (raw_permissions, and as they are in `permissions`), and
    never make a permission true.
    """
    raw = [str(name).strip() for name in authorities or [] if str(name).strip()]
    names = {name.lower() for name in raw}
    permissions: list[str] = []
    for name in raw:
        mapped = PERMISSION_NAMES.get(name.lower()) or COARSE_NAMES.get(name.lower())
        mapped = mapped or name.lower()
        if mapped not in permissions:
            permissions.append(mapped)
    facts = KeyFacts(raw_permissions=raw, permissions=permissions)
    fine = names & FINE_CODES
    coarse = names & set(COARSE_NAMES)
    if fine:
        # The key could call the info endpoint, which needs spot read (§4.3).
        facts.read = True
        facts.spot_trade = "stow" in names
        # Orders are what a strategy places; holdings (cpow) alone cannot open a trade.
        facts.futures_trade = "coow" in names
        facts.withdraw = "wwow" in names or "withdraw" in names
        return facts
    if coarse:
        facts.read = True
        writable = coarse - {"readonly", "read"}
        if not writable:
            # Read-only: the key can neither trade nor move funds.
            facts.spot_trade = facts.futures_trade = facts.withdraw = False
        elif "withdraw" in coarse:
            facts.withdraw = True
        # "trade" alone: some write permission, spot or futures not said, withdrawal not said.
    return facts


def ip_entries(ips: Any) -> list[str] | None:
    """The whitelist from `ips`: a string, "" when none is set (§4.3); None when absent."""
    if ips is None:
        return None
    values = [str(ip) for ip in ips] if isinstance(ips, list) else _IP_SEPARATORS.split(str(ips))
    return [ip.strip() for ip in values if ip.strip()]


def _answered_ok(payload: dict) -> bool:
    return str(payload.get("code")) == SUCCESS_CODE


# --- The client ----------------------------------------------------------------------------


class BitgetClient(ExchangeAPI):
    slug = SLUG
    # One REST domain for spot, futures and demo (§4.1; bg-sdk consts.py `API_URL`).
    default_base_urls = {"bitget": "https://api.bitget.com"}
    demo_headers = DEMO_HEADERS
    # "SPOT read or SPOT read/write permission needed" for the key info (§4.3): a futures-only
    # key may be refused it. Its refusal leaves the facts unknown instead of failing the test.
    key_info_optional = True
    # No expiry in the key info (§4.3). Trading and withdrawal are only not verifiable when
    # the answer carries coarse values alone (`read_authorities`).
    not_verifiable = {
        CheckName.KEY_EXPIRY: "not_reported",
        CheckName.TRADE_PERMISSION: "bitget_coarse_permissions",
        CheckName.WITHDRAWAL: "bitget_coarse_permissions",
    }
    # The key info allows "1 time/1 s (User ID)" (§4.3): signed calls sent again after a
    # round signed with a wrong skew wait that long, or the second would be a rate limit.
    resend_wait_s = 1.0

    def time_calls(self, market: Market) -> list[Call]:
        # One host for both markets; never with the demo header (see the module docstring).
        return [Call("time", "GET", self.url("bitget", "/api/v2/public/time"))]

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"code":"00000","msg":"success","requestTime":…,"data":{"serverTime":"1688008631614"}}
        # (bitget.com/api-doc/common/public/Get-Server-Time; §4.5).
        data = reply.data.get("data")
        value = as_int(data.get("serverTime")) if isinstance(data, dict) else None
        if value is None:
            raise unexpected("Bitget", "no server time")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply, futures_call=reply.name in FUTURES_CALLS)

    def signed_call(
        self, name: str, path: str, ctx: TestContext, params: Mapping[str, str] | None = None
    ) -> Call:
        params = dict(params or {})
        headers = auth_headers(ctx.credentials, ctx.now_ms("time"), "GET", path, params)
        # The URL carries the same sorted query that was signed (encoded; our values need no
        # encoding, so the two are identical).
        query = urlencode(sorted(params.items()))
        url = self.url("bitget", path) + (f"?{query}" if query else "")
        return Call(name, "GET", url, self.signed_headers(headers))

    def plan(self, ctx: TestContext) -> SignedPlan:
        key_info = self.signed_call("account_info", "/api/v2/spot/account/info", ctx)
        if ctx.futures:
            # GET /api/v2/mix/account/accounts?productType=USDT-FUTURES (§4.5; CCXT
            # fetch_balance for swap).
            balances = self.signed_call(
                "mix_accounts",
                "/api/v2/mix/account/accounts",
                ctx,
                {"productType": USDT_FUTURES},
            )
        else:
            # GET /api/v2/spot/account/assets: the coins held (assetType hold_only, the
            # default; bitget.com/api-doc/spot/account/Get-Account-Assets).
            balances = self.signed_call("assets", "/api/v2/spot/account/assets", ctx)
        return SignedPlan(key_info=key_info, balances=balances)

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        if reply is None or ctx.key_info_refused:
            # Refused for lack of spot read: the facts stay unknown (`key_info_optional`).
            return KeyFacts()
        data = reply.data.get("data")
        if not isinstance(data, dict):
            raise unexpected("Bitget", "account info without data")
        authorities = data.get("authorities")
        facts = read_authorities(authorities if isinstance(authorities, list) else [])
        # `ips` = "IP whitelist" (§4.3); "" when none is set. Bitget allows withdrawals only
        # from a whitelisted IP (§4.8), which does not change what we report.
        facts.ip_whitelist = ip_entries(data.get("ips"))
        return facts

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        ok = _answered_ok
        if market == Market.FUTURES:
            # GET /api/v2/mix/market/contracts?productType=USDT-FUTURES: `symbolType`
            # "perpetual" or "delivery", `symbolStatus` "normal" when trading normally (CCXT
            # fetch_markets example and its `active` rule, `ccxt:bitget.py` L2232-2358). Other
            # statuses (maintenance, open limits, restricted API, off) are left out.
            url = self.url("bitget", f"/api/v2/mix/market/contracts?productType={USDT_FUTURES}")
            rows = rows_of(get(url), "bitget mix contracts", ok=ok)
            return [
                pair
                for row in rows
                if row.get("symbolType") == "perpetual"
                and row.get("symbolStatus") == "normal"
                and (pair := normalise_pair(row.get("baseCoin"), row.get("quoteCoin")))
            ]
        # GET /api/v2/spot/public/symbols: `status` offline, gray, online ("normal"), halt
        # (bitget.com/api-doc/spot/market/Get-Symbols, verbatim copy in the code index).
        rows = rows_of(
            get(self.url("bitget", "/api/v2/spot/public/symbols")), "bitget spot symbols", ok=ok
        )
        return [
            pair
            for row in rows
            if row.get("status") == "online"
            and (pair := normalise_pair(row.get("baseCoin"), row.get("quoteCoin")))
        ]

    # Parsing ---------------------------------------------------------------------------------

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # [{"coin", "available", "frozen", "locked", "limitAvailable", "uTime"}]: "frozen"
        # by open orders, "locked" e.g. for fiat merchants (Get-Account-Assets; CCXT
        # fetch_balance example). Both count as locked here.
        rows = reply.data.get("data")
        if not isinstance(rows, list):
            raise unexpected("Bitget", "assets without data")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict) or not row.get("coin"):
                continue
            asset = str(row["coin"]).upper()
            free = to_decimal(row.get("available"))
            frozen = to_decimal(row.get("frozen") or 0)
            locked = to_decimal(row.get("locked") or 0)
            if free is None or frozen is None or locked is None:
                raise unexpected("Bitget", f"unreadable balance for {asset}")
            before = amounts.get(asset, (Decimal(0), Decimal(0)))
            amounts[asset] = (before[0] + free, before[1] + frozen + locked)
        return summarise_balances(amounts, ("free", "locked"))

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        # [{"marginCoin", "locked", "available", "crossedMaxAvailable", "accountEquity",
        # "usdtEquity", ...}] (CCXT fetch_balance swap example; field meanings from
        # bitget.com/api-doc/contract/account/Get-Single-Account: `available` "Available
        # quantity in the account", `accountEquity` in the margin coin).
        rows = reply.data.get("data")
        if not isinstance(rows, list):
            raise unexpected("Bitget futures", "accounts without data")
        return summarise_asset_rows(
            rows,
            "Bitget futures",
            asset="marginCoin",
            amounts=("accountEquity", "available"),
            fields=("equity", "available"),
            noun="account",
        )
