"""BingX: spot and USDT-M perpetual swap, one REST host (open-api.bingx.com).

Facts and sources: docs exchanges-more.md §7 (BingX-API/docs-v3 @d84f954, "bingx-docs"), §9,
§10.7, §11, and the per-endpoint pages of the BingX docs as crawled in github
rosssaunders/coincise `docs/bingx/...` ("bingx-crawl" below, with the page named).

BingX describes the calling key (`GET /openApi/v1/account/apiPermissions`, §7.3): numeric
permission codes and the IP whitelist. Spot trading, perpetual futures trading, withdrawal and
the IP restriction are read from there; no order is probed (see `BingxClient.plan`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

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
    transport_fallback,
    unexpected,
)
from .pairs import SymbolListUnavailable, normalise_pair

SLUG = "bingx"

# "The request's timestamp must be within 5 seconds of the API service time" (§7.5); 5000 ms
# is also the documented default and maximum of recvWindow (§7.2).
RECV_WINDOW_MS = 5000

# Permission codes of `apiPermissions` (§7.3, confirmed in §11; bingx-crawl
# account_wallet/sub_account/query_user_api_key_permissions.md: "1-spot trading, 2-reading,
# 3-professional contract trading, 4-universal transfer, 5-coin withdrawal, 7-allow transfer
# within sub-account") → our names.
PERMISSION_NAMES: dict[int, str] = {
    1: "spot",
    2: "read",
    3: "futures",
    4: "universal_transfer",
    5: "withdraw",
    7: "sub_account_transfer",
}
# BingX's own names for the codes, as its docs write them: "1-Spot Trading, 2-Read,
# 3-Perpetual Futures Trading, 4-Universal Transfer, ..." (sub-account API key edit page), and
# the "API KEY permission:" line of each endpoint page (Read, Perpetual Futures Trading,
# Withdraw, Internal Transfers Between Subaccounts). Shown with the code, which is what the
# API reports.
BINGX_NAMES: dict[int, str] = {
    1: "Spot Trading",
    2: "Read",
    3: "Perpetual Futures Trading",
    4: "Universal Transfer",
    5: "Withdraw",
    7: "Internal Transfers Between Subaccounts",
}
SPOT_TRADE = 1
READ = 2
PERPETUAL_TRADE = 3
# Withdrawal ⇔ 5. Neither 4 nor 7 moves funds off the owner's accounts:
# - 4 "universal transfer" moves funds between the key owner's own wallets (fund, spot,
#   standard and perpetual futures: `POST /openApi/api/v3/post/asset/transfer`, bingx-crawl
#   spot/account/asset_transfer_new.md);
# - 7 moves funds between sub-accounts of the same parent, or to the parent ("cannot be used
#   for transferring ... from the main account to a sub-account", bingx-crawl
#   account_wallet/sub_account/sub_account_internal_transfer.md).
# A transfer to another BingX user ("Main Account internal transfer",
# `POST /openApi/wallets/v1/capital/innerTransfer/apply`) needs "API KEY permission: Withdraw"
# (bingx-crawl spot/account/main_accoun_internal_transfer.md), i.e. code 5, so 5 covers every
# way out of the account.
WITHDRAW = 5

# Business error codes (§7.6: bingx-docs "Common Error Codes"; observed texts from CCXT
# `ccxt:bingx.py` exceptions table; bingx-crawl usdt_futures/general_information/
# common_error_codes.md and the "Errors" table on each endpoint page).
ERROR_CODES: dict[int, Category] = {
    100413: Category.INVALID_KEY,  # Incorrect apiKey
    100001: Category.INVALID_KEY,  # Signature verification failed
    100412: Category.INVALID_KEY,  # Null signature
    100004: Category.NO_TRADE_PERMISSION,  # Permission denied as the API key was created without...
    100419: Category.IP_NOT_ALLOWED,  # IP does not match IP whitelist (no caller IP in the text)
    # "Null timestamp or timestamp mismatch" (bingx-crawl) / doc "Timestamp mismatch" (§7.6).
    # CCXT maps it to BadSymbol with a comment about restricted pairs (`ccxt:bingx.py` L634):
    # wrong for a signed account call, which has no symbol; ccxt/ccxt#24131 was fixed by NTP.
    100421: Category.CLOCK_SKEW,
    # Account-level risk control. The account-frozen code is UNVERIFIED (§10.7): 100414 "risk
    # control check fail" is CCXT's AccountSuspended (`ccxt:bingx.py` L641); 80020 "risk
    # forbidden" is in the error table of `GET /openApi/swap/v3/user/balance` (bingx-crawl
    # usdt_futures/account/query_account_data.md). Both are refusals of the account, not of
    # the key, so they read as "account restricted".
    100414: Category.ACCOUNT_RESTRICTED,
    80020: Category.ACCOUNT_RESTRICTED,
    # Temporary: rate limit (doc "Rate limit exceeded" / "rate limitation", observed "The
    # current system is busy, please try again later": temporary either way, §10.7),
    # internal error, service unavailable.
    100410: Category.EXCHANGE_UNAVAILABLE,
    100500: Category.EXCHANGE_UNAVAILABLE,  # Internal system error
    80012: Category.EXCHANGE_UNAVAILABLE,  # service unavailable
    101500: Category.EXCHANGE_UNAVAILABLE,  # rpc timeout
}

# 80014 is "Invalid parameter" in general, but the endpoint pages list "80014 timestamp is
# invalid" (bingx-crawl query_assets.md): only then is it a clock problem.
INVALID_PARAMETER = 80014
RATE_LIMIT_CODES = frozenset({100410})

# "... will be unblocked after 1727193814249" / "... can retry after time: 1727193970155"
# (100410 texts, bingx-crawl query_assets.md "Errors"): epoch milliseconds.
_UNBLOCKED_AT = re.compile(r"(?:unblocked after|retry after time:?)\s*(\d{13})", re.I)


# --- Signing -------------------------------------------------------------------------------


def param_string(params: Iterable[tuple[str, Any]]) -> str:
    """`k=v&...` in the order given. Values URL-encoded where needed (§7.2: "URL-encode
    values ... when needed"); the values a connection test sends are plain digits."""
    return "&".join(f"{key}={quote(str(value), safe='')}" for key, value in params)


def sign(secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of the parameter string (§7.2).

    The docs' own example signature (`1e63e8cf…57e8`) does not reproduce, for either of its
    two examples; the values computed from the docs' inputs are in §7.2 and in
    tests/exchanges/test_bingx.py."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_query(
    params: Mapping[str, Any],
    secret: str,
    *,
    timestamp_ms: int,
    recv_window: int = RECV_WINDOW_MS,
) -> str:
    """The query string with its `signature`, parameters sorted a-z.

    For query-string requests the docs say "splice all api parameters (without sorting)":
    any order is accepted as long as the signed string is the one sent. Sorting makes our
    string identical to CCXT's (which `keysort`s, §7.2) and to the docs' rule for JSON
    bodies."""
    items = {**params, "recvWindow": recv_window, "timestamp": timestamp_ms}
    query = param_string(sorted(items.items()))
    return f"{query}&signature={sign(secret, query)}"


def auth_headers(credentials: Credentials) -> dict[str, str]:
    # No X-SOURCE-KEY: CCXT sends "CCXT" there (§7.8), a broker tag that is not ours.
    return {"X-BX-APIKEY": credentials.api_key}


# --- Error classification ------------------------------------------------------------------


def _unblocked_in(message: str, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until BingX lifts a rate limit, from its message or its window header."""
    match = _UNBLOCKED_AT.search(message)
    if match:
        return max(0.0, int(match.group(1)) / 1000 - now)
    # "X-RateLimit-Requests-Expire (window expiration time)" (§7.6, bingx-crawl
    # usdt_futures/general_information/rate_limit.md). Its unit is not documented: used only
    # when it reads as an epoch in milliseconds.
    expire = as_int(headers.get("X-RateLimit-Requests-Expire"))
    if expire is not None and expire > 10**12:
        return max(0.0, expire / 1000 - now)
    return None


def _retry_after(reply: Reply, message: str, rate_limited: bool) -> float | None:
    seconds = parse_retry_after(reply.headers)
    if seconds is None and rate_limited:
        seconds = _unblocked_in(message, reply.headers, time.time())
    return seconds


def error_fields(reply: Reply) -> tuple[int | None, str] | None:
    """(code, message) when the reply is an error, None when it is a success.

    Answers come as `{"code": 0, "msg": "", "data": ...}`; errors as `{"code": 100419,
    "msg": ..., "success": false, "timestamp": ...}` (§7.6, CCXT L644). A body without `code`
    is a success when the HTTP status is (the apiPermissions example shows the bare object,
    §7.3, envelope UNVERIFIED)."""
    data = reply.data
    if not isinstance(data, dict):
        return None if reply.status < 400 else (None, "")
    code = as_int(data.get("code"))
    message = str(data.get("msg") or data.get("message") or "")
    if reply.status < 400 and (
        code == 0 or ("code" not in data and data.get("success") is not False)
    ):
        return None
    return code, message


def classify(reply: Reply) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status."""
    what = "BingX"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    fields = error_fields(reply)
    if fields is None:
        return None
    code, message = fields
    if code is None and not message:
        return transport_fallback(reply, what)
    text = f"{code} {message}".strip() if code is not None else message
    exchange_code = str(code) if code is not None else None
    rate_limited = reply.status in (418, 429) or code in RATE_LIMIT_CODES
    if reply.status in (418, 429) and code not in RATE_LIMIT_CODES:
        # HTTP 429, then 418 for an IP banned after continuing (bingx-crawl
        # common_error_codes.md); IP blocks lift after 5 minutes (§7.7). Temporary whatever
        # the body says.
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"{what} rate limit (HTTP {reply.status}): {text}",
            exchange_code=exchange_code,
            retry_after=_retry_after(reply, message, True),
        )
    category = ERROR_CODES.get(code) if code is not None else None
    if code == INVALID_PARAMETER:
        category = Category.CLOCK_SKEW if re.search(r"timestamp", message, re.I) else None
    elif category is None:
        category = category_from_message(message)
    # Without a known code, an HTTP 401 is "401 Unauthorized – Invalid API Key" (bingx-crawl
    # common_error_codes.md). 100419's text names no IP (§7.6, §9): the caller IP is still
    # looked for in case BingX starts to send it.
    return coded_error(
        reply,
        what,
        category,
        text,
        code=exchange_code,
        message=message,
        retry_after=_retry_after(reply, message, rate_limited),
    )


# --- Introspection -------------------------------------------------------------------------


def _permission_codes(raw: Any) -> list[int] | None:
    if not isinstance(raw, list):
        return None
    codes = []
    for item in raw:
        code = as_int(item)
        if code is None:
            return None
        codes.append(code)
    return codes


def _payload(data: Any) -> dict | None:
    """The permissions object, inside the `{"code", "msg", "data"}` envelope or bare."""
    if not isinstance(data, dict):
        return None
    inner = data.get("data")
    return inner if isinstance(inner, dict) else data


def key_facts_of(data: Any) -> KeyFacts | None:
    """The apiPermissions answer as KeyFacts, or None when its shape is not one we know.

    Shapes handled (the envelope is UNVERIFIED, §7.3, §10.7):
    - documented: `{"apiKey", "permissions": [1, 2], "ipAddresses": [], "note"}` (§7.3),
      bare or inside `{"code": 0, "msg": "", "data": {...}}`; codes as numbers or strings;
    - boolean flags `enableReading`, `enableSpotAndMarginTrading`, `enableFutures`,
      `enableWithdrawals`, `permitsUniversalTransfer`, `ipRestrict`: one third-party
      description of the same endpoint (a BingX skills reference found in the code index)
      lists those fields; no BingX source does, so they are read only when `permissions` is
      absent."""
    payload = _payload(data)
    if payload is None:
        return None
    codes = _permission_codes(payload.get("permissions"))
    if codes is not None:
        ips = payload.get("ipAddresses")
        if isinstance(ips, str):
            ips = [ip.strip() for ip in ips.split(",")]
        return KeyFacts(
            read=READ in codes,
            spot_trade=SPOT_TRADE in codes,
            futures_trade=PERPETUAL_TRADE in codes,
            withdraw=WITHDRAW in codes,
            raw_permissions=[f"{BINGX_NAMES.get(code, 'code')} ({code})" for code in codes],
            permissions=[PERMISSION_NAMES.get(code, f"code_{code}") for code in codes],
            ip_whitelist=[str(ip) for ip in ips if str(ip).strip()]
            if isinstance(ips, list)
            else None,
        )
    flags = {
        "enableReading": "read",
        "enableSpotAndMarginTrading": "spot",
        "enableFutures": "futures",
        "enableWithdrawals": "withdraw",
        "permitsUniversalTransfer": "universal_transfer",
        "enableInternalTransfer": "sub_account_transfer",
    }
    if not any(isinstance(payload.get(name), bool) for name in flags):
        return None
    granted = [name for name in flags if payload.get(name) is True]
    withdrawals = payload.get("enableWithdrawals")
    if not isinstance(withdrawals, bool):
        # Never guessed: without the withdrawal flag this shape says nothing that matters.
        return None
    restricted = payload.get("ipRestrict")
    return KeyFacts(
        read=payload.get("enableReading")
        if isinstance(payload.get("enableReading"), bool)
        else None,
        spot_trade=payload.get("enableSpotAndMarginTrading") is True,
        futures_trade=payload.get("enableFutures") is True,
        withdraw=withdrawals,
        raw_permissions=granted,
        permissions=[flags[name] for name in granted],
        ip_restricted=restricted if isinstance(restricted, bool) else None,
    )


# --- Public lists --------------------------------------------------------------------------


def _true(value: Any) -> bool:
    # Spot flags are JSON booleans, swap flags strings ("apiStateOpen": "true", CCXT L1035).
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _pair_of(row: Mapping[str, Any]) -> str | None:
    symbol = row.get("symbol")
    if isinstance(symbol, str) and symbol.count("-") == 1:
        base, quote_asset = symbol.split("-")
        return normalise_pair(base, quote_asset)
    return None


def spot_pairs(payload: Any) -> list[str]:
    """`GET /openApi/spot/v1/common/symbols`: status 1 = online ("0 offline, 1 online, 5
    pre-open, 10 accessed, 25 trading suspended"), `apiStateBuy`/`apiStateSell` = "available
    buy/sell via api" (bingx-crawl spot/public_rest_api/spot_trading_symbols.md)."""
    if not isinstance(payload, dict) or as_int(payload.get("code")) != 0:
        code = payload.get("code") if isinstance(payload, dict) else None
        raise SymbolListUnavailable(f"bingx spot symbols: error answer (code {code!r})")
    data = payload.get("data")
    rows = data.get("symbols") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SymbolListUnavailable("bingx spot symbols: no data.symbols list in the answer")
    return [
        pair
        for row in rows
        if isinstance(row, dict)
        and as_int(row.get("status")) == 1
        and _true(row.get("apiStateBuy"))
        and _true(row.get("apiStateSell"))
        and (pair := _pair_of(row))
    ]


def swap_pairs(payload: Any) -> list[str]:
    """`GET /openApi/swap/v2/quote/contracts`: `status` "1" and `apiStateOpen` "true" (CCXT's
    example and rule, `ccxt:bingx.py` L1010-1110; CCXT also needs `apiStateClose`, which we
    require unless absent: a strategy must be able to close what it opens)."""
    if not isinstance(payload, dict) or as_int(payload.get("code")) != 0:
        code = payload.get("code") if isinstance(payload, dict) else None
        raise SymbolListUnavailable(f"bingx swap contracts: error answer (code {code!r})")
    rows = payload.get("data")
    if not isinstance(rows, list):
        raise SymbolListUnavailable("bingx swap contracts: no data list in the answer")
    return [
        pair
        for row in rows
        if isinstance(row, dict)
        and as_int(row.get("status")) == 1
        and _true(row.get("apiStateOpen"))
        and ("apiStateClose" not in row or _true(row.get("apiStateClose")))
        and (pair := _pair_of(row))
    ]


# --- The client ----------------------------------------------------------------------------


class BingxClient(ExchangeAPI):
    slug = SLUG
    # One host for spot, swap and account (§7.1). `open-api.bingx.io` is documented as a
    # fallback with a 60/min total limit: not used.
    default_base_urls = {"bingx": "https://open-api.bingx.com"}
    # VST demo trading: "Only available for demo trading" (§7.1); CCXT's sandbox sends every
    # section there (`ccxt:bingx.py` L159-169). The same key serves live and demo (no separate
    # demo keys are documented), so only the host changes.
    demo_base_urls = {"bingx": "https://open-api-vst.bingx.com"}
    # apiPermissions reports no creation or expiry time (§7.3).
    not_verifiable = {CheckName.KEY_EXPIRY: "not_reported"}

    def time_calls(self, market: Market) -> list[Call]:
        # Both markets live on the one host; the swap clock is the documented one (§7.5).
        return [Call("time", "GET", self.url("bingx", "/openApi/swap/v2/server/time"))]

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"code": 0, "msg": "", "data": {"serverTime": 1675319535362}} (§7.5).
        data = reply.data.get("data") if isinstance(reply.data, dict) else None
        value = as_int(data.get("serverTime")) if isinstance(data, dict) else None
        if value is None:
            raise unexpected("BingX", "no server time in the answer")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply)

    def _signed_call(self, name: str, path: str, ctx: TestContext) -> Call:
        query = signed_query({}, ctx.credentials.api_secret, timestamp_ms=ctx.now_ms("time"))
        return Call(
            name,
            "GET",
            f"{self.url('bingx', path)}?{query}",
            self.signed_headers(auth_headers(ctx.credentials)),
        )

    def plan(self, ctx: TestContext) -> SignedPlan:
        # The permission codes answer trading for both markets (1 spot, 3 perpetual futures),
        # so the swap "Test Order" endpoint (`POST /openApi/swap/v2/trade/order/test`, §7.4)
        # is not needed: it would only re-check code 3 at the cost of an order-rules guess.
        key_info = self._signed_call("api_permissions", "/openApi/v1/account/apiPermissions", ctx)
        if ctx.futures:
            # v3, as CCXT's fetchBalance for linear swaps (`ccxt:bingx.py` L2529); v2 answers
            # `data.balance` as one object and is read too (`_futures_balances`).
            balances = self._signed_call("swap_balance", "/openApi/swap/v3/user/balance", ctx)
        else:
            balances = self._signed_call("spot_balance", "/openApi/spot/v1/account/balance", ctx)
        return SignedPlan(key_info=key_info, balances=balances)

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        assert reply is not None
        facts = key_facts_of(reply.data)
        if facts is None:
            # Never guess withdrawal: an answer we cannot read is retried, and if it persists
            # the test ends as "exchange unavailable", not online.
            raise unexpected("BingX", "apiPermissions answer without permissions")
        return facts

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        # The symbols page lists `timestamp` as required even for this public call.
        stamp = f"?timestamp={int(time.time() * 1000)}"
        if market == Market.FUTURES:
            return swap_pairs(get(self.url("bingx", "/openApi/swap/v2/quote/contracts") + stamp))
        return spot_pairs(get(self.url("bingx", "/openApi/spot/v1/common/symbols") + stamp))

    # Parsing ---------------------------------------------------------------------------------

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # {"code": 0, "data": {"balances": [{"asset", "free", "locked"}]}} (§7.5; CCXT L2490).
        data = reply.data.get("data") if isinstance(reply.data, dict) else None
        rows = data.get("balances") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise unexpected("BingX", "spot balance without data.balances")
        return summarise_asset_rows(rows, "BingX", asset="asset", amounts=("free", "locked"))

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        # v3: {"code": 0, "data": [{"asset", "balance", "equity", "availableMargin", ...}]}
        # (§7.5; bingx-crawl usdt_futures/account/query_account_data.md; CCXT L2529). v2:
        # {"data": {"balance": {...}}}. CCXT notes "linear v3 returns empty asset" rows.
        data = reply.data.get("data") if isinstance(reply.data, dict) else None
        if isinstance(data, dict) and isinstance(data.get("balance"), dict):
            data = [data["balance"]]
        if not isinstance(data, list):
            raise unexpected("BingX", "swap balance without data")
        return summarise_asset_rows(
            data,
            "BingX",
            asset="asset",
            amounts=("equity", "availableMargin"),
            fields=("equity", "available"),
            noun="swap balance",
        )
