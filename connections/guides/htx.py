"""HTX's key guide (exchanges-more.md §6; HTX API docs "Quick Start", as crawled in github
rosssaunders/coincise docs/htx/spot/private_rest_api.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="htx",
    # "You can manage your API Keys here (https://www.htx.com/apikey/)" (HTX API docs,
    # Quick Start → Preparation).
    api_management_url="https://www.htx.com/apikey/",
    where=_("On HTX, open your profile → API Management and create an API key."),
    spot=_(
        "Tick Read and Trade. HTX uses one key for spot and futures, so the same boxes work "
        "for both."
    ),
    futures=_(
        "For a futures connection, tick Read and Trade as well, and open the USDT-margined "
        "futures account on HTX first: a key cannot use a futures account that does not exist."
    ),
    leave_off=_("Leave Withdraw unticked: a key that can withdraw is refused."),
    ip_whitelist=_("Bind the key to our server IPs (HTX allows up to 20 addresses)."),
    expiry=_(
        "A key bound to IP addresses does not expire; an unbound key stops working after 90 "
        "days. The test shows how many days are left."
    ),
    key_label=_("Access Key"),
    secret_label=_("Secret Key"),
    secret_help=_("HTX shows the Secret Key only once, right after you create the key."),
    # In HTX's own names, as the labels (the generic text says "API key" and "a HTX").
    key_malformed=_(
        "This does not look like an HTX Access Key. Copy it again from API Management on HTX, "
        "without spaces or line breaks."
    ),
    secret_malformed=_(
        "This does not look like an HTX Secret Key. Copy it again; HTX shows it only once, so "
        "you may have to create a new key."
    ),
)
