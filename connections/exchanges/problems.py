"""Translatable texts for connection-test results.

Reports store language-neutral codes and params; these texts render them in the user's
language when a page is shown. The four first categories use the wording of the product's
own error table (invalid key, no trading permission, IP not allowed, exchange unavailable).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from backfuture.display import when

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
    "clock_skew_beyond_limit": _(
        "Our server clock is %(skew_s)s s off the exchange's, more than the %(limit_s)s s a "
        "signed request stays valid. Nothing was sent with the key; the clock must be fixed"
    ),
    "coinbase_unauthorized": _(
        "Rejected (401 Unauthorized). Coinbase does not say why: the key name or private key "
        "is wrong, the key was deleted, or our server IPs are not on the key's IP allowlist"
    ),
    "coinbase_unauthorized_ed25519": _(
        "Rejected (401 Unauthorized). This is an Ed25519 key, and Coinbase's documentation says "
        "Advanced Trade may refuse those: create an ECDSA key. Otherwise the key name or private "
        "key is wrong, the key was deleted, or our server IPs are not on its IP allowlist"
    ),
    "coinbase_spot_only": _("Coinbase is offered for spot trading only"),
    "coinbase_not_cdp_key": _(
        "This is not a Coinbase CDP API key. Advanced Trade needs a key name "
        "(organizations/…/apiKeys/…) with its EC or Ed25519 private key: create a new API "
        "key on the Coinbase Developer Platform"
    ),
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
    "coinbase_portfolio_balances": ngettext_lazy(
        "Balances readable (%(count)s asset shown) in the key's portfolio only: "
        "%(portfolio_type)s, %(portfolio_uuid)s",
        "Balances readable (%(count)s assets shown) in the key's portfolio only: "
        "%(portfolio_type)s, %(portfolio_uuid)s",
        "count",
    ),
    "coinbase_portfolio_id_balances": ngettext_lazy(
        "Balances readable (%(count)s asset shown) in the key's portfolio only: %(portfolio_uuid)s",
        "Balances readable (%(count)s assets shown) in the key's portfolio only: "
        "%(portfolio_uuid)s",
        "count",
    ),
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
    "coinbase_ip_allowlist_hidden": _(
        "cannot be verified: Coinbase keeps the key's IP allowlist to itself. Check it lists "
        "our server IPs"
    ),
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
    "ip_not_whitelisted_unreported": _(
        "the key's IP whitelist does not include the IP we called from (the exchange does not "
        "say which IP it saw)"
    ),
    "key_never_expires": _("does not expire (the key is bound to IP addresses)"),
    # Bybit
    "bybit_account_mode": _("Key accepted by the exchange. Bybit account type: %(mode)s"),
    "bybit_key_unknown": _(
        "Rejected: Bybit does not know this key here. A key made in Bybit's Demo Trading works "
        "only for a demo connection, a live key only for a live one; testnet keys work on "
        "neither"
    ),
    "bybit_key_expired": _(
        "Rejected: Bybit says this key has expired. Keys without an IP binding expire after "
        "90 days: create a new key bound to our server IPs and replace it here"
    ),
    "bybit_account_mode_mismatch": _(
        "Rejected: this part of Bybit's API is not available for your account type (Unified "
        "Trading Account or classic account)"
    ),
    "bybit_read_only_key": _("disabled: the key is read-only"),
    "bybit_transfer_allowed": _(
        "disabled. The key may still transfer funds between your own Bybit accounts "
        "(%(permissions)s): we recommend turning that off too"
    ),
    "bybit_demo_no_key_info": _(
        "cannot be verified: Bybit's demo trading does not let a key read its own permissions"
    ),
    "key_does_not_expire": _("does not expire"),
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
    # Bitget
    "bitget_coarse_permissions": _(
        "cannot be verified: Bitget's answer does not say it for this key (only broad "
        'permissions such as "trade", or names we do not know)'
    ),
    "bitget_key_or_passphrase": _(
        "Rejected: the API key or the passphrase is wrong (Bitget does not say which)"
    ),
    "bitget_environment_mismatch": _(
        "Rejected: Bitget says this key belongs to the other environment (demo or live). "
        "Check whether it is a demo trading key and set the connection to match"
    ),
    "bitget_bind_phone_or_google": _(
        "Rejected: Bitget asks the account to bind a phone number or Google Authenticator first"
    ),
    "bitget_unified_account": _(
        "Rejected: the account uses Bitget's Unified Trading Account, which the classic API "
        "we test with does not serve"
    ),
    "htx_no_spot_account": _("cannot be verified: HTX lists no spot account for this key"),
    # a key limited to some pairs (Gate's trading-pair whitelist)
    "trade_limited_to_pairs": ngettext_lazy(
        "enabled, but only for %(pairs)s (the key's pair whitelist)",
        "enabled, but only for these %(count)s pairs: %(pairs)s (the key's pair whitelist)",
        "count",
    ),
    # Gate
    "gate_invalid_key": _(
        "Gate does not know this key. Only an APIv4 key works here (an older APIv2 key is "
        "refused): create an APIv4 key and copy it again"
    ),
    "gate_futures_account_missing": _(
        "Gate has no USDT perpetual futures account for you yet: open it once on the Gate "
        "website (for example by transferring some USDT to Futures), then test again"
    ),
    "gate_wallet_writable": _(
        "REFUSED: the key's Wallet permission is set to read and write. Gate shows no "
        "separate withdrawal switch, so a writable Wallet counts as able to move funds. "
        "Set Wallet to read-only or off"
    ),
    "gate_no_withdrawal_flag": _(
        "Gate does not report a withdrawal flag. Please confirm the key has no withdrawal "
        "permission"
    ),
    "gate_account_permission_missing": _(
        "cannot be verified: the key lacks Gate's Account permission. Add Account as Read "
        "Only to the key, then test again"
    ),
    "gate_key_not_listed": _("cannot be verified: Gate's key list did not include this key"),
    "gate_key_locked": _("Key accepted, but Gate lists it as locked or frozen (state %(state)s)"),
    "gate_unbound_expires_90d": _(
        "not reported by Gate. A key without an IP binding is valid for 90 days"
    ),
    # demo
    "demo_account": _("Demo account: no real exchange is contacted"),
    # A key of one environment used in the other (OKX 50101 "APIKey does not match current
    # environment").
    "demo_key_on_live": _(
        "Rejected: this is a demo-trading key, but the connection uses the live exchange. "
        "Mark the connection as demo trading, or create a key for live trading"
    ),
    "live_key_on_demo": _(
        "Rejected: this is a live-trading key, but the connection uses demo trading. Create "
        "a demo-trading key, or set up the connection for live trading"
    ),
    # credentials refused for one identifiable reason
    "passphrase_wrong": _(
        "Rejected: wrong passphrase. Type the passphrase exactly as you chose it when you "
        "created the key (it is case-sensitive)"
    ),
    "secret_wrong": _(
        "Rejected: the signature did not match. The secret key was most likely copied "
        "incompletely or belongs to another key"
    ),
    "key_frozen": _("Rejected: the exchange has frozen this API key. Contact its support"),
    # OKX
    "okx_key_not_found": _(
        "Rejected: OKX does not know this API key. Check that it was copied completely. Keys "
        "created on OKX's regional sites (my.okx.com in the EEA, app.okx.com in the US) do "
        "not exist on www.okx.com, which this connection uses"
    ),
    "okx_spot_mode_account": _(
        "not possible: the OKX account is in %(account_mode)s, which cannot trade perpetual "
        "swaps. Switch the account mode on OKX (Futures mode or a margin mode) and test again"
    ),
    "okx_futures_enabled": _(
        "enabled (account mode: %(account_mode)s, position mode: %(position_mode)s)"
    ),
    "okx_futures_enabled_account_mode": _("enabled (account mode: %(account_mode)s)"),
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
    values = _Params(params or {})
    if isinstance(values.get("date"), str):
        # Reports store dates as ISO text; the reader sees them in their language's format.
        with contextlib.suppress(ValueError):
            values["date"] = when(date.fromisoformat(values["date"]), "date")
    # `%` on the lazy text (not str() first) lets a plural text pick its form from "count".
    return str(template % values)
