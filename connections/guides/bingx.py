"""BingX's key guide (exchanges-more.md §7; BingX API docs "Generate an API Key" and
"Permission Settings", and the permission names its endpoint pages use)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="bingx",
    # BingX's own error text for 100419 sends users here "to verify the ip you have set"
    # (BingX docs, "Errors" of every signed endpoint, e.g. Query Assets).
    api_management_url="https://bingx.com/en/account/api/",
    where=_(
        "On BingX, open your profile → API Management and create an API key. New keys can "
        "only read until you tick more."
    ),
    spot=_("For a spot connection, keep Read and tick Spot Trading."),
    futures=_("For a futures connection, keep Read and tick Perpetual Futures Trading."),
    leave_off=_(
        "Leave Withdraw unticked: a key that can withdraw is refused. Universal Transfer and "
        "internal transfers between sub-accounts are not needed either."
    ),
    ip_whitelist=_("Add our server IPs to the key's IP whitelist."),
    expiry=_(
        "BingX does not report an expiry date for API keys, so the test cannot check one. If "
        "a key stops working, create a new one and replace it here."
    ),
    demo=_(
        "BingX's demo trading (VST) uses the same key as your account. To test with demo "
        "funds, create the key as above and tick the demo trading box on this form."
    ),
    demo_label=_("Use BingX's demo trading (VST)"),
    demo_help=_(
        "Tick it to test and trade with BingX's demo funds: the connection talks to BingX's "
        'demo servers and is marked "demo". BingX uses the same key for live and demo trading.'
    ),
)
