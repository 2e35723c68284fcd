"""Gate (API v4): spot and USDT perpetual futures, one host (api.gateio.ws).

Facts and sources: docs exchanges-more.md §5 (Gate's official Python SDK gateapi-python,
the API v4 docs "Account" section and label list), §9, §10.5, §11; ccxt 4.5.90 `gate.py`.

Gate describes the account's keys (`GET /api/v4/account/main_keys`: per-product permissions,
each read-only or not, IP whitelist, trading-pair whitelist, state) and the calling key
(`GET /api/v4/account/detail`: IP and trading-pair whitelists). Both need the key's `account`
permission; a key without it (a futures-only key) is still tested through its balances, and
the report says what could not be verified (`key_info_optional`). Gate shows no withdrawal
flag: a `wallet` permission that is not read-only counts as able to move funds.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus, urlsplit

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
from .pairs import SymbolListUnavailable, normalise_pair

SLUG = "gate"

# Every path carries the version prefix, and it is part of the signed path (§5.2, §5.8;
# gate-sdk api_client.py `gen_sign` signs `/api/v4` + the resource path).
API_PREFIX = "/api/v4"

TIME_PATH = f"{API_PREFIX}/spot/time"
MAIN_KEYS_PATH = f"{API_PREFIX}/account/main_keys"
ACCOUNT_DETAIL_PATH = f"{API_PREFIX}/account/detail"
SPOT_ACCOUNTS_PATH = f"{API_PREFIX}/spot/accounts"
FUTURES_ACCOUNTS_PATH = f"{API_PREFIX}/futures/usdt/accounts"
CURRENCY_PAIRS_PATH = f"{API_PREFIX}/spot/currency_pairs"
CONTRACTS_PATH = f"{API_PREFIX}/futures/usdt/contracts"

# Calls whose permission refusal means "no futures" (the USDT perpetual account).
FUTURES_CALLS = frozenset({"futures_accounts"})

# Error labels (§5.6: Gate's label list; ccxt:gate.py `exceptions.exact`). Labels not listed
# here fall back to the message, then to the HTTP status; anything else is temporary.
ERROR_LABELS: dict[str, Category] = {
    "INVALID_KEY": Category.INVALID_KEY,  # "Invalid key provided" (APIv2 keys too, §5.8)
    "INVALID_CREDENTIALS": Category.INVALID_KEY,
    "INVALID_SIGNATURE": Category.INVALID_KEY,  # "Signature mismatch"
    "MISSING_REQUIRED_HEADER": Category.INVALID_KEY,
    "AUTHENTICATION_FAILED": Category.INVALID_KEY,  # ccxt: AuthenticationError
    "IP_FORBIDDEN": Category.IP_NOT_ALLOWED,  # "Request IP not in whitelist: x"
    "READ_ONLY": Category.NO_TRADE_PERMISSION,  # "API key is read-only"
    "FORBIDDEN": Category.NO_TRADE_PERMISSION,  # no permission (or IP: see `classify`)
    "REQUEST_EXPIRED": Category.CLOCK_SKEW,  # Timestamp more than 60 s from server time
    "ACCOUNT_LOCKED": Category.ACCOUNT_RESTRICTED,  # "Account is locked"
    "SUB_ACCOUNT_LOCKED": Category.ACCOUNT_RESTRICTED,  # ccxt: AccountSuspended
    "USER_NOT_FOUND": Category.ACCOUNT_RESTRICTED,  # futures: no futures account (below)
    "TOO_MANY_REQUESTS": Category.EXCHANGE_UNAVAILABLE,  # HTTP 429
    "TOO_FAST": Category.EXCHANGE_UNAVAILABLE,  # ccxt: RateLimitExceeded
    "SERVER_ERROR": Category.EXCHANGE_UNAVAILABLE,
    "TOO_BUSY": Category.EXCHANGE_UNAVAILABLE,  # ccxt: ExchangeNotAvailable
}

RATE_LIMIT_LABELS = frozenset({"TOO_MANY_REQUESTS", "TOO_FAST"})

# Detail codes worded in problems.py, for refusals whose category alone would mislead.
LABEL_DETAILS: dict[str, str] = {
    # An APIv2 key (or a mistyped one) on API v4: say which kind of key to create (§5.8).
    "INVALID_KEY": "gate_invalid_key",
}

# `perms[].name` of `GET /account/main_keys` (§5.3; gate-docs "Query All Main Account Key
# Information") → our normalised names. The others (earn, custody, options, loan, ...) are
# shown as Gate names them.
PERMISSION_NAMES: dict[str, str] = {
    "spot": "spot",  # spot/margin trading
    "futures": "futures",  # perpetual contracts
    "delivery": "delivery",
    "wallet": "wallet",
    "account": "account",
    "margin": "margin",
    "unified": "unified",
}

# `state` of a key (§5.3): 1 normal, 2 locked, 3 frozen.
KEY_STATE_NORMAL = 1


# --- Signing -------------------------------------------------------------------------------


def body_hash(body: str) -> str:
    """Hex SHA-512 of the request body; of "" when there is none (§5.2)."""
    return hashlib.sha512(body.encode()).hexdigest()


def signature_payload(method: str, path: str, query: str, body: str, timestamp: int | str) -> str:
    """METHOD, path with `/api/v4`, the raw (URL-decoded) query, the body hash and the
    timestamp, joined by newlines (§5.2; gate-sdk api_client.py gen_sign, `unquote_plus`)."""
    return "\n".join([method.upper(), path, unquote_plus(query), body_hash(body), str(timestamp)])


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA512 (§5.2; derived vectors there reproduce)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha512).hexdigest()


def auth_headers(
    credentials: Credentials,
    timestamp_s: int,
    method: str,
    path: str,
    query: str = "",
    body: str = "",
) -> dict[str, str]:
    """KEY, Timestamp (Unix seconds) and SIGN (§5.2). Gate has no passphrase."""
    payload = signature_payload(method, path, query, body, timestamp_s)
    return {
        "KEY": credentials.api_key,
        "Timestamp": str(timestamp_s),
        "SIGN": sign(credentials.api_secret, payload),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


# --- Error classification ------------------------------------------------------------------


def _error_fields(reply: Reply) -> tuple[str, str] | None:
    """(label, message) of an error answer; None for a success. Gate answers errors with a
    4xx/5xx status and `{"label": ..., "message": ...}` (§5.6); successes carry no label."""
    data = reply.data
    if reply.status < 400 and not (isinstance(data, dict) and "label" in data):
        return None
    if isinstance(data, dict):
        return str(data.get("label") or ""), str(data.get("message") or data.get("detail") or "")
    return "", ""


def classify(reply: Reply, *, futures_call: bool = False) -> ExchangeError | None:
    """The error a reply stands for, or None for a success: by label, message, then status."""
    what = "Gate futures" if futures_call else "Gate"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    fields = _error_fields(reply)
    if fields is None:
        return None
    label, message = fields
    if not label:
        return transport_fallback(reply, what, "no label in the answer")
    category = ERROR_LABELS.get(label) or category_from_message(message)
    detail = LABEL_DETAILS.get(label)
    lowered = message.lower()
    if "whitelist" in lowered and "ip" in lowered:
        # "Request IP not in whitelist: x" comes with IP_FORBIDDEN, and has been seen with
        # FORBIDDEN too (§5.6): the message decides.
        category = Category.IP_NOT_ALLOWED
    if label == "USER_NOT_FOUND" and futures_call:
        # The account has never opened its USDT perpetual futures account (§5.6).
        category, detail = Category.FUTURES_NOT_PERMITTED, "gate_futures_account_missing"
    if futures_call and category == Category.NO_TRADE_PERMISSION:
        category = Category.FUTURES_NOT_PERMITTED
    text = f"{label} {message}".strip()
    rate_limited = reply.status == 429 or label in RATE_LIMIT_LABELS
    retry_after = parse_retry_after(reply.headers, rate_limited=rate_limited)
    if retry_after is None and rate_limited:
        retry_after = reset_wait(reply.headers)
    return coded_error(
        reply,
        what,
        category,
        text,
        code=label,
        message=message,
        retry_after=retry_after,
        detail=detail,
    )


def reset_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until `X-Gate-RateLimit-Reset-Timestamp` ("when your request limit resets if
    you have exceeded your rate_limit", gate-docs #frequency-limit-rule). Its unit is not
    stated: a value above 10^12 is read as milliseconds, else seconds. None when absent,
    past or implausibly far (over an hour)."""
    value = headers.get("X-Gate-RateLimit-Reset-Timestamp")
    try:
        stamp = float(value) if value else None
    except ValueError:
        return None
    if stamp is None:
        return None
    if stamp > 1e12:
        stamp /= 1000
    wait = stamp - (time.time() if now is None else now)
    return wait if 0 < wait <= 3600 else None


# --- Key introspection ---------------------------------------------------------------------


def visible_prefix(masked: Any) -> str:
    """`c5dcfbf1f3a7*****` -> `c5dcfbf1f3a7`: the part of a masked key Gate shows (§5.3)."""
    return masked.split("*", 1)[0].strip() if isinstance(masked, str) else ""


def caller_entry(data: Any, api_key: str) -> dict | None:
    """The calling key's entry of `GET /account/main_keys`.

    The documented answer is a list of all the main account's keys, masked, so the caller's
    is found by its visible prefix; a single object (the `AccountKeyInfo` schema of another
    copy of the docs) describes the caller itself (§5.3, §10.5: the shape is UNVERIFIED, both
    are handled). None when no entry, or more than one, matches.
    """
    if isinstance(data, dict):
        return data
    if not isinstance(data, list):
        return None
    entries = [entry for entry in data if isinstance(entry, dict)]
    matches = [
        entry
        for entry in entries
        if (prefix := visible_prefix(entry.get("key"))) and api_key.startswith(prefix)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches and len(entries) == 1 and not isinstance(entries[0].get("key"), str):
        # One entry whose `key` is the key-details object, not a masked key: the caller's.
        return entries[0]
    return None


def pair_list(values: Any) -> list[str] | None:
    """Gate pair names (`BTC_USDT`) as `BASE/QUOTE`; None when not a list."""
    if not isinstance(values, list):
        return None
    pairs = []
    for value in values:
        if isinstance(value, str) and "_" in value:
            base, _, quote = value.partition("_")
            pair = normalise_pair(base, quote)
            if pair and pair not in pairs:
                pairs.append(pair)
    return pairs


def string_list(values: Any) -> list[str] | None:
    if not isinstance(values, list):
        return None
    return [str(value).strip() for value in values if str(value).strip()]


# --- The client ----------------------------------------------------------------------------


class GateClient(ExchangeAPI):
    slug = SLUG
    # One host for spot and futures: the official SDK's default (§5.1, gate-sdk
    # configuration.py). The futures-only alternative fx-api.gateio.ws is UNVERIFIED and not
    # needed. No demo: Gate's TestNet (fx-api-testnet.gateio.ws) is documented for futures
    # only, and ccxt's all-markets sandbox host (api-testnet.gateapi.io) is secondary (§5.1).
    default_base_urls = {"gate": "https://api.gateio.ws"}
    # The account/* endpoints need the key's `account` permission, which a trading key may
    # lack (§5.3, a third-party fixture): without it the test goes on with the balances.
    key_info_optional = True
    not_verifiable = {
        # No withdrawal flag (§5.3); a writable `wallet` permission is refused (key_facts).
        CheckName.WITHDRAWAL: "gate_no_withdrawal_flag",
        # No expiry in the key information (§5.3).
        CheckName.KEY_EXPIRY: "not_reported",
        CheckName.TRADE_PERMISSION: "gate_key_not_listed",
        CheckName.FUTURES_PERMISSION: "gate_key_not_listed",
    }

    def time_calls(self, market: Market) -> list[Call]:
        # Spot and futures share the host, so one clock serves both.
        return [Call("time", "GET", self.url("gate", TIME_PATH))]

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"server_time": 1731447921098} in ms (§5.5; gate-sdk docs/SystemTime.md).
        value = as_int(reply.data.get("server_time")) if isinstance(reply.data, dict) else None
        if value is None:
            raise unexpected("Gate", "no server_time in spot/time")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply, futures_call=reply.name in FUTURES_CALLS)

    def _signed_call(self, name: str, target: str, ctx: TestContext) -> Call:
        parts = urlsplit(target)
        timestamp_s = ctx.now_ms() // 1000
        headers = auth_headers(ctx.credentials, timestamp_s, "GET", parts.path, parts.query)
        return Call(name, "GET", self.url("gate", target), headers)

    def plan(self, ctx: TestContext) -> SignedPlan:
        key_info = self._signed_call("main_keys", MAIN_KEYS_PATH, ctx)
        detail = self._signed_call("account_detail", ACCOUNT_DETAIL_PATH, ctx)
        if ctx.futures:
            balances = self._signed_call("futures_accounts", FUTURES_ACCOUNTS_PATH, ctx)
        else:
            balances = self._signed_call("spot_accounts", SPOT_ACCOUNTS_PATH, ctx)
        return SignedPlan(key_info=key_info, balances=balances, extra=[detail])

    def _account_detail(self, ctx: TestContext) -> dict | None:
        """`GET /account/detail` when it answered; a permission refusal leaves it unknown."""
        result = ctx.data.get("extra", {}).get("account_detail")
        if result is None:
            return None
        reply, error = self.settle(result, ctx)
        if error is not None or reply is None or not isinstance(reply.data, dict):
            return None
        return reply.data

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        facts = KeyFacts()
        futures_error = ctx.data.get("settled", {}).get("futures_accounts")
        if futures_error is not None and futures_error.detail == "gate_futures_account_missing":
            facts.details[CheckName.BALANCES] = ("gate_futures_account_missing", {})
        if reply is None or ctx.key_info_refused:
            # The key lacks the `account` permission: nothing about it can be read. Say which
            # permission would let the next test tell.
            for name in (
                CheckName.TRADE_PERMISSION,
                CheckName.WITHDRAWAL,
                CheckName.IP_RESTRICTION,
            ):
                facts.details[name] = ("gate_account_permission_missing", {})
            return facts
        detail = self._account_detail(ctx)
        entry = caller_entry(reply.data, ctx.credentials.api_key)
        if entry is not None:
            self._permissions(entry, facts)
        # The whitelists of the calling key: /account/detail describes it whatever the key
        # list says (§5.3); the key's own entry is the fallback.
        sources = [source for source in (detail, entry) if source is not None]
        for source in sources:
            if facts.ip_whitelist is None:
                facts.ip_whitelist = string_list(source.get("ip_whitelist"))
            if facts.pairs is None:
                facts.pairs = pair_list(source.get("currency_pairs"))
        state = as_int(entry.get("state")) if entry is not None else None
        if state is not None and state != KEY_STATE_NORMAL:
            facts.details[CheckName.CREDENTIALS] = ("gate_key_locked", {"state": state})
        if facts.ip_whitelist == []:
            # "If you opt for not binding [an IP], the API Key will allow access from any
            # address and is valid for 90 days" (Gate help "How to utilize API", FAQ 17521):
            # the date itself is not reported.
            facts.details[CheckName.KEY_EXPIRY] = ("gate_unbound_expires_90d", {})
        return facts

    @staticmethod
    def _permissions(entry: dict, facts: KeyFacts) -> None:
        perms = entry.get("perms")
        if not isinstance(perms, list):
            raise unexpected("Gate", "key information without perms")
        writable: set[str] = set()
        wallet_writable = False
        raw: list[str] = []
        names: list[str] = []
        for perm in perms:
            if not isinstance(perm, dict) or not isinstance(perm.get("name"), str):
                continue
            name = perm["name"].strip().lower()
            read_only = perm.get("read_only") is not False
            raw.append(f"{name} (read-only)" if read_only else name)
            names.append(PERMISSION_NAMES.get(name, name))
            if not read_only:
                writable.add(name)
            if name == "wallet" and perm.get("read_only") is not True:
                # Only an explicit read-only wallet is taken as unable to move funds.
                wallet_writable = True
        facts.raw_permissions = raw
        facts.permissions = ["read", *dict.fromkeys(n for n in names if n not in ("account",))]
        facts.read = bool(raw)
        facts.spot_trade = "spot" in writable
        # USDT perpetuals are the `futures` permission; `delivery` is dated futures (§5.3).
        facts.futures_trade = "futures" in writable
        # No withdrawal flag (§5.3, §10.5): a writable `wallet` permission is the closest signal
        # that the key can move funds, and is refused. Otherwise we cannot tell.
        if wallet_writable:
            facts.withdraw = True
            facts.details[CheckName.WITHDRAWAL] = ("gate_wallet_writable", {})

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /spot/accounts: [{"currency", "available", "locked"}] (ccxt:gate.py
        # fetch_balance "Spot / margin funding"; gate-sdk docs/SpotAccount.md).
        rows = reply.data
        if not isinstance(rows, list):
            raise unexpected("Gate", "spot accounts without a list")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            asset = str(row.get("currency") or "").upper()
            free, locked = to_decimal(row.get("available")), to_decimal(row.get("locked"))
            if not asset or free is None or locked is None:
                raise unexpected("Gate", f"unreadable balance for {asset or 'an account'}")
            amounts[asset] = (free, locked)
        return summarise_balances(amounts, ("free", "locked"))

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /futures/usdt/accounts: {"total", "unrealised_pnl", "available", "currency", ...}
        # where `total` excludes unrealised PnL (gateapi-php docs/Model/FuturesAccount.md;
        # ccxt:gate.py fetch_balance "Perpetual Swap"): equity = total + unrealised_pnl.
        data = reply.data
        if not isinstance(data, dict):
            raise unexpected("Gate futures", "futures account without an object")
        total = to_decimal(data.get("total"))
        pnl = to_decimal(data.get("unrealised_pnl")) or Decimal(0)
        available = to_decimal(data.get("available"))
        if total is None or available is None:
            raise unexpected("Gate futures", "unreadable futures account")
        asset = str(data.get("currency") or "USDT").upper()
        return summarise_balances({asset: (total + pnl, available)}, ("equity", "available"))

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market == Market.FUTURES:
            # GET /futures/usdt/contracts: [{"name": "BTC_USDT", "in_delisting": false,
            # "status": "trading" | "suspend", ...}] (ccxt:gate.py parse_contract_market).
            rows = _rows(get(self.url("gate", CONTRACTS_PATH)), "gate futures/usdt/contracts")
            return [
                pair
                for row in rows
                if row.get("in_delisting") is not True
                and row.get("status", "trading") == "trading"
                and isinstance(row.get("name"), str)
                and (pair := normalise_pair(*_split_pair(row["name"])))
            ]
        # GET /spot/currency_pairs: [{"id", "base", "quote", "trade_status": "tradable" |
        # "buyable" | "sellable" | "untradable"}] (gateapi-csharp docs/CurrencyPair.md).
        rows = _rows(get(self.url("gate", CURRENCY_PAIRS_PATH)), "gate spot/currency_pairs")
        return [
            pair
            for row in rows
            if row.get("trade_status") == "tradable"
            and (pair := normalise_pair(row.get("base"), row.get("quote")))
        ]


def _split_pair(name: str) -> tuple[str | None, str | None]:
    base, sep, quote = name.partition("_")
    return (base, quote) if sep and "_" not in quote else (None, None)


def _rows(payload: Any, where: str) -> list[dict]:
    """Gate's public lists are bare JSON arrays; an error is a `{"label": ...}` object."""
    if not isinstance(payload, list):
        label = payload.get("label") if isinstance(payload, dict) else None
        raise SymbolListUnavailable(f"{where}: error answer (label {label!r})")
    return [row for row in payload if isinstance(row, dict)]
