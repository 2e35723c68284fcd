"""The step-by-step key guide shown beside the add-connection form, and the exchange picker.

Facts, steps and the permission table come from the product's own connection guide
(shared/seeds); the wording is ours. Exchange-specific hints name the screens and permission
labels each exchange uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from connections.exchanges.base import CheckName

from . import binance, bingx, bitget, bybit, coinbase, gate, htx, kucoin, mexc, okx
from .base import ExchangeGuide

__all__ = ["GUIDES", "ExchangeGuide", "guide_for"]


@dataclass(frozen=True)
class Step:
    text: Promise
    # The step where the person types our server IPs into the exchange's form: the guide shows
    # the IP list (and "Copy all") right inside it instead of somewhere below.
    shows_server_ips: bool = False
    # The step that happens on the exchange's API-management page: linked for that exchange.
    links_api_management: bool = False


GENERAL_STEPS = [
    Step(_("Log in to your exchange account.")),
    Step(
        _(
            "Open API management and create a new API key. The exchange asks for a name and "
            "confirms by email, phone or two-factor code."
        ),
        links_api_management=True,
    ),
    Step(_("Turn withdrawals off for this key.")),
    Step(_("Allow only what the bot needs: reading balances and orders, and trading.")),
    Step(
        _("Restrict the key to our server IP addresses if the exchange lets you:"),
        shows_server_ips=True,
    ),
    Step(_("Copy the API key and the secret key (and the passphrase, if the exchange uses one).")),
    Step(_("Add the connection here, then run the connection test.")),
    Step(_("Only after a passing test can you enable a strategy on this connection.")),
]

# A paper account has no exchange website, no permissions and no IP list: only these apply.
DEMO_STEPS = [
    Step(_("Give it any name and choose Spot or Futures: both come with demo balances.")),
    Step(
        _(
            'Type any key starting with "demo-" and any secret, for example demo-key-1 and '
            "demo-secret-1."
        )
    ),
    Step(_("Save, then run the connection test: it passes within seconds.")),
    Step(_("Then create a strategy on it and try the checks that guard enabling it.")),
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


@dataclass(frozen=True)
class NameSuggestion:
    name: str
    purpose: str


def name_suggestions(slug: str, label: str) -> list[NameSuggestion]:
    """Example names for a connection on this exchange, each with what it is good for.

    The pattern follows the product's guide: exchange, market, then purpose or risk profile.
    The last one is the guide's advice to keep new trade groups apart from a group that is
    still being recovered, said without its jargon.
    """
    if slug == "demo":
        return [
            NameSuggestion(
                str(_("Demo practice")),
                str(_("to try the connection test and the strategy checks without real money")),
            )
        ]
    names = {"exchange": label}
    return [
        NameSuggestion(
            str(_("%(exchange)s Spot Main") % names),
            str(_("your main spot account on %(exchange)s") % names),
        ),
        NameSuggestion(
            str(_("%(exchange)s Futures Cautious") % names),
            str(_("a futures account for a low-risk strategy")),
        ),
        NameSuggestion(
            str(_("%(exchange)s New Groups") % names),
            str(
                _(
                    "a second key that opens new trade groups while an older group is still in "
                    "Recovery Mode, so the two never mix"
                )
            ),
        ),
    ]


# What one connection test can find out, phrased for the exchange picker's cards.
CAPABILITIES = {
    CheckName.REACHABLE: _("exchange reachable, clocks in sync"),
    CheckName.CREDENTIALS: _("key and secret accepted"),
    CheckName.BALANCES: _("balances readable"),
    CheckName.TRADE_PERMISSION: _("trading allowed"),
    CheckName.FUTURES_PERMISSION: _("futures allowed"),
    CheckName.WITHDRAWAL: _("withdrawal off"),
    CheckName.IP_RESTRICTION: _("key limited to our server IPs"),
    CheckName.KEY_EXPIRY: _("the key's expiry date"),
}


# One guide module per exchange.
GUIDES: dict[str, ExchangeGuide] = {
    guide.slug: guide
    for guide in (
        mexc.GUIDE,
        kucoin.GUIDE,
        binance.GUIDE,
        bybit.GUIDE,
        bitget.GUIDE,
        htx.GUIDE,
        okx.GUIDE,
        bingx.GUIDE,
        coinbase.GUIDE,
        gate.GUIDE,
    )
}


def guide_for(slug: str) -> ExchangeGuide | None:
    return GUIDES.get(slug)
