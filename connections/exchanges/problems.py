"""Translatable texts for connection-test results.

Reports store language-neutral codes and params; these texts render them in the user's
language when a page is shown. The four first categories use the wording of the product's
own error table (invalid key, no trading permission, IP not allowed, exchange unavailable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from .base import Category, CheckName, Outcome


@dataclass(frozen=True)
class Problem:
    title: Promise
    cause: Promise
    what_to_do: Promise


CATEGORY_TEXTS: dict[Category, Problem] = {
    Category.INVALID_KEY: Problem(
        title=_("Invalid API key"),
        cause=_("The API key or secret was copied incorrectly"),
        what_to_do=_("Create a new key or copy the values again"),
    ),
    Category.NO_TRADE_PERMISSION: Problem(
        title=_("No trading permission"),
        cause=_("Trade permission is disabled"),
        what_to_do=_("Enable trading permission, but keep withdrawal disabled"),
    ),
    Category.FUTURES_NOT_PERMITTED: Problem(
        title=_("Futures permission missing"),
        cause=_("This is a futures connection, but the key may not use the futures account"),
        what_to_do=_(
            "Enable the futures permission on the key (keep withdrawal disabled), or connect "
            "this key as a spot connection instead"
        ),
    ),
    Category.IP_NOT_ALLOWED: Problem(
        title=_("IP not allowed"),
        cause=_("The key's IP restriction does not include our server IP"),
        what_to_do=_("Add the server IPs shown below to the key's whitelist on the exchange"),
    ),
    Category.WITHDRAWAL_ENABLED: Problem(
        title=_("Withdrawal permission enabled"),
        cause=_(
            "The key can withdraw funds. We refuse such keys: a trading bot must never be "
            "able to move money out of your account"
        ),
        what_to_do=_(
            "Delete this key on the exchange now and create a new one without withdrawal permission"
        ),
    ),
    Category.CLOCK_SKEW: Problem(
        title=_("Time mismatch"),
        cause=_("The exchange rejected the request's timestamp as too far from its own time"),
        what_to_do=_("Run the test again; if it keeps failing, contact support"),
    ),
    Category.ACCOUNT_RESTRICTED: Problem(
        title=_("Account restricted"),
        cause=_("The exchange has frozen or restricted the account, or does not serve its region"),
        what_to_do=_(
            "Check your account status and messages on the exchange and contact its support"
        ),
    ),
    Category.EXCHANGE_UNAVAILABLE: Problem(
        title=_("Exchange unavailable"),
        cause=_(
            "The exchange API answered with an error, did not answer in time, or is under "
            "maintenance"
        ),
        what_to_do=_("Wait and run the test again"),
    ),
    # One key, one connection (docs/security.md): neither text says whose connection holds it.
    Category.KEY_IN_USE: Problem(
        title=_("Key already connected"),
        cause=_("This API key is already connected here"),
        what_to_do=_(
            "Use a separate key for each connection: create a new key on the exchange and "
            "replace the key of this connection"
        ),
    ),
    # Our side: no connection could be made at all. The operator's checklist (DNS, egress,
    # proxy, TLS) is in docs/architecture.md and in the worker's log line for the failure.
    Category.EXCHANGE_UNREACHABLE: Problem(
        title=_("Exchange not reachable from our server"),
        cause=_(
            "Our server could not connect to the exchange: a network problem on our side. "
            "Nothing is known to be wrong with your key"
        ),
        what_to_do=_(
            "Nothing to change on your key. Run the test again in a few minutes; if it keeps "
            "failing, contact support"
        ),
    ),
}


def problem_for(category: Category | str) -> Problem:
    return CATEGORY_TEXTS[Category(category)]


CHECK_LABELS: dict[CheckName, Promise] = {
    CheckName.REACHABLE: _("Exchange"),
    CheckName.CREDENTIALS: _("Key and secret"),
    CheckName.BALANCES: _("Balances"),
    CheckName.TRADE_PERMISSION: _("Trading"),
    CheckName.FUTURES_PERMISSION: _("Futures"),
    CheckName.WITHDRAWAL: _("Withdrawal"),
    CheckName.IP_RESTRICTION: _("IP restriction"),
    CheckName.KEY_EXPIRY: _("Key expiry"),
}

OUTCOME_LABELS: dict[Outcome, Promise] = {
    Outcome.OK: _("OK"),
    Outcome.FAILED: _("Failed"),
    Outcome.WARNING: _("Warning"),
    Outcome.NOT_VERIFIABLE: _("Cannot be verified"),
    Outcome.SKIPPED: _("Skipped"),
}

# Detail code → text with %(name)s placeholders filled from the check's params.
CHECK_DETAILS: dict[str, Promise] = {
    # reachable
    "reachable": _("reachable, clock skew %(skew_ms)s ms"),
    "clock_skew_high": _(
        "Clock skew: %(skew_ms)s ms. We correct for it, but the server clock should be synced"
    ),
    # credentials
    "credentials_accepted": _("Key accepted by the exchange"),
    "read_permission_missing": _("The key may not read the account"),
    # balances
    "balances_read": ngettext_lazy(
        "Balances readable (%(count)s asset shown)",
        "Balances readable (%(count)s assets shown)",
        "count",
    ),
    "futures_balances_read": ngettext_lazy(
        "Futures account readable (%(count)s asset shown)",
        "Futures account readable (%(count)s assets shown)",
        "count",
    ),
    "futures_account_unreadable": _("The key may not read the futures account"),
    # trading
    "spot_trade_enabled": _("enabled"),
    "futures_trade_enabled": _("futures trading enabled"),
    "trade_permission_missing": _("disabled"),
    "order_test_ok": _("enabled (a test order was validated; nothing was placed)"),
    "order_test_validated": _(
        "enabled (the key was accepted for trading; the test order was only rejected "
        "by order rules, code %(exchange_code)s; nothing was placed)"
    ),
    "mexc_futures_api_orders_closed": _(
        "cannot be verified: MEXC has closed futures order placement through "
        "its API since 25 July 2022"
    ),
    # futures
    "not_futures_market": _("Not needed for a spot connection"),
    "futures_enabled": _("enabled"),
    "futures_account_readable": _("account accessible"),
    "futures_permission_missing": _("not permitted for this key"),
    # withdrawal
    "withdrawal_disabled": _("disabled"),
    "withdrawal_enabled": _("ENABLED. This key must not be used"),
    "mexc_cannot_tell": _(
        "MEXC does not report it. Please confirm the key has no withdrawal permission"
    ),
    # IP restriction
    "ip_restricted": ngettext_lazy("set (%(count)s entry)", "set (%(count)s entries)", "count"),
    "ip_not_set": _("not set — recommended"),
    "ip_not_whitelisted": _("our server IP %(reported_ip)s is not on the list"),
    "mexc_unbound_expires_90d": _(
        "MEXC does not report it. Keys without an IP binding expire after 90 days"
    ),
    "ip_restricted_unlisted": _("set (the exchange does not show the list)"),
    # key expiry
    "not_reported": _("not reported by the exchange"),
    "key_expires_on": ngettext_lazy(
        "expires on %(date)s, in %(days)s day", "expires on %(date)s, in %(days)s days", "days"
    ),
    "key_expires_soon": ngettext_lazy(
        "expires on %(date)s, in %(days)s day: bind it to our server IPs or create a new key",
        "expires on %(date)s, in %(days)s days: bind it to our server IPs or create a new key",
        "days",
    ),
    "key_expired": _("EXPIRED on %(date)s: create a new key and replace it here"),
    # Binance: -2015 "Invalid API-key, IP, or permissions for action." is one answer for three
    # causes (exchanges-more.md §1.8); these say what the other calls of the test could tell.
    "binance_key_ip_or_permission": _(
        "Rejected: wrong key, our server IP not on the key's whitelist, or a missing "
        "permission. Binance gives the same answer for all three, so we cannot tell which"
    ),
    "binance_key_or_ip": _(
        "Rejected: either the key is wrong (or a demo key used on the live exchange, or the "
        "reverse) or our server IP is not on the key's whitelist. Binance does not say which"
    ),
    "binance_key_or_ip_ip": _(
        "Rejected: either the key is wrong (or a demo key used on the live exchange, or the "
        "reverse) or our server IP %(reported_ip)s is not on the key's whitelist. Binance does "
        "not say which"
    ),
    "binance_permission_missing": _(
        "The key and our IP were accepted, but the key lacks the permission for this call"
    ),
    "binance_futures_disabled": _(
        'not permitted: tick "Enable Futures" on the key. A key created before your futures '
        "account was opened cannot get it: create a new key"
    ),
    "binance_portfolio_margin": _(
        "This is a Portfolio Margin account: Binance does not serve its USDⓈ-M futures API to "
        "it, and that is the API we trade through"
    ),
    "binance_demo_no_key_info": _(
        "cannot be verified: Binance's demo environment does not describe its keys (a demo key "
        "only holds demo funds)"
    ),
    # what an exchange cannot tell
    "key_info_refused": _(
        "cannot be verified: the key may not read its own permissions on this exchange"
    ),
    # demo
    "demo_account": _("Demo account: no real exchange is contacted"),
    # generic
    "not_run": _("Not checked because an earlier check failed"),
    # a failed check whose detail is the problem category itself
    Category.INVALID_KEY.value: _("Rejected: wrong key, secret or passphrase"),
    Category.NO_TRADE_PERMISSION.value: _("Rejected: the key lacks a permission"),
    Category.FUTURES_NOT_PERMITTED.value: _("Rejected: the key may not use futures"),
    Category.IP_NOT_ALLOWED.value: _("Rejected: request from an IP not on the key's whitelist"),
    Category.WITHDRAWAL_ENABLED.value: _("ENABLED. This key must not be used"),
    Category.CLOCK_SKEW.value: _("Rejected: request time outside the exchange's window"),
    Category.ACCOUNT_RESTRICTED.value: _("Rejected: the account is restricted"),
    Category.EXCHANGE_UNAVAILABLE.value: _("The exchange did not answer properly"),
    Category.KEY_IN_USE.value: _("Accepted, but this key is already connected here"),
    Category.EXCHANGE_UNREACHABLE.value: _("Our server could not connect to the exchange"),
}

_UNKNOWN_DETAIL = _("Result code: %(code)s")


class _Params(dict):
    """Missing placeholders render as "?" instead of breaking a page."""

    def __missing__(self, key: str) -> str:
        return "?"


def check_label(name: CheckName | str) -> str:
    return str(CHECK_LABELS[CheckName(name)])


def outcome_label(outcome: Outcome | str) -> str:
    return str(OUTCOME_LABELS[Outcome(outcome)])


def check_detail(code: str, params: Mapping[str, Any] | None = None) -> str:
    template = CHECK_DETAILS.get(code)
    if template is None:
        return str(_UNKNOWN_DETAIL) % {"code": code}
    # `%` on the lazy text (not str() first) lets a plural text pick its form from "count".
    return str(template % _Params(params or {}))
