"""The demo exchange: a paper account that calls no network.

Deterministic, so pages and end-to-end tests can show a healthy connection without an
exchange account. Credentials: any key starting with `demo-` (see the registry's pattern);
any other key gives a failed "invalid key" report, so the failure path can be shown too.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .base import (
    Category,
    CheckName,
    CheckReport,
    Credentials,
    Market,
    Outcome,
    PermanentExchangeError,
    ReportBuilder,
)
from .http import utc_now

SLUG = "demo"
KEY_PREFIX = "demo-"

SPOT_BALANCES = [
    {"asset": "USDT", "free": "10000", "locked": "0"},
    {"asset": "BTC", "free": "0.25", "locked": "0"},
]
FUTURES_BALANCES = [{"asset": "USDT", "equity": "10000", "available": "10000"}]


class DemoClient:
    slug = SLUG

    def __init__(
        self, base_urls: Mapping[str, str] | None = None, *, clock: Any = time.time, **_: Any
    ) -> None:
        # Same signature as the HTTP clients so the registry builds every client alike.
        self.clock = clock

    def run_checks(self, credentials: Credentials, market: Market) -> CheckReport:
        market = Market(market)
        builder = ReportBuilder(SLUG, market, utc_now(self.clock))
        builder.reachable({"time": (0, 0)})
        if not credentials.api_key.startswith(KEY_PREFIX):
            builder.fail_credentials(
                PermanentExchangeError(Category.INVALID_KEY, f"demo keys start with {KEY_PREFIX!r}")
            )
            return builder.finish(utc_now(self.clock))

        futures = market == Market.FUTURES
        builder.set(CheckName.CREDENTIALS, Outcome.OK, "demo_account", latency_ms=0)
        balances = FUTURES_BALANCES if futures else SPOT_BALANCES
        builder.report.balances = [dict(row) for row in balances]
        builder.set(
            CheckName.BALANCES,
            Outcome.OK,
            "futures_balances_read" if futures else "balances_read",
            {"count": len(balances)},
            latency_ms=0,
        )
        builder.set(
            CheckName.TRADE_PERMISSION,
            Outcome.OK,
            "futures_trade_enabled" if futures else "spot_trade_enabled",
            latency_ms=0,
        )
        if futures:
            builder.set(CheckName.FUTURES_PERMISSION, Outcome.OK, "futures_enabled", latency_ms=0)
        else:
            builder.set(CheckName.FUTURES_PERMISSION, Outcome.SKIPPED, "not_futures_market")
        builder.set(CheckName.WITHDRAWAL, Outcome.OK, "withdrawal_disabled", latency_ms=0)
        # A paper account has no IP binding or expiry to report; say so rather than invent one.
        builder.set(CheckName.IP_RESTRICTION, Outcome.NOT_VERIFIABLE, "demo_account")
        builder.set(CheckName.KEY_EXPIRY, Outcome.NOT_VERIFIABLE, "not_reported")
        builder.add_permission("read", "futures" if futures else "spot")
        builder.report.latencies_ms = {"time": 0}
        return builder.finish(utc_now(self.clock))
