"""Turn stored, language-neutral test results into text for the active language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from backfuture import numbers
from connections import guides, models
from connections.exchanges import problems, registry
from connections.exchanges.base import CheckName, CheckReport, Market, Outcome

OUTCOME_MARKS = {"ok": "✓", "failed": "✗", "warning": "!", "not_verifiable": "?", "skipped": "–"}

# The report keeps up to 50 balances; the page shows the first few, the quote currencies first.
MAX_BALANCES_SHOWN = 8

# MEXC: "API keys not linked to an IP address expire after 90 days" (exchanges.md §3.2).
MEXC_UNBOUND_KEY_DAYS = 90


@dataclass
class CheckRow:
    name: str
    label: str
    outcome: str
    outcome_label: str
    mark: str
    detail: str
    latency_ms: int | None
    # The balances the test read, for the balances check only.
    balances: BalanceTable | None = None


@dataclass
class BalanceTable:
    """What "Balances readable (n assets shown)" shows: asset and two amounts per row."""

    futures: bool
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    hidden: int = 0


def _amount(row: dict, key: str) -> Decimal:
    try:
        value = Decimal(str(row.get(key, "0")))
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)


def balance_table(report: CheckReport) -> BalanceTable:
    """Spot: free and locked; futures: margin balance (equity) and available.

    Quote currencies (USDT and the like, what strategies count in) come first; the rest by
    amount, largest first. The amounts are of different assets and are not priced, so this
    order is only a reading aid.
    """
    futures = report.market == Market.FUTURES
    keys = ("equity", "available") if futures else ("free", "locked")

    def order(row: dict) -> tuple:
        asset = str(row.get("asset", "")).upper()
        total = _amount(row, keys[0]) if futures else _amount(row, "free") + _amount(row, "locked")
        return (asset not in numbers.QUOTE_PLACES, -total, asset)

    ordered = sorted(report.balances, key=order)
    shown = ordered[:MAX_BALANCES_SHOWN]
    rows = []
    for row in shown:
        asset = str(row.get("asset", "")).upper()
        rows.append(
            (
                asset,
                numbers.money(_amount(row, keys[0]), asset),
                numbers.money(_amount(row, keys[1]), asset),
            )
        )
    return BalanceTable(futures=futures, rows=rows, hidden=len(ordered) - len(shown))


def exchange_label(slug: str, *, demo: bool = False) -> str:
    try:
        spec = registry.get(slug)
    except registry.UnknownExchange:
        return slug
    if spec.is_demo:
        return str(_("Demo exchange (paper account)"))
    return str(_("%(exchange)s (demo trading)") % {"exchange": spec.label}) if demo else spec.label


@dataclass
class ExchangeCard:
    """One exchange on the picker: what it offers and what a test can tell about its keys."""

    slug: str
    label: str
    is_demo: bool
    markets: list[str]
    needs_passphrase: bool
    verifies: list[str]
    cannot_verify: list[str]
    futures_orders_closed: bool
    # The exchange has a demo (paper trading) environment the form offers as a checkbox.
    demo_environment: bool = False


def exchange_cards(specs: list[registry.ExchangeSpec]) -> list[ExchangeCard]:
    return [
        ExchangeCard(
            slug=spec.slug,
            label=exchange_label(spec.slug),
            is_demo=spec.is_demo,
            markets=[_market_label(market) for market in spec.markets],
            needs_passphrase=spec.needs_passphrase,
            verifies=[str(guides.CAPABILITIES[n]) for n in CheckName if n in spec.verifies],
            # A paper account has nothing more to find out.
            cannot_verify=[]
            if spec.is_demo
            else [
                str(guides.CAPABILITIES[n])
                for n in CheckName
                if n not in spec.verifies
                # A spot-only exchange has no futures to report on.
                and (n != CheckName.FUTURES_PERMISSION or Market.FUTURES in spec.markets)
            ],
            futures_orders_closed=Market.FUTURES in spec.markets
            and not spec.futures_orders_via_api,
            demo_environment=spec.demo_environment,
        )
        for spec in specs
    ]


def _market_label(market: Market) -> str:
    return str(models.Market(str(market)).label)


def report_rows(report: dict | None) -> list[CheckRow]:
    if not report:
        return []
    parsed = CheckReport.from_dict(report)
    return [
        CheckRow(
            balances=balance_table(parsed)
            if check.name == CheckName.BALANCES and check.outcome == Outcome.OK and parsed.balances
            else None,
            name=str(check.name),
            label=problems.check_label(check.name),
            outcome=str(check.outcome),
            outcome_label=problems.outcome_label(check.outcome),
            mark=OUTCOME_MARKS.get(str(check.outcome), "?"),
            detail=problems.check_detail(check.code, check.params),
            latency_ms=check.latency_ms,
        )
        for check in parsed.checks
    ]


def problem(category: str):
    return problems.problem_for(category) if category else None


def report_is_for_previous_key(connection) -> bool:
    """The stored report was made with the key the user has since replaced: it says nothing
    about the new key until a test of that key finishes."""
    if not connection.last_report or connection.key_replaced_at is None:
        return False
    tested = connection.last_tested_at
    return tested is None or tested <= connection.key_replaced_at


def unbound_key_expiry(connection):
    """For MEXC keys without an IP link: the latest date the key can still work.

    The key was created before it was added here, so 90 days after it was added (or replaced)
    is an upper bound, not the exact date.
    """
    if connection.exchange != "mexc" or connection.ip_restricted:
        return None
    added = connection.key_replaced_at or connection.created_at
    return added + timedelta(days=MEXC_UNBOUND_KEY_DAYS)
