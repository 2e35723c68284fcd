"""Binance: spot and wallet (api.binance.com) and USDⓈ-M futures (fapi.binance.com).

Facts and sources are collected in docs exchanges-more.md §1, §9 and §10.1 (binance-spot-api-docs
`rest-api.md`, `errors.md`, `faqs/api_key_types.md`, `demo-mode/general-info.md`; the official
modular Python SDK binance-connector-python; developers.binance.com pages).

Binance describes the calling key (`GET /sapi/v1/account/apiRestrictions`, §1.3): reading,
spot trading, futures, withdrawals and whether an IP restriction is set (a yes/no only, never
the list). Trading, futures, withdrawal and IP restriction are read from there; no order is
probed. Its one error code for "bad key, IP not allowed or missing permission" (-2015) is told
apart with that same call (`refine`, §1.8).

Demo mode (keys made on demo.binance.com) has its own hosts. The demo-mode docs list only the
`/api` endpoints for them (bn-spot-docs `demo-mode/general-info.md`), so whether `/sapi` answers
there is UNVERIFIED (§10.1): a demo test asks, but does not rely on it. Alongside, it reads the
balances and validates a test order (`/api/v3/order/test`, `/fapi/v1/order/test`); when the
introspection gives no usable answer, those decide, and withdrawal and IP restriction are
reported as "cannot be verified".

Keys: HMAC (secret key) and Ed25519 (private key in PEM, which Binance now recommends, §1.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    PermanentExchangeError,
    TemporaryExchangeError,
    make_error,
    utc_from_timestamp,
)
from .flow import ExchangeAPI, KeyFacts, SignedPlan, TestContext
from .http import (
    Call,
    Reply,
    as_int,
    extract_ip,
    parse_retry_after,
    rebuild_pem,
    summarise_asset_rows,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import SymbolListUnavailable, normalise_pair

SLUG = "binance"

# Documented default (§1.2: "recvWindow ... default 5000, max 60000"); the server accepts iff
# timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
RECV_WINDOW_MS = 5000

# A harmless order for the test-order endpoints (demo mode only): a LIMIT BUY far below the
# market. "Creates and validates a new order but does not send it into the matching engine"
# (§1.4; bn-spot-docs rest-api.md "Test new order (TRADE)"; bn-dev New-Order-Test for fapi).
SPOT_ORDER_TEST_PARAMS: tuple[tuple[str, str], ...] = (
    ("symbol", "BTCUSDT"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "0.001"),
    ("price", "10000"),
)
FUTURES_ORDER_TEST_PARAMS: tuple[tuple[str, str], ...] = (
    ("symbol", "BTCUSDT"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    # 0.004 x 30000 = 120 USDT, above the 100 USDT minimum notional of BTCUSDT perpetuals.
    ("quantity", "0.004"),
    ("price", "30000"),
)

# Error codes (§1.6; bn-spot-docs errors.md). -2015 merges bad key, IP and permission: it is
# INVALID_KEY until `refine` can tell more.
ERROR_CODES: dict[int, Category] = {
    -2015: Category.INVALID_KEY,  # REJECTED_MBX_KEY "Invalid API-key, IP, or permissions..."
    -2014: Category.INVALID_KEY,  # BAD_API_KEY_FMT "API-key format invalid."
    -2008: Category.INVALID_KEY,  # BAD_API_ID "Invalid Api-Key ID." (exchanges.md §12 table)
    -1022: Category.INVALID_KEY,  # INVALID_SIGNATURE
    -1002: Category.INVALID_KEY,  # UNAUTHORIZED "You are not authorized to execute this request."
    -1021: Category.CLOCK_SKEW,  # INVALID_TIMESTAMP (outside recvWindow / 1000 ms ahead)
    -1003: Category.EXCHANGE_UNAVAILABLE,  # TOO_MANY_REQUESTS
    -1000: Category.EXCHANGE_UNAVAILABLE,  # UNKNOWN
    -1001: Category.EXCHANGE_UNAVAILABLE,  # DISCONNECTED
    -1007: Category.EXCHANGE_UNAVAILABLE,  # TIMEOUT (status unknown)
    -1008: Category.EXCHANGE_UNAVAILABLE,  # SERVER_BUSY
    -1016: Category.EXCHANGE_UNAVAILABLE,  # SERVICE_SHUTTING_DOWN
}
REJECTED_MBX_KEY = -2015
RATE_LIMIT_CODES = frozenset({-1003})

# "This action is disabled on this account." / "This account may not place or cancel orders."
# come with -2010 / -1010 and other order codes (§1.6, errors.md "Messages for -1010
# ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED ..."): the account, not the order, is refused.
ACCOUNT_RESTRICTED_MESSAGES = re.compile(
    r"action is disabled on this account|account may not place or cancel orders|"
    r"restricted location",
    re.I,
)


# Order-rule rejections of a test order: a TRADE endpoint checks the key, the signature, the IP
# and the permission first (a refused key gets -2015, §1.4), so an order-rule answer means the
# key was accepted for trading. Inferred from the error table, as for MEXC; which code a
# read-only key gets is UNVERIFIED (§10.1). Only codes that judge the order itself count:
# -1013 filter failure (PERCENT_PRICE_BY_SIDE for our far-below-market price), -1111
# precision, -2010 / -1010 order rejections other than the account-level messages, and the
# futures order rules -4000..-4999 (e.g. -4164 minimum notional).
ORDER_VALIDATION_CODES = frozenset({-1013, -1111, -2010, -1010})


def is_order_validation(code: int, message: str) -> bool:
    if ACCOUNT_RESTRICTED_MESSAGES.search(message):
        return False
    return code in ORDER_VALIDATION_CODES or -4999 <= code <= -4000


# --- Signing -------------------------------------------------------------------------------


def sign_hmac(secret: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of query string + body (§1.2; vector c8db5682... there)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def is_private_key_pem(secret: str) -> bool:
    return "PRIVATE KEY-----" in secret


def sign_ed25519(private_key_pem: str, payload: str) -> str:
    """base64 of the Ed25519 signature of the payload (§1.2, "SIGNED Endpoint Examples":
    Ed25519 keys sign the same payload; the base64 value is then URL-encoded in the request)."""
    try:
        key = load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise PermanentExchangeError(
            Category.INVALID_KEY, "the private key is not a readable unencrypted PEM"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        # RSA keys are not supported (the form says "Ed25519 private key").
        raise PermanentExchangeError(Category.INVALID_KEY, "the private key is not Ed25519")
    return base64.b64encode(key.sign(payload.encode())).decode()


def signature_param(secret: str, payload: str) -> str:
    """The value of `signature=` as sent: hex for HMAC, URL-encoded base64 for Ed25519."""
    if is_private_key_pem(secret):
        return quote(sign_ed25519(secret, payload), safe="")
    return sign_hmac(secret, payload)


def signed_query(
    params: Iterable[tuple[str, str]], *, timestamp_ms: int, recv_window: int = RECV_WINDOW_MS
) -> str:
    """The string to sign, in the docs' order: business params, recvWindow, timestamp (§1.2)."""
    return urlencode([*params, ("recvWindow", str(recv_window)), ("timestamp", str(timestamp_ms))])


def normalise_pem(text: str) -> str:
    """A PEM whose line breaks a password input dropped, rebuilt (`rebuild_pem`). Other
    text is returned stripped."""
    rebuilt = rebuild_pem(text)
    return rebuilt if rebuilt is not None else text.strip()


def normalise_credentials(api_key: str, api_secret: str, passphrase: str) -> tuple[str, str, str]:
    """Registry `normalise`: the key without whitespace, an Ed25519 PEM with its lines back."""
    return "".join(api_key.split()), normalise_pem(api_secret), passphrase


# --- Error classification ------------------------------------------------------------------


def _error_fields(reply: Reply) -> tuple[int | None, str] | None:
    """(code, msg) of an error answer, None for a success. Binance errors are
    `{"code": <negative int>, "msg": "..."}` with a 4xx/5xx status (§1.6); successes carry no
    negative code (fapi balances are a list)."""
    data = reply.data
    code = as_int(data.get("code")) if isinstance(data, dict) else None
    message = str(data.get("msg") or "") if isinstance(data, dict) else ""
    if reply.status < 400 and (code is None or code >= 0):
        return None
    return code, message


def request_ip(message: str) -> str | None:
    """The IP Binance saw us from, in a -2015 text: "Invalid API-key, IP, or permissions for
    action, request ip: 185.93.111.189" (fapi, observed; not always sent, §1.6). A
    sentence-ending period after the IP is stripped first (extract_ip refuses "1.2.3.4.")."""
    return extract_ip(message.rstrip(". "))


def classify(reply: Reply) -> ExchangeError | None:
    """The error a reply stands for, or None for a success. By code, message, then status."""
    what = "Binance futures" if reply.name in FUTURES_CALLS else "Binance"
    if not reply.json_ok:
        return transport_fallback(reply, what)
    fields = _error_fields(reply)
    if fields is None:
        return None
    code, message = fields
    text = f"{code} {message}".strip() if code is not None else message
    exchange_code = str(code) if code is not None else None
    if reply.status in (418, 429) or code in RATE_LIMIT_CODES:
        # 429: request weight exceeded; 418: the IP is banned after repeated 429s (2 minutes to
        # 3 days); both carry Retry-After in seconds (§1.6, rest-api.md "IP Limits").
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"{what} rate limit (HTTP {reply.status}): {text}",
            exchange_code=exchange_code,
            retry_after=parse_retry_after(reply.headers),
        )
    if reply.status == 451 or ACCOUNT_RESTRICTED_MESSAGES.search(message):
        # 451: "Service unavailable from a restricted location" (observed, ccxt issues);
        # account-level refusals by message (§1.6).
        return PermanentExchangeError(
            Category.ACCOUNT_RESTRICTED, f"{what}: {text}", exchange_code=exchange_code
        )
    category = ERROR_CODES.get(code) if code is not None else None
    if category is None:
        if code is None and not message:
            return transport_fallback(reply, what)
        # Anything unrecognised is temporary: retried, never blamed on the key.
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"unrecognised answer from {what} (HTTP {reply.status}): {text}",
            exchange_code=exchange_code,
            retry_after=parse_retry_after(reply.headers),
        )
    reported_ip = request_ip(message) if code == REJECTED_MBX_KEY else None
    return make_error(
        category,
        f"{what}: {text}",
        exchange_code=exchange_code,
        retry_after=parse_retry_after(reply.headers) if category.is_temporary else None,
        reported_ip=reported_ip,
        detail="binance_key_ip_or_permission" if code == REJECTED_MBX_KEY else None,
    )


# Calls answered by the futures host.
FUTURES_CALLS = frozenset({"futures_time", "futures_balance", "futures_order_test"})
KEY_INFO = "api_restrictions"


# --- The client ----------------------------------------------------------------------------


class BinanceClient(ExchangeAPI):
    slug = SLUG
    # §1.1 (bn-spot-docs rest-api.md "General API Information"; bn-sdk constants.py).
    default_base_urls = {
        "binance": "https://api.binance.com",
        "binance_futures": "https://fapi.binance.com",
    }
    # Demo mode: keys made on demo.binance.com (bn-spot-docs demo-mode/general-info.md;
    # bn-sdk constants.py SPOT_REST_API_DEMO_URL and the USDⓈ-M demo URL, §1.1).
    demo_base_urls = {
        "binance": "https://demo-api.binance.com",
        "binance_futures": "https://demo-fapi.binance.com",
    }
    # No expiry in the official apiRestrictions model (§1.3); the legacy
    # `tradingAuthorityExpirationTime` is read when present (`key_facts`).
    not_verifiable = {CheckName.KEY_EXPIRY: "not_reported"}
    # Demo mode without a usable introspection (module docstring): what only it could tell.
    not_verifiable_demo = {
        CheckName.WITHDRAWAL: "binance_demo_no_key_info",
        CheckName.IP_RESTRICTION: "binance_demo_no_key_info",
        CheckName.KEY_EXPIRY: "not_reported",
    }

    # --- time ------------------------------------------------------------------------------

    def time_calls(self, market: Market) -> list[Call]:
        calls = [Call("time", "GET", self.url("binance", "/api/v3/time"))]
        if market == Market.FUTURES:
            calls.append(Call("futures_time", "GET", self.url("binance_futures", "/fapi/v1/time")))
        return calls

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"serverTime": 1499827319559} on both hosts (§1.5; bn-sdk market_data_api.py).
        data = reply.data if isinstance(reply.data, dict) else {}
        value = as_int(data.get("serverTime"))
        if value is None:
            raise unexpected("Binance", f"no server time in {reply.name}")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply)

    # --- the signed round ------------------------------------------------------------------

    def signed_call(
        self,
        name: str,
        method: str,
        host: str,
        path: str,
        params: Iterable[tuple[str, str]],
        credentials: Credentials,
        timestamp_ms: int,
    ) -> Call:
        """GET: parameters and signature in the query; POST: in the form body (§1.2 "signature
        in the query string or form body"; CCXT sends POST parameters in the body too)."""
        query = signed_query(params, timestamp_ms=timestamp_ms)
        signed = f"{query}&signature={signature_param(credentials.api_secret, query)}"
        headers = {"X-MBX-APIKEY": credentials.api_key}
        if method == "GET":
            return Call(name, method, f"{self.url(host, path)}?{signed}", headers)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return Call(name, method, self.url(host, path), headers, body=signed)

    def plan(self, ctx: TestContext) -> SignedPlan:
        cred = ctx.credentials
        spot_ms = ctx.now_ms("time")
        if ctx.futures:
            futures_ms = ctx.now_ms("futures_time")
            # Weight 5 (§1.5; bn-sdk account_api.py "Futures Account Balance V3").
            balances = self.signed_call(
                "futures_balance",
                "GET",
                "binance_futures",
                "/fapi/v3/balance",
                (),
                cred,
                futures_ms,
            )
        else:
            # Weight 20; `omitZeroBalances` keeps a dusty account's answer short (§1.5).
            balances = self.signed_call(
                "account",
                "GET",
                "binance",
                "/api/v3/account",
                (("omitZeroBalances", "true"),),
                cred,
                spot_ms,
            )
        # Weight(IP) 1 (§1.3; bn-dev /docs/wallet/account/api-key-permission).
        key_info = self.signed_call(
            KEY_INFO, "GET", "binance", "/sapi/v1/account/apiRestrictions", (), cred, spot_ms
        )
        if self.demo:
            # The introspection may not exist on the demo host (module docstring): a test
            # order, only validated, proves trading if it does not.
            if ctx.futures:
                probe = self.signed_call(
                    "futures_order_test",
                    "POST",
                    "binance_futures",
                    "/fapi/v1/order/test",
                    FUTURES_ORDER_TEST_PARAMS,
                    cred,
                    ctx.now_ms("futures_time"),
                )
            else:
                probe = self.signed_call(
                    "order_test",
                    "POST",
                    "binance",
                    "/api/v3/order/test",
                    SPOT_ORDER_TEST_PARAMS,
                    cred,
                    spot_ms,
                )
            return SignedPlan(key_info=key_info, balances=balances, trade_probe=probe)
        return SignedPlan(key_info=key_info, balances=balances)

    def key_info_unavailable(self, result: Reply | ExchangeError, ctx: TestContext) -> bool:
        """In demo mode, anything but a readable apiRestrictions answer (a 404, an error, a
        -2015 from a backend that does not know demo keys) means "not available here": the
        balances and the test order decide, never this call's answer."""
        if not self.demo:
            return False
        if not isinstance(result, Reply) or result.status != 200 or not result.json_ok:
            return True
        data = result.data
        return not (isinstance(data, dict) and isinstance(data.get("enableReading"), bool))

    def settle(
        self, result: Reply | ExchangeError, ctx: TestContext
    ) -> tuple[Reply | None, ExchangeError | None]:
        reply, error = super().settle(result, ctx)
        if reply is not None and error is None and reply.name == KEY_INFO:
            # What the key may do, for `refine` of the calls settled after it.
            ctx.data["restrictions"] = reply.data if isinstance(reply.data, dict) else {}
        return reply, error

    def refine(self, call_name: str, error: ExchangeError, ctx: TestContext) -> ExchangeError:
        """-2015 says "Invalid API-key, IP, or permissions for action": one code for three
        causes (§1.6, §1.8). What the other calls of the test answered tells them apart."""
        if error.exchange_code != str(REJECTED_MBX_KEY):
            return error
        futures_call = call_name in FUTURES_CALLS
        settled = ctx.data.get("settled", {})
        if call_name == KEY_INFO:
            # The introspection itself is refused: the key is unknown (or a demo key on the
            # live host) or our IP is not on its list; Binance does not say which. The IP it
            # saw may come with another call's -2015 of the same round (fapi appends it).
            error.reported_ip = error.reported_ip or _reported_ip(ctx.data.get("round", {}))
            error.detail = "binance_key_or_ip_ip" if error.reported_ip else "binance_key_or_ip"
            return error
        if not any(other != call_name and err is None for other, err in settled.items()):
            # Nothing vouched for the key (demo mode, or the first call): all three remain.
            return error
        # Another signed call of this key succeeded from this IP: key and IP are fine, so this
        # call lacks a permission.
        restrictions = ctx.data.get("restrictions") or {}
        if futures_call and restrictions.get("enablePortfolioMarginTrading") is True:
            detail = "binance_portfolio_margin"
        else:
            detail = "binance_permission_missing"
        return PermanentExchangeError(
            Category.FUTURES_NOT_PERMITTED if futures_call else Category.NO_TRADE_PERMISSION,
            error.message,
            exchange_code=error.exchange_code,
            detail=detail,
        )

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        if reply is None:
            # Demo mode: nothing describes the key (module docstring).
            return KeyFacts()
        data = reply.data if isinstance(reply.data, dict) else None
        if data is None or not isinstance(data.get("enableReading"), bool):
            raise unexpected("Binance", "apiRestrictions without enableReading")
        flags = {name: value for name, value in data.items() if isinstance(value, bool)}
        withdraw: bool | None = flags.get("enableWithdrawals")
        if withdraw is None and not self.demo:
            # Never guessed: an answer that does not say is retried, and if that persists the
            # test ends "exchange unavailable", never Online (a demo key moves no real funds:
            # its withdrawal is then "cannot be verified").
            raise unexpected("Binance", "apiRestrictions without enableWithdrawals")
        raw = [
            name
            for name, value in flags.items()
            if value and name.startswith(("enable", "permits"))
        ]
        portfolio = flags.get("enablePortfolioMarginTrading") is True
        # "The Futures API cannot be used if the API key was created before the Futures account
        # was opened, or if you have enabled portfolio margin." (the official example's comment
        # on enableFutures, §1.3): a portfolio-margin account's fapi calls answer -2015 (§1.8),
        # and our strategies trade through fapi.
        futures_trade = flags.get("enableFutures") is True and not portfolio
        details: dict[CheckName, tuple[str, dict[str, Any]]] = {}
        if ctx.futures and portfolio:
            details[CheckName.FUTURES_PERMISSION] = ("binance_portfolio_margin", {})
        elif ctx.futures and not futures_trade:
            details[CheckName.FUTURES_PERMISSION] = ("binance_futures_disabled", {})
        permissions = ["read"] if flags.get("enableReading") else []
        if flags.get("enableSpotAndMarginTrading"):
            permissions.append("spot")
        if futures_trade:
            permissions.append("futures")
        if flags.get("enableWithdrawals"):
            permissions.append("withdraw")
        # `tradingAuthorityExpirationTime` ("Expiration time for spot and margin trading
        # permission") is absent from today's model and appears only in older docs and
        # third-party models (§1.3, UNVERIFIED): when sent, trading stops then, which is what
        # the expiry check is about.
        expires = as_int(data.get("tradingAuthorityExpirationTime"))
        return KeyFacts(
            read=flags.get("enableReading"),
            spot_trade=flags.get("enableSpotAndMarginTrading") is True,
            futures_trade=futures_trade,
            # enableWithdrawals: "This option allows you to withdraw via API" (§1.3).
            withdraw=withdraw,
            raw_permissions=raw,
            permissions=permissions,
            # A yes/no only: the list itself is not exposed for the calling key (§1.3).
            ip_restricted=flags.get("ipRestrict") if "ipRestrict" in flags else None,
            expires_at=utc_from_timestamp(expires / 1000) if expires else None,
            details=details,
        )

    def probe_validated(self, reply: Reply, ctx: TestContext) -> str | None:
        fields = _error_fields(reply)
        if fields is not None and fields[0] is not None and is_order_validation(*fields):
            return str(fields[0])
        return None

    # --- balances --------------------------------------------------------------------------

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        return self._futures_balances(reply) if ctx.futures else self._spot_balances(reply)

    @staticmethod
    def _spot_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /api/v3/account: {"balances": [{"asset", "free", "locked"}, ...]} (§1.3, §1.5).
        data = reply.data if isinstance(reply.data, dict) else {}
        rows = data.get("balances")
        if not isinstance(rows, list):
            raise unexpected("Binance", "account without balances")
        return summarise_asset_rows(rows, "Binance", asset="asset", amounts=("free", "locked"))

    @staticmethod
    def _futures_balances(reply: Reply) -> list[dict[str, str]]:
        # GET /fapi/v3/balance: [{"accountAlias", "asset", "balance", "crossWalletBalance",
        # "crossUnPnl", "availableBalance", "maxWithdrawAmount", ...}] (bn-sdk account_api.py
        # futures_account_balance_v3; §1.5). Equity = wallet balance + unrealised PnL.
        rows = reply.data
        if not isinstance(rows, list):
            raise unexpected("Binance futures", "balance is not a list")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict) or not row.get("asset"):
                continue
            balance = to_decimal(row.get("balance"))
            pnl = to_decimal(row.get("crossUnPnl")) or Decimal(0)
            available = to_decimal(row.get("availableBalance"))
            if balance is None or available is None:
                raise unexpected("Binance futures", f"unreadable balance for {row.get('asset')}")
            amounts[str(row["asset"]).upper()] = (balance + pnl, available)
        return summarise_balances(amounts, ("equity", "available"))

    # --- pairs -----------------------------------------------------------------------------

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market == Market.FUTURES:
            # GET /fapi/v1/exchangeInfo: symbols[] with contractType ("PERPETUAL", dated
            # "CURRENT_QUARTER"...), status ("TRADING"), baseAsset, quoteAsset (bn-sdk
            # market_data_api.py exchange_information; §1.7).
            symbols = self._symbols(get(self.url("binance_futures", "/fapi/v1/exchangeInfo")))
            return [
                pair
                for row in symbols
                if row.get("contractType") == "PERPETUAL"
                and row.get("status") == "TRADING"
                and (pair := normalise_pair(row.get("baseAsset"), row.get("quoteAsset")))
            ]
        # GET /api/v3/exchangeInfo: symbols[] with status ("TRADING"), isSpotTradingAllowed,
        # permissions / permissionSets (e.g. [["SPOT", "MARGIN"]]) (bn-spot-docs rest-api.md
        # "Exchange information").
        symbols = self._symbols(get(self.url("binance", "/api/v3/exchangeInfo")))
        return [
            pair
            for row in symbols
            if row.get("status") == "TRADING"
            and row.get("isSpotTradingAllowed") is True
            and _spot_permitted(row)
            and (pair := normalise_pair(row.get("baseAsset"), row.get("quoteAsset")))
        ]

    @staticmethod
    def _symbols(info: Any) -> list[dict]:
        symbols = info.get("symbols") if isinstance(info, dict) else None
        if not isinstance(symbols, list):
            code = info.get("code") if isinstance(info, dict) else None
            raise SymbolListUnavailable(f"binance exchangeInfo: no symbols list (code {code!r})")
        return [row for row in symbols if isinstance(row, dict)]


def _reported_ip(results: dict[str, Reply | ExchangeError]) -> str | None:
    """The caller IP of any -2015 answer in the round (`..., request ip: x`, §1.6)."""
    for result in results.values():
        data = result.data if isinstance(result, Reply) else None
        if isinstance(data, dict) and as_int(data.get("code")) == REJECTED_MBX_KEY:
            ip = request_ip(str(data.get("msg") or ""))
            if ip:
                return ip
    return None


def _spot_permitted(row: dict) -> bool:
    """SPOT among the symbol's permissions. Binance moved them from `permissions` to
    `permissionSets` (a list of lists) in 2024 and left `permissions` empty; either counts,
    and a symbol that lists neither is not excluded (isSpotTradingAllowed decides)."""
    sets = row.get("permissionSets")
    names: set[str] = set()
    if isinstance(sets, list):
        for group in sets:
            if isinstance(group, list):
                names.update(str(name) for name in group)
    if isinstance(row.get("permissions"), list):
        names.update(str(name) for name in row["permissions"])
    return not names or "SPOT" in names
