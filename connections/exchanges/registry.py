"""Which exchanges exist, what they need from the user and what a test can verify on them.

Adding an exchange means one client module and one entry in `_SPECS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import binance
from .base import CheckName, ExchangeClient, Market
from .bingx import BingxClient
from .bitget import BitgetClient
from .bybit import BybitClient
from .coinbase import CoinbaseClient
from .coinbase import normalise as coinbase_normalise
from .demo import DemoClient
from .gate import GateClient
from .htx import HtxClient
from .kucoin import KucoinClient
from .mexc import MexcClient
from .okx import OkxClient


class UnknownExchange(KeyError):
    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug

    def __str__(self) -> str:
        return f"unknown exchange {self.slug!r}; known: {', '.join(_SPECS)}"


@dataclass(frozen=True)
class RateLimit:
    """A documented request allowance for an endpoint a connection test calls."""

    endpoint: str
    limit: int  # requests, or weight units when `weight` > 1
    per_seconds: float
    weight: int = 1  # what one call of the endpoint costs against `limit`
    scope: str = "ip"  # "ip": shared by all our workers behind one address; "uid": per account
    source: str = ""

    @property
    def calls_per_second(self) -> float:
        return self.limit / self.weight / self.per_seconds


@dataclass(frozen=True)
class ExchangeSpec:
    slug: str
    label: str
    needs_passphrase: bool
    markets: tuple[Market, ...]
    # Patterns that catch obviously malformed pasted values. Deliberately lenient: a real key
    # rejected here could not be connected at all, while a wrong one only fails its test.
    key_pattern: str
    secret_pattern: str
    passphrase_pattern: str | None
    verifies: frozenset[CheckName]
    spot_orders_via_api: bool
    futures_orders_via_api: bool
    is_demo: bool
    rate_limits: tuple[RateLimit, ...]
    client_factory: Callable[..., ExchangeClient]
    # The exchange has a demo (paper trading) environment with its own keys: the person can
    # choose it on the form, and the connection is labelled "demo" everywhere.
    demo_environment: bool = False
    # The demo environment is reached with the account's own live key (BingX's VST), not a
    # key of its own: such a key can still move real funds, so "demo" excuses nothing about it
    # (the strategy gate's withdrawal condition).
    demo_keys_are_live_keys: bool = False
    # Tidies pasted credentials before validation (a PEM whose line breaks the browser
    # dropped, a downloaded key file pasted whole): (key, secret, passphrase) in and out.
    normalise: Callable[[str, str, str], tuple[str, str, str]] | None = None

    def normalise_credentials(
        self, api_key: str, api_secret: str, passphrase: str = ""
    ) -> tuple[str, str, str]:
        if self.normalise is None:
            return api_key, api_secret, passphrase
        return self.normalise(api_key, api_secret, passphrase)

    def validate(self, api_key: str, api_secret: str, passphrase: str = "") -> dict[str, str]:
        """{field: "required" | "malformed"} for the values that cannot be right."""
        errors: dict[str, str] = {}
        fields = [
            ("api_key", api_key, self.key_pattern),
            ("api_secret", api_secret, self.secret_pattern),
        ]
        if self.passphrase_pattern is not None:
            fields.append(("passphrase", passphrase, self.passphrase_pattern))
        for name, value, pattern in fields:
            if not value:
                errors[name] = "required"
            elif not re.fullmatch(pattern, value):
                errors[name] = "malformed"
        return errors

    def tests_per_second(self, scope: str | None = None) -> float:
        """How many connection tests per second the documented limits allow (one call of
        each listed endpoint per test), optionally only counting limits of one scope."""
        limits = [r for r in self.rate_limits if scope is None or r.scope == scope]
        return min((r.calls_per_second for r in limits), default=float("inf"))

    def build_client(
        self, base_urls: Mapping[str, str] | None = None, **options: Any
    ) -> ExchangeClient:
        return self.client_factory(base_urls, **options)


_MEXC = ExchangeSpec(
    slug="mexc",
    label="MEXC",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    # Docs example key `mx0aBYs33eIilxBWC5`, secret `45d0b3c26f2644f19bfb98b07741b2f5`
    # (mexc-docs "SIGNED Endpoint Examples", exchanges.md §3.3); keys published by mistake in
    # public repositories have the same shape (`mx0vgl` + 12 characters, 32 hex secrets).
    key_pattern=r"mx0[A-Za-z0-9]{8,61}",
    secret_pattern=r"[A-Za-z0-9]{32,64}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=None,
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
        }
    ),
    spot_orders_via_api=True,
    # "place order endpoints and cancel orders endpoints will be closed temporarily" since
    # 2022-07-25 (mexc-docs-2025 Futures/01_update_log.md; exchanges.md §0.8, §3.4).
    futures_orders_via_api=False,
    is_demo=False,
    rate_limits=(
        # exchanges.md §3.8: each endpoint 500 per 10 s (weight); `account` weighs 10 and has
        # its own "2 times/s" (scope not documented: treated as shared by our IP).
        RateLimit("GET /api/v3/time", 500, 10, weight=1, source="mexc-docs LIMITS"),
        RateLimit("GET /api/v3/account", 500, 10, weight=10, source="mexc-docs LIMITS"),
        RateLimit("GET /api/v3/account", 2, 1, source="mexc-docs Account Information"),
        RateLimit("POST /api/v3/order/test", 500, 10, weight=1, source="mexc-docs LIMITS"),
        # §3.6: private futures account endpoints 20 times / 2 s; ping 20 times / 2 s.
        RateLimit("GET /api/v1/contract/ping", 20, 2, source="mexc-docs-2025 Futures/04"),
        RateLimit(
            "GET /api/v1/private/account/assets",
            20,
            2,
            scope="uid",
            source="mexc-docs contract_v1_en",
        ),
    ),
    client_factory=MexcClient,
)

_KUCOIN = ExchangeSpec(
    slug="kucoin",
    label="KuCoin",
    needs_passphrase=True,
    markets=(Market.SPOT, Market.FUTURES),
    # Keys are 24 hex characters (spec example `6705f5c311545b000157d3eb`, §2.4), secrets
    # UUIDs (36 characters with dashes, e.g. in KuCoin client READMEs); the passphrase is
    # chosen by the user when creating the key, so only emptiness and stray edge whitespace
    # are caught (its length rules are UNVERIFIED).
    key_pattern=r"[A-Za-z0-9]{20,40}",
    secret_pattern=r"[A-Za-z0-9-]{30,64}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=r"\S(?:.{0,126}\S)?",  # noqa: S106 (a format rule, not a secret)
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.WITHDRAWAL,
            CheckName.IP_RESTRICTION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # exchanges.md §2.8: pools per 30 s at VIP0 (private pools per account, public per IP);
        # weights from the official SDK's OpenAPI spec.
        RateLimit(
            "GET /api/v1/user/api-key",
            2000,
            30,
            weight=20,
            scope="uid",
            source="kucoin docs-new rate-limit; kc-usdk spec",
        ),
        RateLimit(
            "GET /api/v1/accounts",
            2000,
            30,
            weight=5,
            scope="uid",
            source="kucoin docs-new rate-limit; kc-usdk spec",
        ),
        RateLimit(
            "GET /api/v1/account-overview",
            2000,
            30,
            weight=5,
            scope="uid",
            source="kucoin docs-new rate-limit; kc-usdk spec",
        ),
        # Server time: KuCoin's docs list "Get Server Time" with weight 3 in the Public pool
        # (the futures host's with 2). The exact figures could not be re-checked against a
        # stored copy; one entry at the higher weight paces spot and futures tests alike and
        # errs on the safe side, since the throttle applies every listed IP limit to each test.
        RateLimit(
            "GET /api/v1/timestamp",
            2000,
            30,
            weight=3,
            scope="ip",
            source="kucoin docs-new rate-limit; Get Server Time (Public, weight 3)",
        ),
    ),
    client_factory=KucoinClient,
)

_BYBIT = ExchangeSpec(
    slug="bybit",
    label="Bybit",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    # System-generated HMAC keys: pybit's test key `CFEJUGQEQPPHGOHGHM` (18 characters) and
    # secret `VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ` (36) (exchanges-more.md §3.2); the docs'
    # examples mask keys as 18 x's and secrets as 36. The lengths are not documented, so only
    # the character set is checked, with room either side. Self-generated RSA keys are not
    # supported (their "secret" is a private key we do not sign with, §3.2).
    key_pattern=r"[A-Za-z0-9]{10,64}",
    secret_pattern=r"[A-Za-z0-9]{16,128}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=None,
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.WITHDRAWAL,
            CheckName.IP_RESTRICTION,
            CheckName.KEY_EXPIRY,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # exchanges-more.md §3.7 (by-docs rate-limit.mdx): 600 requests per 5 s per IP across
        # api.bybit.com; per-UID per-endpoint limits per second.
        # The IP limit counts every request to the host: a test sends four (time, query-api,
        # wallet-balance, account info), so each weighs 4 against it.
        RateLimit(
            "api.bybit.com (all four calls of a test)",
            600,
            5,
            weight=4,
            source="by-docs rate-limit.mdx HTTP IP limit",
        ),
        RateLimit(
            "GET /v5/user/query-api",
            10,
            1,
            scope="uid",
            source="by-docs rate-limit.mdx; user/apikey-info.mdx",
        ),
        RateLimit(
            "GET /v5/account/wallet-balance", 50, 1, scope="uid", source="by-docs rate-limit.mdx"
        ),
        RateLimit("GET /v5/account/info", 50, 1, scope="uid", source="by-docs rate-limit.mdx"),
    ),
    client_factory=BybitClient,
    # Demo Trading keys, made from the mainnet's Demo Trading, for api-demo.bybit.com (§3.1).
    demo_environment=True,
)

_BITGET = ExchangeSpec(
    slug="bitget",
    label="Bitget",
    needs_passphrase=True,
    markets=(Market.SPOT, Market.FUTURES),
    # Keys look like `bg_` + 32 hex characters and secrets like 64 hex characters in the keys
    # published by mistake in public repositories; the docs give no format (exchanges-more.md
    # §4.2), so the patterns only refuse what cannot be a key. The passphrase is the user's own
    # choice (§4.2, "The password is set by the user"): only emptiness and stray edge
    # whitespace are caught.
    key_pattern=r"[A-Za-z0-9_-]{8,100}",
    secret_pattern=r"[A-Za-z0-9_-]{16,128}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=r"\S(?:.{0,126}\S)?",  # noqa: S106 (a format rule, not a secret)
    # Withdrawal is left out: it can be read only when Bitget answers with its fine-grained
    # permission codes. Its documented example shows coarse values ("trade", "readonly"),
    # which do not say (§4.3, §10.4), so the person confirms it on the form. The report still
    # fails a key that Bitget shows with `wwow`.
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.IP_RESTRICTION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # "Frequency limit: 20 times/1s (IP)" (bitget.com/api-doc/common/public/Get-Server-Time,
        # verbatim copy of the common docs in the code index).
        RateLimit("GET /api/v2/public/time", 20, 1, scope="ip", source="bg-docs Get-Server-Time"),
        # "Frequency limit: 1 time/1 s (User ID)" (exchanges-more.md §4.3).
        RateLimit(
            "GET /api/v2/spot/account/info",
            1,
            1,
            scope="uid",
            source="bg-docs spot/account/Get-Account-Info",
        ),
        # "Frequency limit: 10 times/1s (User ID)" (bitget.com/api-doc/spot/account/
        # Get-Account-Assets and mirrors).
        RateLimit(
            "GET /api/v2/spot/account/assets",
            10,
            1,
            scope="uid",
            source="bg-docs spot/account/Get-Account-Assets",
        ),
        # 10 req/sec/UID: from third-party copies of the docs' rate table; Bitget's own page
        # for "Get Account List" was not found in a stored copy (its sibling "Get Single
        # Account" says 10 times/1s (uid)).
        RateLimit(
            "GET /api/v2/mix/account/accounts",
            10,
            1,
            scope="uid",
            source="bg-docs contract/account (Get-Single-Account: 10/1s uid); secondary copies",
        ),
        # "The overall rate limit is 6000/IP/Min" (bitget.com/api-doc/common/intro, Access
        # Restriction): every call from our IP counts, three per test (time, key info,
        # balances), hence the weight.
        RateLimit(
            "all calls (overall per IP)",
            6000,
            60,
            weight=3,
            scope="ip",
            source="bg-docs common/intro",
        ),
    ),
    client_factory=BitgetClient,
    # Demo trading: same host, demo key, `paptrading: 1` (§4.1).
    demo_environment=True,
)

_HTX = ExchangeSpec(
    slug="htx",
    label="HTX",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    # Access keys and secret keys look like `e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx` (HTX docs'
    # signing example, exchanges-more.md §6.2); newer access keys carry a prefix such as
    # `bewr5drtmh-07ef7902-a9b54b77-001d1` (wecando168/Huobi.Net demo). Only the characters
    # and a plausible length are checked: the exact format is not documented.
    key_pattern=r"[A-Za-z0-9][A-Za-z0-9-]{15,79}",
    secret_pattern=r"[A-Za-z0-9][A-Za-z0-9-]{15,79}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=None,
    # Withdrawal, IP and expiry are read from `GET /v2/user/api-key`, which HTX documents for
    # parent users only (§6.3, §10.6): a sub-account key gets "cannot be verified" there. So
    # withdrawal is not listed as always verified: the form asks the person to confirm it is
    # off, which is what lets a sub-account key pass the strategy gate at all; a key HTX does
    # describe with `withdraw` still fails.
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # Spot: "100times/2s" per UID for the account endpoints (htx-docs spot/private_rest_api
        # .md; new rate limits apply per UID, rate_limits.md). /v2/user/uid and
        # /v2/user/api-key show no figure (UNVERIFIED, exchanges-more.md §6.7): the account
        # endpoints' figure is assumed for them, halved to stay on the safe side.
        RateLimit(
            "GET /v1/account/accounts",
            100,
            2,
            scope="uid",
            source="htx-docs Get all Accounts (100times/2s)",
        ),
        RateLimit(
            "GET /v1/account/accounts/{id}/balance",
            100,
            2,
            scope="uid",
            source="htx-docs Get Account Balance (100times/2s)",
        ),
        RateLimit("GET /v2/user/uid", 50, 2, scope="uid", source="UNVERIFIED, assumed"),
        RateLimit("GET /v2/user/api-key", 50, 2, scope="uid", source="UNVERIFIED, assumed"),
        # Derivatives: private read interfaces at most 72 times every 3 seconds per UID; public
        # non-market interfaces 240 times every 3 seconds per IP (htx-docs usdtm "API Rate
        # Limit Illustration").
        RateLimit(
            "POST /linear-swap-api/v1/swap_cross_account_info",
            72,
            3,
            scope="uid",
            source="htx-docs usdtm rate limits (read 72/3 s per UID)",
        ),
        RateLimit(
            "GET /v5/account/asset_mode",
            72,
            3,
            scope="uid",
            source="htx-docs Get Asset Mode (read 72/3 s per UID)",
        ),
        RateLimit(
            "GET /v5/account/balance",
            72,
            3,
            scope="uid",
            source="htx-docs Get Account Balance, multi-assets mode (read 72/3 s per UID)",
        ),
        RateLimit(
            "GET /api/v1/timestamp",
            240,
            3,
            scope="ip",
            source="htx-docs usdtm rate limits (public 240/3 s per IP)",
        ),
        # Spot public time: no figure documented (UNVERIFIED); CCXT paces HTX at one request
        # per 100 ms (`rateLimit: 100`, exchanges-more.md §6.7), taken as the IP limit.
        RateLimit(
            "GET /v1/common/timestamp",
            10,
            1,
            scope="ip",
            source="ccxt rateLimit 100 ms (UNVERIFIED)",
        ),
    ),
    client_factory=HtxClient,
)

_OKX = ExchangeSpec(
    slug="okx",
    label="OKX",
    needs_passphrase=True,
    markets=(Market.SPOT, Market.FUTURES),
    # Keys are UUIDs (`37c541a1-****-****-****-10fe7a038418` in okx-docs "Demo Trading
    # Services"), secrets 32 hex characters (the docs' example `22582BD0CFF14C41EDBF1AB98506286D`,
    # exchanges-more.md §2.2). Lenient on purpose: only the character classes are checked.
    # The passphrase is chosen by the user at key creation and sent as typed (§2.2): only
    # emptiness and stray edge whitespace are caught (OKX's length rules are not documented
    # in the API docs).
    key_pattern=r"[A-Za-z0-9-]{16,64}",
    secret_pattern=r"[A-Za-z0-9]{16,128}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=r"\S(?:.{0,126}\S)?",  # noqa: S106 (a format rule, not a secret)
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.WITHDRAWAL,
            CheckName.IP_RESTRICTION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # okx-docs pages as crawled 2026-06-15 (exchanges-more.md §2.3, §2.5, §2.7): private
        # endpoints per User ID, public per IP.
        RateLimit("GET /api/v5/public/time", 10, 2, scope="ip", source="okx-docs Get system time"),
        RateLimit(
            "GET /api/v5/account/config",
            5,
            2,
            scope="uid",
            source="okx-docs Get account configuration",
        ),
        RateLimit("GET /api/v5/account/balance", 10, 2, scope="uid", source="okx-docs Get balance"),
        # Read by the pair lists, not by a connection test: "IP + Instrument Type".
        RateLimit(
            "GET /api/v5/public/instruments", 20, 2, scope="ip", source="okx-docs Get instruments"
        ),
    ),
    client_factory=OkxClient,
    # Demo Trading keys (Trade → Demo Trading → Demo Trading API), exchanges-more.md §2.1.
    demo_environment=True,
)

_BINGX = ExchangeSpec(
    slug="bingx",
    label="BingX",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    # The docs' example key and secret are 85 letters and digits (exchanges-more.md §7.2);
    # their length is not specified anywhere, so any plausible run of letters and digits is
    # accepted.
    key_pattern=r"[A-Za-z0-9]{16,128}",
    secret_pattern=r"[A-Za-z0-9]{16,128}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=None,
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.WITHDRAWAL,
            CheckName.IP_RESTRICTION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # Per-UID limits from each endpoint's page (exchanges-more.md §7.3, §7.5); per-IP group
        # limits from "Rate limit" (bingx-crawl usdt_futures/general_information/rate_limit.md:
        # group 1 market 500 per 10 s; groups 2 and 3 account, 300 per 10 s per endpoint).
        RateLimit(
            "GET /openApi/swap/v2/server/time",
            500,
            10,
            scope="ip",
            source="bingx-docs Rate limit, Market API group 1",
        ),
        # §7.3 (docs-v3, 2025-10): 5/s per UID; an older crawl of the same page says 2/s
        # (bingx-crawl query_user_api_key_permissions.md).
        RateLimit(
            "GET /openApi/v1/account/apiPermissions",
            5,
            1,
            scope="uid",
            source="bingx-docs Query API KEY Permissions",
        ),
        RateLimit(
            "GET /openApi/v1/account/apiPermissions",
            300,
            10,
            scope="ip",
            source="bingx-docs Rate limit, Account API group 2",
        ),
        RateLimit(
            "GET /openApi/spot/v1/account/balance",
            5,
            1,
            scope="uid",
            source="bingx-docs Query Assets",
        ),
        RateLimit(
            "GET /openApi/spot/v1/account/balance",
            300,
            10,
            scope="ip",
            source="bingx-docs Rate limit, Account API group 3",
        ),
        RateLimit(
            "GET /openApi/swap/v3/user/balance",
            5,
            1,
            scope="uid",
            source="bingx-docs Query account data",
        ),
        RateLimit(
            "GET /openApi/swap/v3/user/balance",
            300,
            10,
            scope="ip",
            source="bingx-docs Rate limit, Account API group 3",
        ),
    ),
    client_factory=BingxClient,
    # VST demo trading on open-api-vst.bingx.com (§7.1), with the account's own key.
    demo_environment=True,
    demo_keys_are_live_keys=True,
)

_COINBASE = ExchangeSpec(
    slug="coinbase",
    label="Coinbase",
    needs_passphrase=False,
    # Spot only: Coinbase's derivatives (US FCM futures, INTX perpetuals) are other products
    # with their own accounts that a spot key says nothing about (coinbase.py docstring,
    # exchanges-more.md §8.1, §8.3).
    markets=(Market.SPOT,),
    # CDP key names are `organizations/{org_id}/apiKeys/{key_id}` (§8.2); newer portal keys
    # (Ed25519) are named by a bare UUID (CCXT's EdDSA example `sub`, ccxt:coinbase.py
    # L4931). Legacy 16-character HMAC keys do not match: the form says to create a CDP key.
    key_pattern=r"organizations/[^/\s]{1,100}/apiKeys/[^/\s]{1,100}"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    # A PEM private key (EC SEC1 or PKCS8, after `normalise` restored its line breaks) or the
    # portal's base64 Ed25519 key of 64 or 32 bytes (§8.2; cb-sdk _load_private_key decodes
    # with validate=True, so the padding is part of the format).
    secret_pattern=(  # noqa: S106 (a format rule, not a secret)
        r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----\n[A-Za-z0-9+/=\n]{40,2000}"
        r"-----END [A-Z ]{0,20}PRIVATE KEY-----\n?"
        r"|[A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}="
    ),
    passphrase_pattern=None,
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.WITHDRAWAL,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=False,
    is_demo=False,
    rate_limits=(
        # §8.7: private REST 30 requests/s per user, public 10/s per IP, from secondary
        # summaries (api-evangelist, Nautilus); the primary page was not read (UNVERIFIED,
        # §10.8).
        RateLimit(
            "GET /api/v3/brokerage/time",
            10,
            1,
            scope="ip",
            source="exchanges-more.md §8.7 (secondary, UNVERIFIED)",
        ),
        RateLimit(
            "GET /api/v3/brokerage/key_permissions",
            30,
            1,
            scope="uid",
            source="exchanges-more.md §8.7 (secondary, UNVERIFIED)",
        ),
        RateLimit(
            "GET /api/v3/brokerage/accounts",
            30,
            1,
            scope="uid",
            source="exchanges-more.md §8.7 (secondary, UNVERIFIED)",
        ),
    ),
    client_factory=CoinbaseClient,
    # The key file pasted whole, PEMs whose line breaks the password input dropped.
    normalise=coinbase_normalise,
)

_GATE = ExchangeSpec(
    slug="gate",
    label="Gate",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    # APIv4 keys are 32 hex characters and secrets 64 (as in gate-sdk docs examples and
    # keys leaked in public repositories); the patterns are wider so that no real key is
    # refused here.
    key_pattern=r"[A-Za-z0-9]{16,64}",
    secret_pattern=r"[A-Za-z0-9]{32,128}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=None,
    # Withdrawal is not among them: Gate has no withdrawal flag (exchanges-more.md §5.3), so
    # the person confirms it on the form; a writable `wallet` permission still fails the test.
    # No key expiry is reported.
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.IP_RESTRICTION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # gate-docs #frequency-limit-rule (API v4 docs, crawl copy in the code index): public
        # endpoints 200 r/10 s per endpoint per IP; spot and perpetual private "others" 200 r/10
        # s per endpoint per UID; "Other Private endpoints" (account/*) 150 r/10 s per endpoint
        # per UID. CCXT's "200 requests per 10 second" (ccxt:gate.py:L37, exchanges-more.md
        # §5.7) is secondary and agrees with the public figure.
        RateLimit("GET /api/v4/spot/time", 200, 10, scope="ip", source="gate-docs rate limits"),
        RateLimit(
            "GET /api/v4/account/main_keys", 150, 10, scope="uid", source="gate-docs rate limits"
        ),
        RateLimit(
            "GET /api/v4/account/detail", 150, 10, scope="uid", source="gate-docs rate limits"
        ),
        RateLimit(
            "GET /api/v4/spot/accounts", 200, 10, scope="uid", source="gate-docs rate limits"
        ),
        RateLimit(
            "GET /api/v4/futures/usdt/accounts",
            200,
            10,
            scope="uid",
            source="gate-docs rate limits",
        ),
    ),
    client_factory=GateClient,
)

_BINANCE = ExchangeSpec(
    slug="binance",
    label="Binance",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    # API keys are 64 letters and digits (the docs' example key `vmPUZE6m...`, exchanges-more.md
    # §1.2), for HMAC and Ed25519 keys alike. The secret is either an HMAC secret key (64
    # letters and digits in the same example) or an Ed25519 private key in PEM, which
    # `normalise` has rebuilt with its line breaks (RFC 7468: base64 lines between the BEGIN
    # and END lines). Lenient bounds: a real key must never be refused here.
    key_pattern=r"[A-Za-z0-9]{16,128}",
    secret_pattern=(  # noqa: S106 (a format rule, not a secret)
        r"[A-Za-z0-9]{16,128}"
        r"|-----BEGIN PRIVATE KEY-----\n(?:[A-Za-z0-9+/=]{1,76}\n){1,40}-----END PRIVATE KEY-----"
    ),
    passphrase_pattern=None,
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.WITHDRAWAL,
            CheckName.IP_RESTRICTION,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=False,
    rate_limits=(
        # Request weight per IP per minute: spot 6000 (`REQUEST_WEIGHT` of GET
        # /api/v3/exchangeInfo, which exchanges-more.md §1.7 says to read rather than hard-code;
        # the value as published there, quoted by polyoxide-binance spot/weight.rs), futures 2400
        # (fapi exchangeInfo, same source; the VIP-portal example of §1.7 shows 2400 too).
        # /sapi weights count against their own IP pool; it is paced here by the spot limit,
        # the lower of the two (safe side). Endpoint weights: §1.3, §1.5, §1.7.
        RateLimit("GET /api/v3/time", 6000, 60, weight=1, source="bn-spot-docs; §1.5"),
        RateLimit(
            "GET /sapi/v1/account/apiRestrictions",
            6000,
            60,
            weight=1,
            source="bn-dev api-key-permission Weight(IP) 1; §1.3",
        ),
        RateLimit("GET /api/v3/account", 6000, 60, weight=20, source="bn-spot-docs; §1.5"),
        RateLimit("POST /api/v3/order/test", 6000, 60, weight=1, source="bn-spot-docs; §1.4"),
        RateLimit("GET /fapi/v1/time", 2400, 60, weight=1, source="bn-sdk market_data_api; §1.7"),
        RateLimit("GET /fapi/v3/balance", 2400, 60, weight=5, source="bn-sdk account_api; §1.5"),
        RateLimit("POST /fapi/v1/order/test", 2400, 60, weight=1, source="bn-dev New-Order-Test"),
    ),
    client_factory=binance.BinanceClient,
    # Demo mode: keys made on demo.binance.com, tested on demo-api / demo-fapi (§1.1).
    demo_environment=True,
    normalise=binance.normalise_credentials,
)

_DEMO = ExchangeSpec(
    slug="demo",
    label="Demo exchange (paper account)",
    needs_passphrase=False,
    markets=(Market.SPOT, Market.FUTURES),
    key_pattern=r"demo-[A-Za-z0-9_-]{1,60}",
    secret_pattern=r"\S{1,128}",  # noqa: S106 (a format rule, not a secret)
    passphrase_pattern=None,
    verifies=frozenset(
        {
            CheckName.REACHABLE,
            CheckName.CREDENTIALS,
            CheckName.BALANCES,
            CheckName.TRADE_PERMISSION,
            CheckName.FUTURES_PERMISSION,
            CheckName.WITHDRAWAL,
        }
    ),
    spot_orders_via_api=True,
    futures_orders_via_api=True,
    is_demo=True,
    rate_limits=(),
    client_factory=DemoClient,
)

_SPECS: dict[str, ExchangeSpec] = {
    spec.slug: spec
    # The order of the product's connection guide: MEXC and KuCoin first, then Binance, OKX,
    # Bitget, Gate.io, HTX, BingX, Coinbase and Bybit; the paper exchange last.
    for spec in (
        _MEXC,
        _KUCOIN,
        _BINANCE,
        _OKX,
        _BITGET,
        _GATE,
        _HTX,
        _BINGX,
        _COINBASE,
        _BYBIT,
        _DEMO,
    )
}


def get(slug: str) -> ExchangeSpec:
    try:
        return _SPECS[slug]
    except KeyError:
        raise UnknownExchange(slug) from None


def all_specs(include_demo: bool = False) -> list[ExchangeSpec]:
    return [spec for spec in _SPECS.values() if include_demo or not spec.is_demo]


def choices(include_demo: bool = False) -> list[tuple[str, str]]:
    return [(spec.slug, spec.label) for spec in all_specs(include_demo)]


def build_client(
    slug: str, base_urls: Mapping[str, str] | None = None, **options: Any
) -> ExchangeClient:
    """A client for `slug`; `options` are the timeouts/budget (and session, clock) keywords."""
    return get(slug).build_client(base_urls, **options)
