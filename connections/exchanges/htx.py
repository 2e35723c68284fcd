"""HTX (Huobi): spot (api.huobi.pro) and USDT-margined swaps (api.hbdm.com).

Facts and sources are collected in docs exchanges-more.md §6, §9, §10.6 and §11 (HTX's
official Python SDK HuobiRDCenter/huobi_Python, the 2020 API-key announcement) and in the
crawled copy of HTX's own API pages in github rosssaunders/coincise `docs/htx/` (cited below
as "htx-docs <file>"; each page names its htx.com/en-us/opend source).

HTX describes the calling key (`GET /v2/user/api-key`, after `GET /v2/user/uid`): its
permissions (readOnly, trade, withdraw), IP addresses and the days it stays valid. Trade and
withdrawal permission, the IP binding and the expiry are read from there; no order is probed.
HTX documents the endpoint for parent users (their own keys and their sub users' keys), so a
sub user's key may be refused: its refusal leaves those checks "cannot be verified" instead of
failing the key (`key_info_optional`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

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
    coded_error,
    parse_retry_after,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import normalise_pair, rows_of

SLUG = "htx"

SIGNATURE_METHOD = "HmacSHA256"
SIGNATURE_VERSION = "2"

# --- Signing (exchanges-more.md §6.2; htx-sdk huobi/utils/api_signature.py) ---------------


def encode(value: str) -> str:
    """URL encoding with uppercase hex (§6.2): Python's `quote` already writes `%3A`."""
    return quote(str(value), safe="")


def signed_host(base_url: str) -> str:
    """The host HTX signs: the base URL's host exactly as written there, with `:port` when the
    URL has one, so a proxy or the local simulator verifies like the exchange (§6.8: "the
    signed host must be the exact host you call")."""
    parts = urlsplit(base_url)
    return parts.netloc.rsplit("@", 1)[-1]


def timestamp_text(ms: int) -> str:
    """`Timestamp`: UTC, seconds, no zone, e.g. 2017-05-11T15:19:30 (§6.2, §6.8)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def presign_text(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """METHOD, host, path and the parameters sorted by name (ASCII), values URL-encoded with
    uppercase hex, one per line (§6.2)."""
    query = "&".join(f"{key}={encode(params[key])}" for key in sorted(params))
    return f"{method.upper()}\n{host}\n{path}\n{query}"


def sign(secret: str, text: str) -> str:
    """base64 HMAC-SHA256 of the pre-sign text (§6.2; SDK vector `Hhiaq8x…`)."""
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_query(
    credentials: Credentials,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    timestamp: str,
) -> str:
    """The query string of a signed call: auth and business parameters, sorted, then
    `Signature` URL-encoded (§6.2). POST business parameters go in the JSON body instead and
    are not signed (§6.2, docs "Request Format")."""
    items = dict(params)
    items.update(
        {
            "AccessKeyId": credentials.api_key,
            "SignatureMethod": SIGNATURE_METHOD,
            "SignatureVersion": SIGNATURE_VERSION,
            "Timestamp": timestamp,
        }
    )
    text = presign_text(method, host, path, items)
    query = text.rsplit("\n", 1)[1]
    return f"{query}&Signature={encode(sign(credentials.api_secret, text))}"


# --- Error classification (exchanges-more.md §6.6) ------------------------------------------

# Most authentication failures share `api-signature-not-valid` on the spot host; the cause is
# in the message, in English with the Chinese original in brackets (§6.6, §6.8). Checked in
# this order, English or Chinese.
MESSAGE_RULES: tuple[tuple[re.Pattern[str], Category], ...] = (
    # "Signature not valid: Incorrect IP address [IP地址错误]:104.128.67.45" (huobi_Python#110);
    # the caller's IP follows the colon. Derivatives: 12005 "Incorrect IP address."
    (re.compile(r"Incorrect IP address|IP地址错误", re.I), Category.IP_NOT_ALLOWED),
    # "… API key has no permission [API Key没有权限]" (ccxt:htx.py exceptions, "broad").
    (re.compile(r"has no permission|API Key没有权限", re.I), Category.NO_TRADE_PERMISSION),
    # "Signature not valid: 无效的提交时间" (REST-API-demos#4); derivatives 12001 "Invalid
    # submission time.", 12006 "The submission time can't be empty."
    (re.compile(r"无效的提交时间|submission time", re.I), Category.CLOCK_SKEW),
    # "… Incorrect Access key [Access key错误]" (htx-docs spot/private_rest_api.md, feedback
    # template; ccxt 403); "… Verification failure [校验失败]" (huobi_Java#71): wrong secret.
    (
        re.compile(r"Incorrect Access key|Access key错误|Verification fail|校验失败", re.I),
        Category.INVALID_KEY,
    ),
    # Derivatives 12009 "The user is locked or doesn't exist." (htx-docs usdtm error codes).
    (re.compile(r"user is locked|account is locked", re.I), Category.ACCOUNT_RESTRICTED),
    # "maintain" → OnMaintenance (ccxt:htx.py "broad"); derivatives 1431 "The system is in
    # maintenance …".
    (re.compile(r"maintain|maintenance", re.I), Category.EXCHANGE_UNAVAILABLE),
)

# Spot v1 `err-code` values (§6.6; htx-docs spot/private_rest_api.md "Error Code" tables;
# ccxt:htx.py exceptions).
V1_CODES: dict[str, Category] = {
    "api-signature-not-valid": Category.INVALID_KEY,  # when the message names no cause
    "api-signature-check-failed": Category.INVALID_KEY,
    "login-required": Category.INVALID_KEY,  # "Signature is missing, or user not find"
    "operation-forbidden-for-lock-account-state": Category.ACCOUNT_RESTRICTED,  # account locked
    "base-operation-forbidden": Category.ACCOUNT_RESTRICTED,  # "forbidden for current user"
    "base-request-exceed-frequency-limit": Category.EXCHANGE_UNAVAILABLE,  # rate limit
    "rate-too-many-requests": Category.EXCHANGE_UNAVAILABLE,  # rate limit
    "system-maintenance": Category.EXCHANGE_UNAVAILABLE,
    "gateway-internal-error": Category.EXCHANGE_UNAVAILABLE,
    "base-system-error": Category.EXCHANGE_UNAVAILABLE,
    "timeout": Category.EXCHANGE_UNAVAILABLE,
}
V1_RATE_LIMIT = frozenset({"base-request-exceed-frequency-limit", "rate-too-many-requests"})

# v2 `code` values (htx-docs spot/private_rest_api.md, "Sub-account Management" and "Account"
# error codes). 1002 "forbidden" is what a key gets for an operation its user may not do.
V2_CODES: dict[int, Category] = {
    1002: Category.NO_TRADE_PERMISSION,  # forbidden
    1003: Category.INVALID_KEY,  # unauthorized / invalid signature (ccxt 1003)
    3011: Category.INVALID_KEY,  # Verification failure
    40403: Category.EXCHANGE_UNAVAILABLE,  # Too many requests
    500: Category.EXCHANGE_UNAVAILABLE,  # system error
}
V2_RATE_LIMIT = frozenset({40403})

# Derivatives `err_code` values (htx-docs usdtm/private_rest_api.md "Details of Each Error
# Code"; ccxt:htx.py 403, 1010, 1220).
DERIVATIVES_CODES: dict[int, Category] = {
    403: Category.INVALID_KEY,  # "Incorrect Access key [Access key错误]" (ccxt)
    1253: Category.INVALID_KEY,  # Error in signature verification
    12002: Category.INVALID_KEY,  # Incorrect signature version
    12003: Category.INVALID_KEY,  # Incorrect signature method
    12004: Category.INVALID_KEY,  # Private key is expired
    12007: Category.INVALID_KEY,  # Incorrect public key
    12008: Category.INVALID_KEY,  # Verification failed
    12001: Category.CLOCK_SKEW,  # Invalid submission time
    12006: Category.CLOCK_SKEW,  # The submission time can't be empty
    12005: Category.IP_NOT_ALLOWED,  # Incorrect IP address
    12009: Category.ACCOUNT_RESTRICTED,  # The user is locked or doesn't exist
    1010: Category.FUTURES_NOT_PERMITTED,  # Account doesn't exist (no futures account)
    1012: Category.FUTURES_NOT_PERMITTED,  # The user's account doesn't exist
    1018: Category.FUTURES_NOT_PERMITTED,  # Main account doesn't exist
    1113: Category.FUTURES_NOT_PERMITTED,  # sub-account has no transaction permissions
    1220: Category.FUTURES_NOT_PERMITTED,  # "you have not opened contracts trading"
    1227: Category.FUTURES_NOT_PERMITTED,  # Contract does not support sub-accounts
    1254: Category.FUTURES_NOT_PERMITTED,  # sub-account has no permission to open futures
    1000: Category.EXCHANGE_UNAVAILABLE,  # System error
    1001: Category.EXCHANGE_UNAVAILABLE,  # System is unprepared
    1004: Category.EXCHANGE_UNAVAILABLE,  # System busy
    1032: Category.EXCHANGE_UNAVAILABLE,  # The number of access exceeded the limit
    1046: Category.EXCHANGE_UNAVAILABLE,  # Abnormal service
    1108: Category.EXCHANGE_UNAVAILABLE,  # Abnormal service
    1431: Category.EXCHANGE_UNAVAILABLE,  # The system is in maintenance
}
DERIVATIVES_RATE_LIMIT = frozenset({1032})

# Calls answered by the derivatives host.
DERIVATIVES_CALLS = frozenset({"futures_time", "swap_account", "asset_mode"})

# Multi-Assets Collateral mode or not (htx-docs get_asset_mode.md, GET, Read permission).
ASSET_MODE_PATH = "/v5/account/asset_mode"


def error_fields(data: Any) -> tuple[str, str | int | None, str] | None:
    """(format, code, message) of an error answer, None for a success.

    Spot v1 `{"status":"error","err-code","err-msg"}`, derivatives `{"status":"error",
    "err_code","err_msg"}`, v2 `{"code":…,"message":…}` with 200 for success (§6.6).
    """
    if not isinstance(data, dict):
        return ("none", None, "")
    if "status" in data:
        if data.get("status") == "ok":
            return None
        if "err_code" in data:
            return ("derivatives", as_int(data.get("err_code")), str(data.get("err_msg") or ""))
        return ("v1", data.get("err-code"), str(data.get("err-msg") or ""))
    if "code" in data:
        code = as_int(data.get("code"))
        if code == 200:
            return None
        return ("v2", code, str(data.get("message") or data.get("msg") or ""))
    return ("none", None, "")


def _message_category(message: str) -> Category | None:
    for pattern, category in MESSAGE_RULES:
        if pattern.search(message):
            return category
    return None


def classify(reply: Reply) -> ExchangeError | None:
    """The error a reply stands for, or None for a success: by message first (HTX names the
    cause only there), then code, then HTTP status; anything unrecognised is temporary."""
    futures_call = reply.name in DERIVATIVES_CALLS
    what = "HTX futures" if futures_call else "HTX"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    fields = error_fields(reply.data)
    if fields is None:
        if reply.status < 400:
            return None
        return transport_fallback(reply, what)
    kind, code, message = fields
    if kind == "none":
        return transport_fallback(reply, what, "no status or code in the answer")
    text = f"{code} {message}".strip() if code is not None else message
    if kind == "v1":
        rate_limited = code in V1_RATE_LIMIT
        category = _message_category(message) or V1_CODES.get(str(code))
    elif kind == "v2" and futures_call:
        # The derivatives host's v5 endpoints answer `{"code","msg"}` with its own codes.
        rate_limited = code in DERIVATIVES_RATE_LIMIT
        category = _message_category(message) or DERIVATIVES_CODES.get(code)  # type: ignore[arg-type]
    elif kind == "v2":
        rate_limited = code in V2_RATE_LIMIT
        category = _message_category(message) or V2_CODES.get(code)  # type: ignore[arg-type]
        if reply.name == "api_key" and code == 2002:
            # "invalid field value": the uid or key is not one this user may look up, as for
            # a sub user's key (§6.3: parent users only, UNVERIFIED wording).
            category = Category.NO_TRADE_PERMISSION
    else:
        rate_limited = code in DERIVATIVES_RATE_LIMIT
        category = _message_category(message) or DERIVATIVES_CODES.get(code)  # type: ignore[arg-type]
    if rate_limited or reply.status == 429:
        # A rate limit is temporary whatever its wording.
        category = Category.EXCHANGE_UNAVAILABLE
    if futures_call and category == Category.NO_TRADE_PERMISSION:
        category = Category.FUTURES_NOT_PERMITTED
    # Retry-After where sent. HTX's own quota headers (spot X-HB-RateLimit-Requests-Expire,
    # derivatives ratelimit-reset) are not read: their units and meaning are not documented
    # clearly enough to wait on (htx-docs rate_limits.md; usdtm "API Rate Limit Illustration").
    retry_after = parse_retry_after(reply.headers)
    exchange_code = str(code) if code is not None else None
    return coded_error(
        reply,
        what,
        category,
        text,
        code=exchange_code,
        message=message,
        retry_after=retry_after,
    )


# --- The client -----------------------------------------------------------------------------

# `permission` names of `GET /v2/user/api-key` (§6.3) → ours.
PERMISSION_NAMES: dict[str, str] = {"readonly": "read", "trade": "spot", "withdraw": "withdraw"}


class HtxClient(ExchangeAPI):
    slug = SLUG
    # §6.1: spot https://api.huobi.pro (htx-sdk constant/system.py, ccxt), derivatives
    # https://api.hbdm.com (htx-docs usdtm). No demo environment (§6.1: no public testnet).
    default_base_urls = {
        "htx": "https://api.huobi.pro",
        "htx_futures": "https://api.hbdm.com",
    }
    # htx-docs get_api_key_query.md: "used by the parent user to query their own API key
    # information, and the parent user to query their sub user's API key information". A sub
    # user's key is refused (UNVERIFIED how): its facts stay unknown, the key is not failed.
    key_info_optional = True
    # A user without a spot account yet (none in `GET /v1/account/accounts`) has no balance
    # to read: the only case where the plan has no balances call.
    not_verifiable = {CheckName.BALANCES: "htx_no_spot_account"}

    def time_calls(self, market: Market) -> list[Call]:
        calls = [Call("time", "GET", self.url("htx", "/v1/common/timestamp"))]
        if market == Market.FUTURES:
            calls.append(Call("futures_time", "GET", self.url("htx_futures", "/api/v1/timestamp")))
        return calls

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        data = reply.data if isinstance(reply.data, dict) else {}
        # Spot {"status":"ok","data":1629715504949} (htx-docs spot/public_rest_api.md "Get
        # Current Timestamp"); derivatives {"status":"ok","ts":1578124684692} (htx-docs
        # coinm/public_rest_api.md "Get current system timestamp").
        value = as_int(data.get("ts") if reply.name == "futures_time" else data.get("data"))
        if value is None:
            raise unexpected("HTX", f"no server time in {reply.name}")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply)

    def _signed_call(
        self,
        name: str,
        host_key: str,
        method: str,
        path: str,
        ctx: TestContext,
        time_call: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Call:
        base = self.base_urls[host_key]
        query = signed_query(
            ctx.credentials,
            method,
            signed_host(base),
            path,
            params or {},
            timestamp=timestamp_text(ctx.now_ms(time_call)),
        )
        headers = {"Content-Type": "application/json"}
        text = json.dumps(body, separators=(",", ":")) if body is not None else ""
        return Call(name, method, f"{base}{path}?{query}", headers, text)

    def prepare(self, ctx: TestContext) -> None:
        # The uid names the key in `GET /v2/user/api-key` (§6.3); the spot account id is part
        # of the balance path (§6.5); for futures, the asset mode says which account holds the
        # USDT margin. All signed reads, sent at once.
        calls = [self._signed_call("uid", "htx", "GET", "/v2/user/uid", ctx, "time")]
        optional = []
        if ctx.futures:
            optional.append(
                self._signed_call(
                    "asset_mode", "htx_futures", "GET", ASSET_MODE_PATH, ctx, "futures_time"
                )
            )
        else:
            calls.append(
                self._signed_call("accounts", "htx", "GET", "/v1/account/accounts", ctx, "time")
            )
        replies = ctx.send_signed_all(calls, optional)
        if ctx.futures:
            ctx.data["multi_assets"] = self._multi_assets(replies["asset_mode"])
        # {"code": 200, "data": 63628520} (htx-docs spot/private_rest_api.md "Get UID").
        uid = as_int(replies["uid"].data.get("data"))
        if uid is None:
            raise unexpected("HTX", "no uid in the answer")
        ctx.data["uid"] = uid
        if "accounts" in replies:
            # {"status":"ok","data":[{"id":…,"type":"spot","subtype":"","state":"working"}]}
            # (htx-docs "Get all Accounts of the Current User").
            rows = replies["accounts"].data.get("data")
            if not isinstance(rows, list):
                raise unexpected("HTX", "accounts without data")
            spot = [r for r in rows if isinstance(r, dict) and r.get("type") == "spot"]
            ctx.data["account_id"] = as_int(spot[0].get("id")) if spot else None

    def _multi_assets(self, result: Reply | ExchangeError) -> bool:
        """True when the account is in Multi-Assets Collateral mode: `{"code":200,"data":
        {"assets_mode":1}}` (htx-docs get_asset_mode.md: 0 single-asset, 1 multi-assets).
        Any other answer keeps the single-asset cross account, whose own answer then speaks
        for the key (a key without a futures account is refused there with its own code)."""
        if not isinstance(result, Reply) or self.classify(result) is not None:
            return False
        data = result.data.get("data") if isinstance(result.data, dict) else None
        return isinstance(data, dict) and as_int(data.get("assets_mode")) == 1

    def plan(self, ctx: TestContext) -> SignedPlan:
        key_info = self._signed_call(
            "api_key",
            "htx",
            "GET",
            "/v2/user/api-key",
            ctx,
            "time",
            params={"uid": str(ctx.data["uid"]), "accessKey": ctx.credentials.api_key},
        )
        if ctx.futures and ctx.data.get("multi_assets"):
            # "For Multi-Assets Collateral Mode users: Get information about your Futures
            # account" (htx-docs get_account_balance.md, GET /v5/account/balance; what ccxt
            # 4.5.90 reads for linear swaps).
            balances: Call | None = self._signed_call(
                "swap_account", "htx_futures", "GET", "/v5/account/balance", ctx, "futures_time"
            )
        elif ctx.futures:
            # The USDT-margined cross account (htx-docs get_cross_query_user_s_account_
            # information.md, "[Cross] Query User's Account Information", Read permission).
            balances = self._signed_call(
                "swap_account",
                "htx_futures",
                "POST",
                "/linear-swap-api/v1/swap_cross_account_info",
                ctx,
                "futures_time",
                body={"margin_account": "USDT"},
            )
        elif ctx.data.get("account_id") is not None:
            balances = self._signed_call(
                "balance",
                "htx",
                "GET",
                f"/v1/account/accounts/{ctx.data['account_id']}/balance",
                ctx,
                "time",
            )
        else:
            balances = None
        return SignedPlan(key_info=key_info, balances=balances)

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        if reply is None:
            return KeyFacts()
        rows = reply.data.get("data")
        if not isinstance(rows, list):
            raise unexpected("HTX", "api-key info without data")
        mine = [r for r in rows if isinstance(r, dict)]
        matching = [r for r in mine if r.get("accessKey") == ctx.credentials.api_key]
        if not matching and len(mine) != 1:
            # The list does not say which entry is this key: nothing is guessed.
            return KeyFacts()
        row = (matching or mine)[0]
        permission = row.get("permission")
        if not isinstance(permission, str):
            raise unexpected("HTX", "api-key info without permission")
        raw = [name.strip() for name in permission.split(",") if name.strip()]
        names = {name.lower() for name in raw}
        trade = "trade" in names
        facts = KeyFacts(
            read="readonly" in names,
            spot_trade=trade,
            # HTX has no separate futures permission: "The API key is shared for all
            # instruments in HTX including spot, futures, swap, options" and Trade is the one
            # order permission (htx-docs spot/private_rest_api.md "Quick Start"; §6.3, §9).
            # A futures account that refused this key overrides it.
            futures_trade=trade and not self._futures_account_refused(ctx),
            withdraw="withdraw" in names,
            raw_permissions=raw,
            permissions=[PERMISSION_NAMES.get(name, name) for name in names_in_order(raw)],
        )
        if ctx.futures and facts.futures_trade:
            facts.permissions.append("futures")
        addresses = row.get("ipAddresses")
        if isinstance(addresses, str):
            facts.ip_whitelist = [ip.strip() for ip in addresses.split(",") if ip.strip()]
        self._expiry(row, ctx, facts)
        return facts

    @staticmethod
    def _futures_account_refused(ctx: TestContext) -> bool:
        error = ctx.data.get("settled", {}).get("swap_account")
        return error is not None and error.category == Category.FUTURES_NOT_PERMITTED

    @staticmethod
    def _expiry(row: Mapping[str, Any], ctx: TestContext, facts: KeyFacts) -> None:
        # `validDays`: days the key stays valid, -1 = permanently valid; `status`: normal,
        # expired (htx-docs get_api_key_query.md). "Without any IP address binding, the API key
        # will expire in 90 days" (§6.3, htx-ann).
        days = as_int(row.get("validDays"))
        now = ctx.builder.report.started_at or datetime.now(UTC)
        if str(row.get("status") or "").lower() == "expired":
            facts.expires_at = now
        elif days is not None and days < 0:
            facts.never_expires = True
        elif days is not None:
            # Whole days remain; 0 means less than one, yet the key answered just now.
            facts.expires_at = now + max(timedelta(days=days), timedelta(seconds=1))

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # {"status":"ok","data":{"id":…,"type":"spot","state":"working","list":[{"currency":
        # "usdt","type":"trade"|"frozen","balance":"…"}]}} (htx-docs "Get Account Balance of a
        # Specific Account"; ccxt:htx.py fetch_balance example).
        data = reply.data.get("data")
        rows = data.get("list") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise unexpected("HTX", "balance without list")
        amounts: dict[str, list[Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict) or row.get("type") not in ("trade", "frozen"):
                continue
            asset = str(row.get("currency") or "").upper()
            amount = to_decimal(row.get("balance"))
            if not asset or amount is None:
                raise unexpected("HTX", f"unreadable balance for {asset or 'an asset'}")
            pair = amounts.setdefault(asset, [Decimal(0), Decimal(0)])
            pair[0 if row["type"] == "trade" else 1] += amount
        return summarise_balances(
            {asset: (free, locked) for asset, (free, locked) in amounts.items()},
            ("free", "locked"),
        )

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        data = reply.data.get("data")
        if isinstance(data, dict):
            return HtxClient._multi_assets_balances(data)
        # {"status":"ok","data":[{"margin_mode":"cross","margin_account":"USDT",
        # "margin_asset":"USDT","margin_balance":…,"withdraw_available":…,…}]}: equity is
        # `margin_balance`, available is `withdraw_available` ("available transfer amount")
        # (htx-docs get_cross_query_user_s_account_information.md).
        rows = data
        if not isinstance(rows, list):
            raise unexpected("HTX futures", "cross account without data")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            asset = str(row.get("margin_asset") or row.get("margin_account") or "").upper()
            equity = to_decimal(row.get("margin_balance"))
            available = to_decimal(row.get("withdraw_available"))
            if not asset or equity is None or available is None:
                raise unexpected("HTX futures", f"unreadable cross account {asset or '?'}")
            amounts[asset] = (equity, available)
        return summarise_balances(amounts, ("equity", "available"))

    @staticmethod
    def _multi_assets_balances(data: Mapping[str, Any]) -> list[dict[str, str]]:
        # {"code":200,"data":{"equity":…,"available_margin":…,"details":[{"currency":"USDT",
        # "equity":…,"available":…,…}]}} (htx-docs get_account_balance.md).
        rows = data.get("details")
        if not isinstance(rows, list):
            raise unexpected("HTX futures", "account balance without details")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            asset = str(row.get("currency") or "").upper()
            equity, available = to_decimal(row.get("equity")), to_decimal(row.get("available"))
            if not asset or equity is None or available is None:
                raise unexpected("HTX futures", f"unreadable balance for {asset or '?'}")
            amounts[asset] = (equity, available)
        return summarise_balances(amounts, ("equity", "available"))

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market == Market.FUTURES:
            # Perpetual USDT-margined swaps that are listed: contract_status 1 "Listing",
            # business_type "swap" (htx-docs usdtm/public_rest_api.md "[General] Query Swap
            # Info"; ccxt:htx.py fetch_markets).
            rows = rows_of(
                get(self.url("htx_futures", "/linear-swap-api/v1/swap_contract_info")),
                "htx swap_contract_info",
                ok=lambda p: p.get("status") == "ok",
            )
            pairs = []
            for row in rows:
                if as_int(row.get("contract_status")) != 1 or row.get("business_type") != "swap":
                    continue
                parts = str(row.get("contract_code") or "").split("-")
                if len(parts) == 2 and (pair := normalise_pair(parts[0], parts[1])):
                    pairs.append(pair)
            return pairs
        # Spot: state "online" and "api-trading":"enabled" (ccxt:htx.py fetch_markets example
        # of GET /v1/common/symbols; htx-docs spot FAQ "GET /v1/common/symbols").
        rows = rows_of(
            get(self.url("htx", "/v1/common/symbols")),
            "htx common/symbols",
            ok=lambda p: p.get("status") == "ok",
        )
        return [
            pair
            for row in rows
            if row.get("state") == "online"
            and row.get("api-trading") == "enabled"
            and (pair := normalise_pair(row.get("base-currency"), row.get("quote-currency")))
        ]


def names_in_order(raw: Iterable[str]) -> list[str]:
    """Lower-cased permission names without repeats, in the exchange's order."""
    seen: list[str] = []
    for name in raw:
        if name.lower() not in seen:
            seen.append(name.lower())
    return seen
