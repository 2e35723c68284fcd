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
from .demo import DemoClient
from .kucoin import KucoinClient
from .mexc import MexcClient


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

_SPECS: dict[str, ExchangeSpec] = {spec.slug: spec for spec in (_MEXC, _KUCOIN, _BINANCE, _DEMO)}


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
