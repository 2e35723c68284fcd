"""KuCoin's key guide (exchanges.md §2; KuCoin support 360015102174 and 900006465403)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="kucoin",
    # KuCoin's official Python SDK: "Generate an API Key" (github Kucoin/kucoin-python-sdk,
    # README.md, Quick Start); KuCoin's help article 360015102174 names the same menu,
    # avatar → API Management.
    api_management_url="https://www.kucoin.com/account/api",
    where=_(
        "On KuCoin, open Account → API Management → Create API and choose a passphrase: you "
        "will need it here as well."
    ),
    spot=_("For a spot connection, keep General and add Spot."),
    futures=_("For a futures connection, tick Futures as well as General."),
    leave_off=_("Leave Transfer off: it lets a key move funds, and such a key is refused."),
    ip_whitelist=_("Under IP restriction, add our server IPs."),
    expiry=_(
        "KuCoin may disable a trading key without an IP restriction after 30 days without use."
    ),
)
