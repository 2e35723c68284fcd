"""MEXC: spot v3 (api.mexc.com) and futures/contract v1 (contract.mexc.com).

Facts and sources are collected in docs exchanges.md §3 and §12 (MEXC docs, github
mexcdevelop/apidocs, crawled in waoru3/crispy-couscous `docs/SpotV3`, `docs/Futures`).

MEXC has no endpoint that describes the calling key (§3.5), so:
- trade permission is inferred from `POST /api/v3/order/test`, which validates an order
  without sending it to the matching engine;
- withdrawal permission and IP binding cannot be read: reported as not verifiable, never
  guessed. We never call withdrawal or `capital/*` endpoints.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    TemporaryExchangeError,
)
from .flow import ExchangeAPI, SignedPlan, TestContext
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
from .pairs import SymbolListUnavailable, normalise_pair, rows_of

SLUG = "mexc"

# Documented default; the server accepts iff serverTime - timestamp <= recvWindow (§3.2).
RECV_WINDOW_MS = 5000

# A harmless order for `order/test`: a LIMIT BUY far below the market. It is only validated,
# never matched ("Creates and validates a new order but does not send it into the matching
# engine", mexc-docs-2025 SpotV3/07_spot_account_trade.md "Test New Order").
ORDER_TEST_PARAMS: tuple[tuple[str, str], ...] = (
    ("symbol", "BTCUSDT"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("quantity", "0.001"),
    ("price", "5000"),
)

# Spot error codes (exchanges.md §3.7 and §12; mexc-docs "Error Code").
SPOT_ERROR_CODES: dict[int, Category] = {
    700001: Category.INVALID_KEY,  # API-key format invalid
    700002: Category.INVALID_KEY,  # Signature for this request is not valid
    602: Category.INVALID_KEY,  # Signature verification failed
    10072: Category.INVALID_KEY,  # invalid access key
    401: Category.INVALID_KEY,  # No authority
    402: Category.INVALID_KEY,  # api key expired
    400: Category.INVALID_KEY,  # api key required (see `_spot_category`)
    700003: Category.CLOCK_SKEW,  # Timestamp outside of the recvWindow
    700005: Category.CLOCK_SKEW,  # recvWindow must less than 60000
    10073: Category.CLOCK_SKEW,  # invalid Request-Time
    700006: Category.IP_NOT_ALLOWED,  # IP non white list
    700007: Category.NO_TRADE_PERMISSION,  # No permission to access the endpoint
    30020: Category.NO_TRADE_PERMISSION,  # no permission for the symbol
    70011: Category.NO_TRADE_PERMISSION,  # Pair user ban trade apikey
    403: Category.NO_TRADE_PERMISSION,  # Access Denied (as a JSON code; HTTP 403 is the WAF)
    60005: Category.ACCOUNT_RESTRICTED,  # your account is abnormal
    730100: Category.ACCOUNT_RESTRICTED,  # Unusual user status
    # The docs' table says "market order is disabled"; CCXT maps it to AccountSuspended
    # (ccxt:mexc.py, §3.7). Our probe is a LIMIT order, so it should never come back here.
    30018: Category.ACCOUNT_RESTRICTED,
    26: Category.ACCOUNT_RESTRICTED,  # operation not allowed
    429: Category.EXCHANGE_UNAVAILABLE,  # Too Many Requests
    510: Category.EXCHANGE_UNAVAILABLE,  # Excessive frequency
    500: Category.EXCHANGE_UNAVAILABLE,  # Internal error / "Under maintenance"
    501: Category.EXCHANGE_UNAVAILABLE,
    503: Category.EXCHANGE_UNAVAILABLE,  # service not available, please try again
    504: Category.EXCHANGE_UNAVAILABLE,  # Gateway Time-out
    604: Category.EXCHANGE_UNAVAILABLE,  # maintenance (CCXT OnMaintenance)
    801: Category.EXCHANGE_UNAVAILABLE,
    11444: Category.EXCHANGE_UNAVAILABLE,
}

# Futures/contract error codes (exchanges.md §3.7, mexc-docs contract_v1_en "Error code").
FUTURES_ERROR_CODES: dict[int, Category] = {
    401: Category.INVALID_KEY,  # Unauthorized
    402: Category.INVALID_KEY,  # Api_key expired
    602: Category.INVALID_KEY,  # Verify failed
    1000: Category.INVALID_KEY,  # Account does not exist
    406: Category.IP_NOT_ALLOWED,  # Accessed IP is not in the whitelist
    701: Category.FUTURES_NOT_PERMITTED,  # Account read permission is required
    702: Category.FUTURES_NOT_PERMITTED,  # Account modify permission is required
    703: Category.FUTURES_NOT_PERMITTED,  # Trade information read permission is required
    704: Category.FUTURES_NOT_PERMITTED,  # Transaction information modify permission ...
    511: Category.FUTURES_NOT_PERMITTED,  # Endpoint inaccessible
    513: Category.CLOCK_SKEW,  # Invalid request (server time ±10 s)
    10073: Category.CLOCK_SKEW,  # invalid Request-Time
    500: Category.EXCHANGE_UNAVAILABLE,  # Internal error
    501: Category.EXCHANGE_UNAVAILABLE,  # System busy
    510: Category.EXCHANGE_UNAVAILABLE,  # Excessive frequency of requests
    9999: Category.EXCHANGE_UNAVAILABLE,  # Public abnormal
}

# Order-rule rejections of `order/test`. Like every signed endpoint, it authenticates the
# request (key, signature, IP, SPOT_DEAL_WRITE permission) before the order itself is
# validated, so an order-rule error means the key was accepted for trading; a key without the
# permission gets 700007 whatever the order says (inferred from the error table, not observed:
# exchanges.md §3.5, §14). Codes: mexc-docs "Error Code" table (30000-30041 order rules, 10007
# bad symbol, 10101 insufficient balance, 33333/44444 and 700004/700008/730001/730002
# parameter errors).
ORDER_VALIDATION_CODES = frozenset({10007, 10101, 33333, 44444, 700004, 700008, 730001, 730002})


def is_order_validation(code: int) -> bool:
    return code in ORDER_VALIDATION_CODES or (
        30000 <= code <= 30999 and code not in SPOT_ERROR_CODES
    )


# --- Signing -------------------------------------------------------------------------------


def sign_spot(secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of query string + body (§3.2; vectors in §3.3)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def spot_query(
    params: Iterable[tuple[str, str]], *, timestamp_ms: int, recv_window: int = RECV_WINDOW_MS
) -> str:
    """The query string to sign, in the docs' order: business params, recvWindow, timestamp."""
    items = [*params, ("recvWindow", str(recv_window)), ("timestamp", str(timestamp_ms))]
    return urlencode(items)


def contract_param_string(params: Mapping[str, Any]) -> str:
    """GET/DELETE paramString: keys sorted, values URL-encoded (%20 for spaces), nulls dropped
    (mexc-docs contract_v1_en "Authentication method")."""
    return "&".join(
        f"{key}={quote(str(value), safe='')}"
        for key, value in sorted(params.items())
        if value is not None
    )


def sign_contract(secret: str, api_key: str, request_time: int | str, param_string: str) -> str:
    """Hex HMAC-SHA256 of accessKey + Request-Time + paramString (§3.4)."""
    message = f"{api_key}{request_time}{param_string}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# --- Error classification ------------------------------------------------------------------


def _error_fields(reply: Reply, *, contract: bool) -> tuple[int | None, str] | None:
    """(code, message) when the reply is an error, None when it is a success.

    Spot successes carry no `code` (or 0/200); contract answers carry `success`.
    """
    data = reply.data
    if not isinstance(data, dict):
        return None if reply.status < 400 else (None, "")
    code = as_int(data.get("code"))
    message = str(data.get("msg") or data.get("message") or "")
    if reply.status < 400:
        if contract and (data.get("success") is True or ("success" not in data and code == 0)):
            return None
        if not contract and ("code" not in data or code in (0, 200)):
            return None
    return code, message


def _spot_category(code: int | None, message: str) -> Category | None:
    category = SPOT_ERROR_CODES.get(code) if code is not None else None
    # Code 400 is "api key required" in the table, but MEXC also uses it for plain parameter
    # errors (CCXT maps it to BadRequest): only blame the key when the message says so.
    if code == 400 and category_from_message(message) != Category.INVALID_KEY and message:
        return None
    return category


def classify(reply: Reply, *, contract: bool) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status."""
    what = "MEXC futures" if contract else "MEXC"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    fields = _error_fields(reply, contract=contract)
    if fields is None:
        return None
    code, message = fields
    if code is None and not message:
        return transport_fallback(reply, what)
    text = f"{code} {message}".strip() if code is not None else message
    if reply.status in (418, 429) and code not in (429, 510):
        # A rate limit or automated IP ban (mexc-docs LIMITS: 429, then 418 with Retry-After)
        # is temporary whatever its body says; its wording ("banned") must not read as an
        # account restriction.
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"{what} rate limit (HTTP {reply.status}): {text}",
            exchange_code=str(code) if code is not None else None,
            retry_after=parse_retry_after(reply.headers),
        )
    if contract:
        category = FUTURES_ERROR_CODES.get(code) if code is not None else None
    else:
        category = _spot_category(code, message)
    category = category or category_from_message(message)
    if contract and category == Category.NO_TRADE_PERMISSION:
        category = Category.FUTURES_NOT_PERMITTED
    return coded_error(
        reply,
        what,
        category,
        text,
        code=str(code) if code is not None else None,
        message=message,
        retry_after=parse_retry_after(reply.headers),
    )


# Calls answered by the contract host.
CONTRACT_CALLS = frozenset({"futures_time", "futures_account"})


# --- The client ----------------------------------------------------------------------------


class MexcClient(ExchangeAPI):
    slug = SLUG
    # Futures: the docs' host (§3.1); CCXT uses api.mexc.com/api/v1/... instead.
    default_base_urls = {
        "mexc": "https://api.mexc.com",
        "mexc_futures": "https://contract.mexc.com",
    }
    # No MEXC endpoint reports the calling key's withdrawal permission or IP binding (§3.5);
    # the user confirms withdrawal on the form. Keys without an IP binding expire after 90
    # days (mexc-docs FAQ, §3.2), which the page explains next to this result.
    not_verifiable = {
        CheckName.WITHDRAWAL: "mexc_cannot_tell",
        CheckName.IP_RESTRICTION: "mexc_unbound_expires_90d",
        CheckName.KEY_EXPIRY: "not_reported",
    }
    # "place order endpoints and cancel orders endpoints will be closed temporarily" since
    # 2022-07-25 (mexc-docs-2025 Futures/01_update_log.md, exchanges.md §0.8): there is
    # nothing to probe, and we do not pretend otherwise.
    not_verifiable_futures = {CheckName.TRADE_PERMISSION: "mexc_futures_api_orders_closed"}

    def time_calls(self, market: Market) -> list[Call]:
        calls = [Call("time", "GET", self.url("mexc", "/api/v3/time"))]
        if market == Market.FUTURES:
            calls.append(
                Call("futures_time", "GET", self.url("mexc_futures", "/api/v1/contract/ping"))
            )
        return calls

    def server_time_ms(self, reply: Reply) -> int:
        contract = reply.name == "futures_time"
        error = self.classify(reply)
        if error:
            raise error
        data = reply.data if isinstance(reply.data, dict) else {}
        # Spot: {"serverTime": 1645539742000} (GET /api/v3/time, SpotV3/05);
        # contract: {"success": true, "data": 1587442022003} (GET /api/v1/contract/ping, Futures/04).
        value = as_int(data.get("data") if contract else data.get("serverTime"))
        if value is None:
            raise unexpected("MEXC", f"no server time in {reply.name}")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply, contract=reply.name in CONTRACT_CALLS)

    def plan(self, ctx: TestContext) -> SignedPlan:
        # MEXC cannot describe a key (§3.5): the balances call proves it, and a test order
        # that is only validated, never matched, proves spot trading.
        if ctx.futures:
            account = self._contract_call(
                "futures_account",
                "/api/v1/private/account/assets",
                {},
                ctx.credentials,
                ctx.now_ms("futures_time"),
            )
            return SignedPlan(balances=account)
        return SignedPlan(
            balances=self._spot_call(
                "account", "GET", "/api/v3/account", (), ctx.credentials, ctx.now_ms("time")
            ),
            trade_probe=self._spot_call(
                "order_test",
                "POST",
                "/api/v3/order/test",
                ORDER_TEST_PARAMS,
                ctx.credentials,
                ctx.now_ms("time"),
            ),
        )

    def probe_validated(self, reply: Reply, ctx: TestContext) -> str | None:
        fields = _error_fields(reply, contract=False)
        if fields is not None and fields[0] is not None and is_order_validation(fields[0]):
            return str(fields[0])
        return None

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    def _spot_call(
        self,
        name: str,
        method: str,
        path: str,
        params: Iterable[tuple[str, str]],
        credentials: Credentials,
        timestamp_ms: int,
    ) -> Call:
        # Parameters travel in the query, body empty, as in the docs' POST /api/v3/order
        # example; the URL carries exactly the string that was signed.
        query = spot_query(params, timestamp_ms=timestamp_ms)
        signature = sign_spot(credentials.api_secret, query)
        return Call(
            name,
            method,
            f"{self.url('mexc', path)}?{query}&signature={signature}",
            {"X-MEXC-APIKEY": credentials.api_key, "Content-Type": "application/json"},
        )

    def _contract_call(
        self,
        name: str,
        path: str,
        params: Mapping[str, Any],
        credentials: Credentials,
        request_time: int,
    ) -> Call:
        param_string = contract_param_string(params)
        headers = {
            "ApiKey": credentials.api_key,
            "Request-Time": str(request_time),
            "Signature": sign_contract(
                credentials.api_secret, credentials.api_key, request_time, param_string
            ),
            "Content-Type": "application/json",
        }
        url = self.url("mexc_futures", path) + (f"?{param_string}" if param_string else "")
        return Call(name, "GET", url, headers)

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market == Market.FUTURES:
            rows = rows_of(
                get(self.url("mexc_futures", "/api/v1/contract/detail")),
                "mexc contract/detail",
                ok=lambda p: p.get("success") is True,
            )
            return [
                pair
                for row in rows
                if row.get("apiAllowed") is True
                and row.get("state") == 0
                and (pair := normalise_pair(row.get("baseCoin"), row.get("quoteCoin")))
            ]
        info = get(self.url("mexc", "/api/v3/exchangeInfo"))
        symbols = info.get("symbols") if isinstance(info, dict) else None
        if not isinstance(symbols, list):
            raise SymbolListUnavailable("mexc exchangeInfo: no symbols list in the answer")
        try:
            default = get(self.url("mexc", "/api/v3/defaultSymbols"))
            if not isinstance(default, dict) or not isinstance(default.get("data"), list):
                raise SymbolListUnavailable("mexc defaultSymbols: no data list in the answer")
            api_symbols: set[str] | None = {s for s in default["data"] if isinstance(s, str)}
        except SymbolListUnavailable:
            api_symbols = None
        pairs = []
        for row in symbols:
            if not isinstance(row, dict) or str(row.get("status")) not in {"1", "ENABLED"}:
                continue
            if api_symbols is not None:
                allowed = row.get("symbol") in api_symbols
            else:
                allowed = row.get("isSpotTradingAllowed") is True
            pair = normalise_pair(row.get("baseAsset"), row.get("quoteAsset"))
            # tradeSideType 2/3/4 (buy only, sell only, close only) cannot run a strategy.
            one_sided = str(row.get("tradeSideType", "1")) != "1"
            if allowed and pair and not one_sided:
                pairs.append(pair)
        return pairs

    # Parsing ---------------------------------------------------------------------------------

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /api/v3/account: {"balances": [{"asset", "free", "locked"}, ...]} (§3.6).
        data = reply.data if isinstance(reply.data, dict) else {}
        rows = data.get("balances")
        if not isinstance(rows, list):
            raise unexpected("MEXC", "account without balances")
        return summarise_asset_rows(rows, "MEXC", asset="asset", amounts=("free", "locked"))

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /api/v1/private/account/assets: {"data": [{"currency", "equity",
        # "availableBalance", ...}]} (§3.6).
        rows = reply.data.get("data") if isinstance(reply.data, dict) else None
        if not isinstance(rows, list):
            raise unexpected("MEXC futures", "account assets without data")
        return summarise_asset_rows(
            rows,
            "MEXC futures",
            asset="currency",
            amounts=("equity", "availableBalance"),
            fields=("equity", "available"),
        )
