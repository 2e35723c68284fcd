"""Coinbase Advanced Trade: spot only (api.coinbase.com).

Facts and sources: /work/shared/docs/exchanges-more.md §8 ("cb-sdk" = github
coinbase/coinbase-advanced-py v1.8.4, the official SDK), §9 and §10.8.

Futures are not offered: Coinbase's derivatives are separate products behind the same API
(US derivatives through the FCM `/cfm/…` endpoints, international perpetuals through INTX
`/intx/…`, §8.1), each with its own account, eligibility and portfolio; a spot CDP key tells
nothing about them (§8.3: no futures flag), so a futures connection could not be tested
honestly.

Coinbase describes the calling key (`GET /api/v3/brokerage/key_permissions`, §8.3):
`can_view`, `can_trade`, `can_transfer` and the one portfolio the key is scoped to. Trading
and withdrawal are read from there; no order is probed. The key's IP allowlist exists but is
not reported, and keys have no reported expiry.

Authentication (§8.2): a fresh JWT per request, signed with the key's EC P-256 (ES256) or
Ed25519 (EdDSA) private key, built here with `cryptography` only.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .base import (
    Category,
    CheckName,
    Credentials,
    ExchangeError,
    Market,
    PermanentExchangeError,
    TemporaryExchangeError,
    make_error,
)
from .flow import ExchangeAPI, KeyFacts, SignedPlan, TestContext
from .http import (
    Call,
    Reply,
    as_int,
    category_from_message,
    extract_ip,
    parse_retry_after,
    rebuild_pem,
    summarise_balances,
    to_decimal,
    transport_fallback,
    unexpected,
)
from .pairs import SymbolListUnavailable, normalise_pair

SLUG = "coinbase"

# JWT claims (§8.2, cb-sdk jwt_generator.build_jwt): issuer "cdp" (the SDK's since v1.4.1,
# 2024-05-24; CCXT still sends "coinbase-cloud" for ES256, see the tests), lifetime 120 s.
JWT_ISSUER = "cdp"
JWT_LIFETIME_S = 120

# A JWT lives 120 s from `nbf` (§8.5: "skew > ~2 min breaks every request"). We sign with the
# exchange's clock, but a server clock this far off signs every other request (anything not
# corrected) outside the window: the test says so before any signed call.
MAX_CLOCK_SKEW_MS = JWT_LIFETIME_S * 1000

API = "/api/v3/brokerage"
TIME_PATH = f"{API}/time"
KEY_PERMISSIONS_PATH = f"{API}/key_permissions"
# `limit` up to 250 per page (cb-sdk accounts.get_accounts); one page covers a normal account.
ACCOUNTS_PATH = f"{API}/accounts?limit=250"
PRODUCTS_PATH = f"{API}/market/products?product_type=SPOT"

# Quote assets shown even with a zero balance. Coinbase's spot books are quoted mainly in USD
# and USDC (and some in USDT); a strategy's budget is checked against its pairs' quote asset,
# so the report keeps all three rows whenever Coinbase lists the wallet (the accounts list has
# one per currency, zero ones included: cb-sdk accounts.get_accounts).
QUOTE_ASSETS = ("USDT", "USDC", "USD")

# 401 bodies: a plain "Unauthorized" is observed (ccxt#26300, "API Response Text:
# Unauthorized"); CCXT maps the JSON error ids below to AuthenticationError and
# PermissionDenied (ccxt:coinbase.py L353-385, §8.6). The SDK special-cases the 403 text
# "Missing required scopes" (cb-sdk rest_base.handle_exception).
INVALID_KEY_ERRORS = frozenset(
    {"unauthorized", "authentication_error", "invalid_token", "expired_token", "unauthenticated"}
)
PERMISSION_ERRORS = frozenset({"permission_denied", "invalid_scope"})
RATE_LIMIT_ERRORS = frozenset({"rate_limit_exceeded"})
MISSING_SCOPES = "missing required scopes"


# --- Keys ----------------------------------------------------------------------------------


class KeyFormatError(ValueError):
    """The secret is not a CDP private key (a legacy HMAC secret, or a damaged paste)."""


def normalise_pem(text: str) -> str:
    """A PEM with its line breaks back (`rebuild_pem`) and a final newline: a password input
    drops them, a JSON file or .env copy leaves `\\n` escapes (§8.8: "PEM newlines must be
    preserved"). Other text is returned stripped, its `\\n` escapes undone.
    """
    text = text.strip().replace("\\n", "\n")
    rebuilt = rebuild_pem(text)
    return text if rebuilt is None else rebuilt + "\n"


def load_private_key(
    secret: str,
) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    """The key as the official SDK reads it (cb-sdk jwt_generator._load_private_key, §8.2):
    a PEM (SEC1 `EC PRIVATE KEY` P-256, or PKCS8 Ed25519), else base64 Ed25519 of 64 bytes
    (seed ‖ public key) or the 32-byte seed; only the seed is used."""
    text = secret.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(normalise_pem(text).encode(), password=None)
        else:
            raw = base64.b64decode("".join(text.split()), validate=True)
            if len(raw) not in (32, 64):
                raise KeyFormatError(f"Ed25519 key of {len(raw)} bytes (32 or 64 expected)")
            key = ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32])
    except KeyFormatError:
        raise
    except (ValueError, TypeError, binascii.Error) as exc:
        raise KeyFormatError("neither a PEM private key nor base64 Ed25519") from exc
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise KeyFormatError(f"unsupported key type {type(key).__name__} (P-256 or Ed25519 expected)")


def algorithm_of(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return "EdDSA" if isinstance(key, ed25519.Ed25519PrivateKey) else "ES256"


# --- Signing -------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: dict[str, Any], *, sort: bool) -> bytes:
    # Compact, header keys sorted and claims in insertion order: what PyJWT (the SDK's
    # encoder) emits, so the EdDSA token of §8.2 is reproduced byte for byte.
    return json.dumps(value, separators=(",", ":"), sort_keys=sort).encode()


def jwt_uri(method: str, base_url: str, path: str) -> str:
    """`"GET host/path"`: the host exactly as the configured base URL has it (with `:port`),
    no scheme, no query (§8.2, §8.8; cb-sdk rest_base.set_headers)."""
    host = urlsplit(base_url).netloc
    return f"{method.upper()} {host}{path.split('?', 1)[0]}"


def build_jwt(
    key_name: str,
    private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    *,
    uri: str | None,
    now_s: int,
    nonce: str | None = None,
) -> str:
    """The request JWT of §8.2 (cb-sdk jwt_generator.build_jwt): header alg/kid/nonce/typ,
    claims sub/iss/nbf/exp[/uri]."""
    algorithm = algorithm_of(private_key)
    header = {
        "alg": algorithm,
        "kid": key_name,
        "nonce": nonce if nonce is not None else secrets.token_hex(),
        "typ": "JWT",
    }
    claims: dict[str, Any] = {
        "sub": key_name,
        "iss": JWT_ISSUER,
        "nbf": now_s,
        "exp": now_s + JWT_LIFETIME_S,
    }
    if uri:
        claims["uri"] = uri
    signing_input = f"{_b64url(_json(header, sort=True))}.{_b64url(_json(claims, sort=False))}"
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(signing_input.encode())
    else:
        # JWS ES256: the raw 32-byte r and s, not DER (RFC 7518 §3.4).
        r, s = decode_dss_signature(
            private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{_b64url(signature)}"


def auth_headers(
    credentials: Credentials, method: str, base_url: str, path: str, now_s: int
) -> dict[str, str]:
    key = load_private_key(credentials.api_secret)
    token = build_jwt(credentials.api_key, key, uri=jwt_uri(method, base_url, path), now_s=now_s)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


# --- Pasted credentials --------------------------------------------------------------------


def _key_file(text: str) -> dict[str, str] | None:
    """The downloaded CDP key file (`{"name", "privateKey", ...}`, §8.2; newer portals name
    the key `id`), pasted whole."""
    text = text.strip()
    if not text.startswith("{"):
        return None
    # RecursionError: JSON nested deeper than the parser's stack (hostile or garbled input)
    # must be a form error, never a 500.
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # A password input turned the file's line breaks into nothing; JSON survives that,
        # but not a PEM's literal newlines inside a string: escape them and try again.
        try:
            data = json.loads(text.replace("\r", "").replace("\n", "\\n"))
        except (ValueError, RecursionError):
            return None
    if not isinstance(data, dict) or not isinstance(data.get("privateKey"), str):
        return None
    name = data.get("name") or data.get("id")
    return {"name": name if isinstance(name, str) else "", "privateKey": data["privateKey"]}


def normalise(api_key: str, api_secret: str, passphrase: str) -> tuple[str, str, str]:
    """Registry hook: the key file pasted into either field gives both values; a PEM gets its
    line breaks back; base64 loses stray whitespace."""
    for text in (api_secret, api_key):
        found = _key_file(text)
        if found is not None:
            api_key = found["name"] or (api_key if _key_file(api_key) is None else "")
            api_secret = found["privateKey"]
            break
    api_key = api_key.strip()
    secret = api_secret.strip()
    if "-----BEGIN" in secret:
        secret = normalise_pem(secret)
    elif secret:
        secret = "".join(secret.split())
    return api_key, secret, passphrase


# --- Error classification ------------------------------------------------------------------


def _error_fields(data: Any) -> tuple[str, str]:
    """(error id, text) of a JSON error body `{"error", "error_details", "message"}`."""
    if not isinstance(data, dict):
        return "", ""
    error = str(data.get("error") or "")
    text = " ".join(
        str(data.get(field) or "") for field in ("message", "error_details") if data.get(field)
    )
    return error, text


def classify(reply: Reply) -> ExchangeError | None:
    """The error a reply stands for, or None for a success (§8.6).

    Coinbase answers with HTTP status codes: 2xx success, 401 bad/expired JWT or unknown key,
    403 missing scope, 429 rate limit, 5xx outage. Anything unrecognised is temporary.
    """
    status = reply.status
    if status < 400:
        if not reply.json_ok:
            return transport_fallback(reply, "Coinbase")
        return None
    error, message = _error_fields(reply.data) if reply.json_ok else ("", "")
    text = " ".join(part for part in (f"HTTP {status}", error, message) if part)
    if not reply.json_ok and reply.text.strip() and len(reply.text) < 200:
        text = f"HTTP {status} {reply.text.strip()}"
    lowered = f"{error} {message}".lower()
    retry_after = parse_retry_after(reply.headers, rate_limited=status == 429)
    if status == 429 or error.lower() in RATE_LIMIT_ERRORS:
        # §8.6/§8.7: 429 with x-ratelimit-* headers; `x-ratelimit-reset` is read as seconds
        # until the quota frees (its unit is UNVERIFIED; values over a minute, e.g. an epoch,
        # are ignored rather than waited for).
        if retry_after is None:
            reset = to_decimal(reply.headers.get("x-ratelimit-reset"))
            if reset is not None and 0 <= reset <= 60:
                retry_after = float(reset)
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"Coinbase rate limit: {text}",
            exchange_code=error or str(status),
            retry_after=retry_after,
        )
    if status >= 500:
        return TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            f"Coinbase unavailable: {text}",
            exchange_code=error or str(status),
            retry_after=retry_after,
        )
    if status == 401 or error.lower() in INVALID_KEY_ERRORS:
        # Coinbase does not say why a token was refused: a wrong key name or private key, a
        # deleted key, or (UNVERIFIED, §10.8: no documented body) a caller IP outside the
        # key's allowlist. An explicit IP wording is taken at its word.
        if category_from_message(message) == Category.IP_NOT_ALLOWED:
            return make_error(
                Category.IP_NOT_ALLOWED,
                text,
                exchange_code=error or str(status),
                reported_ip=extract_ip(message),
            )
        return make_error(
            Category.INVALID_KEY,
            text,
            exchange_code=error or str(status),
            detail="coinbase_unauthorized",
        )
    if MISSING_SCOPES in lowered:
        return make_error(Category.NO_TRADE_PERMISSION, text, exchange_code=error or "403")
    category = category_from_message(message)
    if category is None and error.lower() in PERMISSION_ERRORS:
        category = Category.NO_TRADE_PERMISSION
    if category is not None:
        return make_error(
            category,
            text,
            exchange_code=error or str(status),
            retry_after=retry_after if category.is_temporary else None,
            reported_ip=extract_ip(message) if category == Category.IP_NOT_ALLOWED else None,
        )
    return TemporaryExchangeError(
        Category.EXCHANGE_UNAVAILABLE,
        f"unrecognised answer from Coinbase: {text}",
        exchange_code=error or str(status),
        retry_after=retry_after,
    )


# --- The client ----------------------------------------------------------------------------


class CoinbaseClient(ExchangeAPI):
    slug = SLUG
    default_base_urls = {"coinbase": "https://api.coinbase.com"}  # §8.1
    max_clock_skew_ms = MAX_CLOCK_SKEW_MS
    not_verifiable = {
        # The allowlist is set when the key is created, but key_permissions does not return
        # it (§8.3, §9): we cannot say whether our IPs are on it.
        CheckName.IP_RESTRICTION: "coinbase_ip_allowlist_hidden",
        # No expiry is reported (§8.3; key-level expiry UNVERIFIED): only the JWT expires.
        CheckName.KEY_EXPIRY: "not_reported",
    }

    def time_calls(self, market: Market) -> list[Call]:
        return [Call("time", "GET", self.url("coinbase", TIME_PATH))]

    def server_time_ms(self, reply: Reply) -> int:
        error = self.classify(reply)
        if error:
            raise error
        # {"iso": "...", "epochSeconds": "...", "epochMillis": "..."} (§8.5; cb-sdk
        # types/public_types.py).
        data = reply.data if isinstance(reply.data, dict) else {}
        value = as_int(data.get("epochMillis"))
        if value is None:
            # The SDK's own test mock (tests/rest/test_public.py) answers {"iso", "epoch"}.
            seconds = as_int(data.get("epochSeconds") or data.get("epoch"))
            value = seconds * 1000 if seconds is not None else None
        if value is None:
            raise unexpected("Coinbase", "no server time")
        return value

    def classify(self, reply: Reply) -> ExchangeError | None:
        return classify(reply)

    def prepare(self, ctx: TestContext) -> None:
        if ctx.futures:
            # Spot only (module docstring): never report a futures check we cannot make.
            ctx.stop(
                PermanentExchangeError(
                    Category.FUTURES_NOT_PERMITTED,
                    "Coinbase futures are not offered: US derivatives and INTX are other products",
                    detail="coinbase_spot_only",
                )
            )
        # A legacy Coinbase/Pro HMAC secret (or a broken paste) cannot sign a JWT: say so
        # without sending anything (§8.8: Advanced Trade needs a CDP key).
        try:
            load_private_key(ctx.credentials.api_secret)
        except KeyFormatError as exc:
            ctx.stop(
                PermanentExchangeError(
                    Category.INVALID_KEY,
                    f"not a CDP API key private key: {exc}",
                    detail="coinbase_not_cdp_key",
                )
            )

    def refine(self, call_name: str, error: ExchangeError, ctx: TestContext) -> ExchangeError:
        # The SDK signs with Ed25519 keys (§8.2), but Coinbase's own CLI guide says "change the
        # key type to ECDSA (brokerage rejects Ed25519)" (docs.cdp.coinbase.com/coinbase-cli/
        # skill). Which holds is UNVERIFIED: the key is accepted here, and a refusal says so.
        if error.detail == "coinbase_unauthorized":
            try:
                key = load_private_key(ctx.credentials.api_secret)
            except KeyFormatError:
                return error
            if isinstance(key, ed25519.Ed25519PrivateKey):
                error.detail = "coinbase_unauthorized_ed25519"
        return error

    def _signed_call(self, name: str, path: str, ctx: TestContext) -> Call:
        base = self.base_urls["coinbase"]
        now_s = ctx.now_ms("time") // 1000
        headers = auth_headers(ctx.credentials, "GET", base, path, now_s)
        return Call(name, "GET", self.url("coinbase", path), headers)

    def plan(self, ctx: TestContext) -> SignedPlan:
        return SignedPlan(
            key_info=self._signed_call("key_permissions", KEY_PERMISSIONS_PATH, ctx),
            balances=self._signed_call("accounts", ACCOUNTS_PATH, ctx),
        )

    def key_facts(self, reply: Reply | None, ctx: TestContext) -> KeyFacts:
        assert reply is not None
        data = reply.data
        if not isinstance(data, dict) or not isinstance(data.get("can_view"), bool):
            raise unexpected("Coinbase", "key_permissions without can_view")
        # Field names of cb-sdk types/data_api_types.py (§8.3). The SDK's own test mock says
        # `can_withdraw`; either means the key can move funds.
        view = data.get("can_view") is True
        trade = data.get("can_trade") is True
        flags = [data.get(name) for name in ("can_transfer", "can_withdraw")]
        present = [flag for flag in flags if flag is not None]
        if not present or not all(isinstance(flag, bool) for flag in present):
            # Never guessed: an answer that does not say is retried, never read as "off".
            raise unexpected("Coinbase", "key_permissions without can_transfer")
        transfer = any(flag is True for flag in flags)
        # The scope names as the CDP portal shows them (§8.3: view, trade, transfer).
        raw = [
            name for name, on in (("View", view), ("Trade", trade), ("Transfer", transfer)) if on
        ]
        ours = {"View": "read", "Trade": "spot", "Transfer": "withdraw"}
        facts = KeyFacts(
            read=view,
            spot_trade=trade,
            futures_trade=None,
            # "Transfer: Enables your application to send and receive funds, on and off
            # platform" (§8.3): withdrawal included, so the key is refused.
            withdraw=transfer,
            raw_permissions=raw,
            permissions=[ours[name] for name in raw],
        )
        # Each key is scoped to one portfolio (§8.3, cdp-docs guides/portfolios): balances are
        # that portfolio's only. Named on the balances check when it was read.
        portfolio = str(data.get("portfolio_uuid") or "")
        kind = str(data.get("portfolio_type") or "")
        settled = ctx.data.get("settled", {})
        if portfolio and "accounts" in settled and settled["accounts"] is None:
            # Without its type, the portfolio is named by its ID alone (never a "?").
            facts.details[CheckName.BALANCES] = (
                (
                    "coinbase_portfolio_balances",
                    {"portfolio_type": kind, "portfolio_uuid": portfolio},
                )
                if kind
                else ("coinbase_portfolio_id_balances", {"portfolio_uuid": portfolio})
            )
        return facts

    def balances(self, reply: Reply, ctx: TestContext) -> list[dict[str, str]]:
        # {"accounts": [{"currency", "available_balance": {"value", "currency"},
        #   "hold": {"value", "currency"}, ...}], "has_next", "cursor", "size"} (§8.5; cb-sdk
        # types/accounts_types.py).
        rows = reply.data.get("accounts") if isinstance(reply.data, dict) else None
        if not isinstance(rows, list):
            raise unexpected("Coinbase", "accounts without a list")
        amounts: dict[str, tuple[Decimal, Decimal]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            asset = str(row.get("currency") or "").upper()
            free = to_decimal(_amount(row.get("available_balance")))
            hold = (
                to_decimal(_amount(row.get("hold"))) if row.get("hold") is not None else Decimal(0)
            )
            if not asset or free is None or hold is None:
                raise unexpected("Coinbase", f"unreadable balance for {asset or 'an account'}")
            before = amounts.get(asset, (Decimal(0), Decimal(0)))
            amounts[asset] = (before[0] + free, before[1] + hold)
        return summarise_balances(amounts, ("free", "locked"), keep=QUOTE_ASSETS)

    def pairs(self, get: Callable[[str], Any], market: Market) -> list[str]:
        if market != Market.SPOT:
            return []
        payload = get(self.url("coinbase", PRODUCTS_PATH))
        rows = payload.get("products") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise SymbolListUnavailable("coinbase market/products: no products list")
        # Public products (cb-sdk public.get_public_products; types/product_types.py):
        # tradable when online and not disabled for trading.
        return [
            pair
            for row in rows
            if isinstance(row, dict)
            and row.get("product_type", "SPOT") == "SPOT"
            and row.get("status") == "online"
            and row.get("trading_disabled") is False
            and row.get("is_disabled") is not True
            and (pair := normalise_pair(row.get("base_currency_id"), row.get("quote_currency_id")))
        ]


def _amount(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else None
