"""The step-by-step key guide shown beside the add-connection form.

Facts, steps and the permission table come from the product's own connection guide
(shared/seeds); the wording is ours. Exchange-specific hints name the screens and permission
labels each exchange uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

GENERAL_STEPS = [
    _("Log in to your exchange account."),
    _(
        "Open API management and create a new API key. The exchange asks for a name and confirms "
        "by email, phone or two-factor code."
    ),
    _("Turn withdrawals off for this key."),
    _("Allow only what the bot needs: reading balances and orders, and trading."),
    _("Restrict the key to our server IP addresses if the exchange lets you."),
    _("Copy the API key and the secret key (and the passphrase, if the exchange uses one)."),
    _("Add the connection here, then run the connection test."),
    _("Only after a passing test can you enable a strategy on this connection."),
]


@dataclass(frozen=True)
class PermissionRow:
    permission: str
    needed: str
    level: str  # "yes", "no", "optional", "recommended": drives the badge colour
    why: str


PERMISSIONS = [
    PermissionRow(_("Read"), _("Yes"), "yes", _("To see balances, orders, positions and status.")),
    PermissionRow(_("Trade"), _("Yes"), "yes", _("To open, add to and close trades.")),
    PermissionRow(
        _("Withdraw"),
        _("Never"),
        "no",
        _("A trading bot must never be able to move funds off your account."),
    ),
    PermissionRow(
        "Futures", _("Only if needed"), "optional", _("Only for strategies that trade futures.")
    ),
    PermissionRow(
        _("IP whitelist"),
        _("Recommended"),
        "recommended",
        _("Limits the key to our server IP addresses."),
    ),
]

EXCHANGE_HINTS = {
    "mexc": [
        _("On MEXC, open Profile → API Management and create a key."),
        _(
            "Tick only the spot (or futures) account read and trade permissions. Leave withdrawal "
            "unticked; MEXC's API cannot tell us, so you confirm it below."
        ),
        _("Link the key to our server IPs. MEXC keys without an IP link expire after 90 days."),
    ],
    "kucoin": [
        _(
            "On KuCoin, open Account → API Management → Create API and choose a passphrase: you "
            "will need it here as well."
        ),
        _(
            "Keep General, add Spot (or Futures for a futures connection). Leave Transfer and "
            "withdrawal off: a key with Transfer is refused."
        ),
        _("Under IP restriction, add our server IPs."),
    ],
    "demo": [
        _(
            "The demo exchange is a paper account: no exchange, no money. Any key starting with "
            '"demo-" works, for example demo-key-1 and demo-secret-1.'
        ),
    ],
}

NAME_SUGGESTIONS = [
    ("MEXC Spot Main", _("main spot account on MEXC")),
    ("KuCoin Futures Conservative", _("futures account for a conservative strategy")),
    ("Recovery PRO Connection", _("separate connection for Recovery Mode and PRO logic")),
    ("BTC ETH New Groups", _("separate connection for new BTC/ETH groups")),
]
