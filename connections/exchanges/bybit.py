"""Bybit v5: spot and USDT perpetuals (linear) on one host, api.bybit.com.

Facts and sources are collected in docs exchanges-more.md §3 (Bybit's docs repository
bybit-exchange/docs @072c197, 2026-07-24, and the official SDK pybit), §9, §10.3 and §11.

Bybit describes the calling key (`GET /v5/user/query-api`): its permissions, read-only flag,
bound IPs and, for a key without an IP binding, its expiry. Trade, futures and withdrawal
permission, the IP restriction and the expiry are read from there; no order is probed.
The account's type (classic or Unified Trading Account 1.0/2.0) comes from
`GET /v5/account/info`.

Demo trading (api-demo.bybit.com, keys made in the mainnet's Demo Trading) does not serve
`/v5/user/query-api` (§3.3, by-docs demo.mdx "Available API List"): there the key is proved by
the wallet balance, and what only the key information could tell is "cannot be verified".
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    TemporaryExchangeError,
    make_error,
)
from .flow import ExchangeAPI, KeyFacts, SignedPlan, TestContext
from .http import (
    Call,
    Reply,
    as_int,
    category_from_message,
    parse_retry_after,
    settle,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import SymbolListUnavailable, normalise_pair, rows_of

SLUG = "bybit"

# X-BAPI-RECV-WINDOW: the documented default, 5000 ms; the server accepts
# server_time - recv_window <= timestamp < server_time + 1000 (§3.2, by-docs guide.mdx).
RECV_WINDOW_MS = 5000

QUERY_API = "/v5/user/query-api"
WALLET_BALANCE = "/v5/account/wallet-balance"
ACCOUNT_INFO = "/v5/account/info"
# Since 2025-11-19 the docs list only `UNIFIED` (§3.5; by-docs wallet-balance.mdx).
WALLET_QUERY = "accountType=UNIFIED"

# UTA error codes (§3.6; by-docs error.mdx "UTA").
ERROR_CODES: dict[int, Category] = {
    10003: Category.INVALID_KEY,  # API key is invalid (also: key of another environment)
    10004: Category.INVALID_KEY,  # Error sign
    10007: Category.INVALID_KEY,  # User authentication failed
    33004: Category.INVALID_KEY,  # (Derivatives) Your api key has expired
    -2015: Category.INVALID_KEY,  # (Spot) Your api key has expired
    10002: Category.CLOCK_SKEW,  # request time outside the window
    -1: Category.CLOCK_SKEW,  # "request expired: o@0, now[] diff[]"
    10010: Category.IP_NOT_ALLOWED,  # Unmatched IP (no caller IP in the text, §10.3)
    10005: Category.NO_TRADE_PERMISSION,  # Permission denied
    10008: Category.ACCOUNT_RESTRICTED,  # Common banned
    10027: Category.ACCOUNT_RESTRICTED,  # Transactions are banned
    110066: Category.ACCOUNT_RESTRICTED,  # Trading is currently not allowed
    10024: Category.ACCOUNT_RESTRICTED,  # Compliance rules triggered
    # 10009: "Service Restricted: Access is currently unavailable for your region" (CCXT still
    # comments "IP had been banned", ccxt:bybit.py:L753; §3.6, §11).
    10009: Category.ACCOUNT_RESTRICTED,
    # The account type does not fit the endpoint (classic vs unified account).
    10028: Category.ACCOUNT_RESTRICTED,
    100028: Category.ACCOUNT_RESTRICTED,
    10006: Category.EXCHANGE_UNAVAILABLE,  # Too many visits (per-UID rate limit)
    429: Category.EXCHANGE_UNAVAILABLE,  # high server load
    10000: Category.EXCHANGE_UNAVAILABLE,  # Server Timeout
    10016: Category.EXCHANGE_UNAVAILABLE,  # Server error / service restarting
    10019: Category.EXCHANGE_UNAVAILABLE,  # service restarting
}

# Detail codes where the category's generic text would mislead (problems.py words them).
ERROR_DETAILS: dict[int, str] = {
    # "Check whether the key and domain are matched, there are 4 env: mainnet, testnet,
    # mainnet-demo, testnet-demo" (§3.6, §3.8): a demo key on the live host or vice versa.
    10003: "bybit_key_unknown",
    33004: "bybit_key_expired",
    -2015: "bybit_key_expired",
    10028: "bybit_account_mode_mismatch",
    100028: "bybit_account_mode_mismatch",
}

RATE_LIMIT_CODES = frozenset({10006, 429})

# HTTP 403 "access too frequent": the IP limit (600 requests / 5 s) was breached; "wait for
# at least 10 minutes" (§3.7, by-docs rate-limit.mdx "HTTP IP limit").
IP_BAN_SECONDS = 600.0
_TOO_FREQUENT = re.compile(r"too\s+frequent", re.I)

# The live text of 10002 carries both clocks (§3.6; pybit#191, sieblyio/bybit-api#236):
# "... req_timestamp[1706972576658],server_timestamp[1706972587026],recv_window[5000]".
_REQ_TS = re.compile(r"req_timestamp\[(\d+)\]")
_SERVER_TS = re.compile(r"server_timestamp\[(\d+)\]")

# unifiedMarginStatus of GET /v5/account/info (§3.3; by-docs enum.mdx "unifiedMarginStatus"),
# in Bybit's own names (shown untranslated, as Bybit's product names).
ACCOUNT_MODES: dict[int, str] = {
    1: "Classic Account",
    3: "Unified Trading Account 1.0",
    4: "Unified Trading Account 1.0 Pro",
    5: "Unified Trading Account 2.0",
    6: "Unified Trading Account 2.0 Pro",
}

# Our normalised names for Bybit's permission entries (§3.3 "Mapping").
PERMISSION_NAMES: dict[str, str] = {
    "SpotTrade": "spot",
    "Order": "futures",
    "Position": "futures",
    "DerivativesTrade": "futures",
    "Withdraw": "withdraw",
    "AccountTransfer": "inner_transfer",
    "SubMemberTransfer": "sub_account_transfer",
    "SubMemberTransferList": "sub_account_transfer",
    "OptionsTrade": "options",
    "Earn": "earn",
}

# Transfer permissions that keep the funds with their owner (see `key_facts`).
OWN_TRANSFER_PERMISSIONS = frozenset(
    {"AccountTransfer", "SubMemberTransfer", "SubMemberTransferList"}
)

# Linear instruments: perpetual USDT contracts only; dated futures expire, which a strategy
# that keeps a group open until its exit cannot live with (by-docs enum.mdx "contractType").
LINEAR_PERPETUAL = "LinearPerpetual"
# GET /v5/market/instruments-info: linear pages hold up to 1000 entries (by-docs
# market/instrument.mdx); more than 500 linear symbols exist, so the cursor is followed.
INSTRUMENTS_PAGE = 1000
MAX_PAGES = 10


# --- Signing -------------------------------------------------------------------------------


def sign(secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 (§3.2; derived vectors reproduced in the tests)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign_request(
    secret: str,
    timestamp_ms: int | str,
    api_key: str,
    query_or_body: str = "",
    recv_window: int = RECV_WINDOW_MS,
) -> str:
    """X-BAPI-SIGN over timestamp + api_key + recv_window + (GET query string | POST body)."""
    return sign(secret, f"{timestamp_ms}{api_key}{recv_window}{query_or_body}")


def query_string(params: Mapping[str, Any]) -> str:
    """The GET query, as pybit builds it: `&`-joined `k=v`, keys sorted (§3.2)."""
    return urlencode(sorted((key, str(value)) for key, value in params.items()))


def auth_headers(
    credentials: Credentials,
    timestamp_ms: int,
    query_or_body: str = "",
    recv_window: int = RECV_WINDOW_MS,
) -> dict[str, str]:
    # No X-Referer / Referer: those identify a broker (§3.2). No X-BAPI-SIGN-TYPE: pybit sends
    # "2" (HMAC), the docs list only the four headers below, and CCXT omits it for v5.
    return {
        "X-BAPI-API-KEY": credentials.api_key,
        "X-BAPI-TIMESTAMP": str(timestamp_ms),
        "X-BAPI-RECV-WINDOW": str(recv_window),
        "X-BAPI-SIGN": sign_request(
            credentials.api_secret, timestamp_ms, credentials.api_key, query_or_body, recv_window
        ),
        "Content-Type": "application/json",
    }


# --- Error classification ------------------------------------------------------------------


def clock_difference_ms(message: str) -> int | None:
    """server_timestamp - req_timestamp from a live 10002 text, when it carries both."""
    request, server = _REQ_TS.search(message), _SERVER_TS.search(message)
    if not request or not server:
        return None
    return int(server.group(1)) - int(request.group(1))


def rate_limit_wait(reply: Reply, server_ms: int | None) -> float | None:
    """Seconds to wait: Retry-After, else X-Bapi-Limit-Reset-Timestamp (ms, absolute: "when
    your request limit resets if you have exceeded your rate_limit", §3.6, §3.7) minus the
    answer's server time (its `time`, or our clock at the answer)."""
    wait = parse_retry_after(reply.headers)
    if wait is not None:
        return wait
    reset = as_int(str(reply.headers.get("X-Bapi-Limit-Reset-Timestamp") or "").strip())
    if reset is None:
        return None
    now_ms = server_ms if server_ms is not None else int(reply.received_at * 1000)
    return max(0.0, (reset - now_ms) / 1000)


def classify(reply: Reply) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status.

    Bybit answers `{"retCode", "retMsg", "result", "retExtInfo", "time"}`, errors mostly with
    HTTP 200 (§3.6); the IP limit is an HTTP 403 "access too frequent" (§3.7).
    """
    if reply.status == 403 and _TOO_FREQUENT.search(reply.text or ""):
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            "Bybit IP rate limit (HTTP 403 access too frequent): wait at least 10 minutes",
            exchange_code="403",
            retry_after=parse_retry_after(reply.headers) or IP_BAN_SECONDS,
        )
    if not reply.json_ok:
        return transport_fallback(reply, "Bybit")
    data = reply.data
    if not isinstance(data, dict) or "retCode" not in data:
        return transport_fallback(reply, "Bybit", "no retCode in the answer")
    code = as_int(data.get("retCode"))
    if code is None and isinstance(data.get("retCode"), str):
        try:
            code = int(data["retCode"])
        except ValueError:
            code = None
    if code == 0 and reply.status < 400:
        return None
    message = str(data.get("retMsg") or "")
    text = f"{code} {message}".strip()
    category = (ERROR_CODES.get(code) if code is not None else None) or category_from_message(
        message
    )
    server_ms = as_int(data.get("time"))
    rate_limited = code in RATE_LIMIT_CODES or reply.status == 429
    if category == Category.CLOCK_SKEW:
        difference = clock_difference_ms(message)
        if difference is not None:
            text += f" (Bybit's time minus the request's timestamp: {difference} ms)"
    if category is None:
        if reply.status == 401:
            category = Category.INVALID_KEY
        else:
            return TemporaryExchangeError(
                Category.EXCHANGE_UNAVAILABLE,
                f"unrecognised answer from Bybit (HTTP {reply.status}): {text}",
                exchange_code=str(code) if code is not None else None,
                retry_after=rate_limit_wait(reply, server_ms) if rate_limited else None,
            )
    if category == Category.IP_NOT_ALLOWED:
        # "Unmatched IP, please check your API key's bound IP addresses." names no IP (§3.6,
        # §10.3): the report says the whitelist does not include us, not which IP it saw.
        text += " (Bybit does not say which IP it saw)"
    return make_error(
        category,
        text,
        exchange_code=str(code) if code is not None else None,
        retry_after=(
            rate_limit_wait(reply, server_ms) if category.is_temporary and rate_limited else None
        ),
        detail=ERROR_DETAILS.get(code) if code is not None else None,
    )


def parse_expiry(value: Any) -> datetime | None:
    """`expiredAt` ("2023-12-22T07:20:25Z"); the epoch ("1970-01-01T00:00:00Z", the docs'
    example of an IP-bound key) means "no expiry" and gives None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if moment.timestamp() > 0 else None


def _names(value: Any) -> list[str]:
    return [str(item) for item in value if isinstance(item, str)] if isinstance(value, list) else []


# --- The client ----------------------------------------------------------------------------


class BybitClient(ExchangeAPI):
    slug = SLUG
    # Mainnet (§3.1, by-docs guide.mdx "Authentication"); regional hosts (bybit.nl, .tr, .kz,
    # ...) can be set through EXCHANGE_URLS.
    default_base_urls = {"bybit": "https://api.bybit.com"}
    # Demo trading: keys made from the mainnet's Demo Trading (§3.1, by-docs demo.mdx).
    demo_base_urls = {"bybit": "https://api-demo.bybit.com"}
    # The unified wallet answers any key, whatever it may trade: it proves nothing about
    # futures (which matters on demo, where no key information is available).
    balances_show_futures_access = False

    @property
    def not_verifiable(self) -> Mapping[CheckName, str]:  # type: ignore[override]
        if self.demo:
            # /v5/user/query-api is not in demo trading's "Available API List" (§3.3).
            reason = "bybit_demo_no_key_info"
            return {
                CheckName.TRADE_PERMISSION: reason,
                CheckName.FUTURES_PERMISSION: reason,
                CheckName.WITHDRAWAL: reason,
                CheckName.IP_RESTRICTION: reason,
                CheckName.KEY_EXPIRY: reason,
            }
        return {CheckName.KEY_EXPIRY: "not_reported"}

    def time_calls(self, market: Market) -> list[Call]:
        # One host serves spot and linear (§3.1).
        return [Call("time", "GET", self.url("bybit", "/v5/market/time"))]

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"retCode":0,"result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},
        #  "time":1688639403423} (by-docs market/time.mdx, §3.5): timeNano is the most precise.
        result = reply.data.get("result")
        nano = as_int(result.get("timeNano")) if isinstance(result, dict) else None
        if nano is not None:
            return nano // 1_000_000
        value = as_int(reply.data.get("time"))
        if value is None:
            raise unexpected("Bybit", "no server time in market/time")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply)

    def signed_get(self, name: str, path: str, query: str, ctx: TestContext) -> Call:
        headers = auth_headers(ctx.credentials, ctx.now_ms(), query)
        url = self.url("bybit", path) + (f"?{query}" if query else "")
        return Call(name, "GET", url, self.signed_headers(headers))

    def plan(self, ctx: TestContext) -> SignedPlan:
        balances = self.signed_get("wallet_balance", WALLET_BALANCE, WALLET_QUERY, ctx)
        account = self.signed_get("account_info", ACCOUNT_INFO, "", ctx)
        key_info = None if self.demo else self.signed_get("query_api", QUERY_API, "", ctx)
        return SignedPlan(key_info=key_info, balances=balances, extra=[account])

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        facts = self._facts_of(reply) if reply is not None else KeyFacts()
        mode = self._account_mode(ctx, reply)
        if mode is not None:
            facts.details[CheckName.CREDENTIALS] = ("bybit_account_mode", {"mode": mode})
        return facts

    def _facts_of(self, reply: Reply) -> KeyFacts:
        data = reply.data.get("result")
        if not isinstance(data, dict) or not isinstance(data.get("permissions"), dict):
            raise unexpected("Bybit", "query-api without permissions")
        if not isinstance(data["permissions"].get("Wallet"), list):
            # Withdraw is listed in the Wallet group, which every documented answer carries
            # (empty or not): without it nothing says the key cannot withdraw. Retried, never
            # read as "disabled".
            raise unexpected("Bybit", "query-api without the Wallet permission group")
        groups: dict[str, list[str]] = {
            str(group): _names(names) for group, names in data["permissions"].items()
        }
        raw = [f"{group}:{name}" for group, names in groups.items() for name in names]
        flat = {name for names in groups.values() for name in names}
        read_only = as_int(data.get("readOnly")) == 1
        # readOnly 1 = read only, 0 = read and write (§3.3). A read-only key cannot trade
        # whatever the lists say (the docs' current example shows readOnly 1 beside trade
        # entries), so trading requires both.
        spot_trade = not read_only and "SpotTrade" in groups.get("Spot", [])
        futures_trade = not read_only and (
            bool(groups.get("ContractTrade")) or "DerivativesTrade" in groups.get("Derivatives", [])
        )
        # Withdrawal ⇔ "Withdraw" in Wallet (§3.3), whatever readOnly says: a key that lists it
        # is refused. Transfers are not counted: AccountTransfer moves funds between the
        # account's own wallets (Unified/Funding), SubMemberTransfer(List) between the master
        # account and its own sub-accounts (by-docs asset/transfer, user/create-subuid-apikey);
        # neither moves funds to anyone else. The check says so when the key has them.
        withdraw = "Withdraw" in groups.get("Wallet", [])
        ips = [ip.strip() for ip in _names(data.get("ips")) if ip.strip()]
        # ["*"] = no IP bound (§3.3, official examples 2023-02…2026-04; §10.3: not re-observed
        # live). Unbound keys expire after 90 days (`expiredAt`, `deadlineDay`).
        whitelist = [] if ips in ([], ["*"]) else ips
        expires_at = parse_expiry(data.get("expiredAt"))
        permissions = ["read"]
        for name in raw:
            ours = PERMISSION_NAMES.get(name.split(":", 1)[1])
            if ours and ours not in permissions:
                if ours in ("spot", "futures") and read_only:
                    continue
                permissions.append(ours)
        facts = KeyFacts(
            read=True,
            spot_trade=spot_trade,
            futures_trade=futures_trade,
            withdraw=withdraw,
            raw_permissions=raw,
            permissions=permissions,
            ip_whitelist=whitelist,
            expires_at=expires_at,
            # An IP-bound key reports the epoch: it does not expire (§3.3, current example).
            never_expires=expires_at is None and bool(whitelist),
        )
        if facts.never_expires:
            facts.details[CheckName.KEY_EXPIRY] = ("key_never_expires", {})
        if read_only:
            code = "bybit_read_only_key"
            facts.details[CheckName.TRADE_PERMISSION] = (code, {})
        transfers = sorted(flat & OWN_TRANSFER_PERMISSIONS)
        if not withdraw and transfers:
            facts.details[CheckName.WITHDRAWAL] = (
                "bybit_transfer_allowed",
                {"permissions": ", ".join(transfers)},
            )
        return facts

    def _account_mode(self, ctx: TestContext, key_reply: Reply | None) -> str | None:
        """Bybit's name of the account's type: unifiedMarginStatus of account/info, else the
        `uta` flag of query-api (0 regular, 1 unified, §3.3). The account info is only shown:
        it fails nothing, and an error there leaves the fact out."""
        result = ctx.data.get("extra", {}).get("account_info")
        if isinstance(result, Reply):
            try:
                reply, error = settle(result, self.classify)
            except ExchangeError:
                reply, error = None, None
            if reply is not None and error is None:
                data = reply.data.get("result")
                status = as_int(data.get("unifiedMarginStatus")) if isinstance(data, dict) else None
                if status in ACCOUNT_MODES:
                    return ACCOUNT_MODES[status]
        if key_reply is not None:
            data = key_reply.data.get("result")
            uta = as_int(data.get("uta")) if isinstance(data, dict) else None
            if uta == 1:
                return "Unified Trading Account"
            if uta == 0:
                return "Classic Account"
        return None

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        result = reply.data.get("result")
        accounts = result.get("list") if isinstance(result, dict) else None
        if not isinstance(accounts, list):
            raise unexpected("Bybit", "wallet-balance without list")
        coins = [
            coin
            for account in accounts
            if isinstance(account, dict) and isinstance(account.get("coin"), list)
            for coin in account["coin"]
            if isinstance(coin, dict)
        ]
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for coin in coins:
            asset = str(coin.get("coin") or "").upper()
            if not asset:
                continue
            amounts[asset] = self._futures_row(coin) if ctx.futures else self._spot_row(coin)
        amounts.setdefault("USDT", (Decimal(0), Decimal(0)))
        fields = ("equity", "available") if ctx.futures else ("free", "locked")
        return summarise_balances(amounts, fields)

    @staticmethod
    def _amount(coin: Mapping[str, Any], name: str) -> Decimal:
        # "" where a field does not apply (portfolio margin's IM/MM fields): zero.
        value = coin.get(name)
        if value in (None, ""):
            return Decimal(0)
        number = to_decimal(value)
        if number is None:
            raise unexpected("Bybit", f"unreadable {name} for {coin.get('coin')}")
        return number

    @classmethod
    def _spot_row(cls, coin: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
        # `availableToWithdraw` is "Deprecated for accountType=UNIFIED from 9 Jan, 2025" and
        # `free` "since there is no Spot wallet any more"; `locked` is the balance "locked due
        # to the Spot open order" (by-docs wallet-balance.mdx). Free = walletBalance - locked.
        wallet, locked = cls._amount(coin, "walletBalance"), cls._amount(coin, "locked")
        return max(Decimal(0), wallet - locked), locked

    @classmethod
    def _futures_row(cls, coin: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
        # Available for derivatives, per coin, by the docs' formula ("isolated margin:
        # walletBalance - totalPositionIM - totalOrderIM - locked - bonus", wallet-balance.mdx
        # `availableToWithdraw`). For cross/portfolio margin Bybit gives only the account's
        # USD `totalAvailableBalance`; the per-coin figure is the safe, lower one (it leaves
        # out other collateral and unrealised profit).
        wallet = cls._amount(coin, "walletBalance")
        used = sum(
            (cls._amount(coin, name) for name in ("totalPositionIM", "totalOrderIM", "locked")),
            Decimal(0),
        )
        available = max(Decimal(0), wallet - used - cls._amount(coin, "bonus"))
        return cls._amount(coin, "equity"), available

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market == Market.FUTURES:
            return self._linear_pairs(get)
        rows = self._instruments(get, "category=spot", "bybit instruments-info spot")[0]
        return [
            pair
            for row in rows
            if row.get("status") == "Trading"
            and (pair := normalise_pair(row.get("baseCoin"), row.get("quoteCoin")))
        ]

    def _linear_pairs(self, get: Callable[[str], Any]) -> list[str]:
        pairs: list[str] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            query = f"category=linear&limit={INSTRUMENTS_PAGE}"
            if cursor:
                # The cursor comes percent-encoded ("first%3DBIOUSDT%26last%3DBIOUSDT").
                query += f"&cursor={quote(cursor, safe='%')}"
            rows, cursor = self._instruments(get, query, "bybit instruments-info linear")
            pairs += [
                pair
                for row in rows
                if row.get("status") == "Trading"
                and row.get("contractType") == LINEAR_PERPETUAL
                and row.get("quoteCoin") == "USDT"
                and (pair := normalise_pair(row.get("baseCoin"), row.get("quoteCoin")))
            ]
            if not cursor:
                return pairs
        raise SymbolListUnavailable("bybit instruments-info linear: too many pages")

    def _instruments(
        self, get: Callable[[str], Any], query: str, where: str
    ) -> tuple[list[dict], str]:
        payload = get(self.url("bybit", f"/v5/market/instruments-info?{query}"))
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or payload.get("retCode") != 0:
            code = payload.get("retCode") if isinstance(payload, dict) else None
            raise SymbolListUnavailable(f"{where}: error answer (code {code!r})")
        if not isinstance(result, dict):
            raise SymbolListUnavailable(f"{where}: no result in the answer")
        rows = rows_of(result, where, ok=lambda p: True, key="list")
        cursor = result.get("nextPageCursor")
        return rows, cursor if isinstance(cursor, str) else ""
