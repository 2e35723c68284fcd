"""Turn stored, language-neutral test results into text for the active language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from connections import guides, models
from connections.exchanges import problems, registry
from connections.exchanges.base import CheckName, CheckReport, Market

OUTCOME_MARKS = {"ok": "✓", "failed": "✗", "warning": "!", "not_verifiable": "?", "skipped": "–"}

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


def exchange_label(slug: str) -> str:
    try:
        spec = registry.get(slug)
    except registry.UnknownExchange:
        return slug
    return str(_("Demo exchange (paper account)")) if spec.is_demo else spec.label


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
            else [str(guides.CAPABILITIES[n]) for n in CheckName if n not in spec.verifies],
            futures_orders_closed=Market.FUTURES in spec.markets
            and not spec.futures_orders_via_api,
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
