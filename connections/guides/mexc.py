"""MEXC's key guide (exchanges.md §3; MEXC FAQ on API keys)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="mexc",
    # MEXC's API documentation links its "create an API key" step here (github
    # mexcdevelop/apidocs, source/index.html.md, "使用流程").
    api_management_url="https://www.mexc.com/user/openapi",
    where=_("On MEXC, open Profile → API Management and create a key."),
    spot=_("For a spot connection, tick the spot account's read and trade permissions."),
    futures=_(
        "For futures, tick the futures account and order permissions. MEXC has closed futures "
        "order placement through its API since July 2022; the test says so."
    ),
    leave_off=_("Never tick withdrawal: MEXC cannot report it, so you confirm it is off."),
    ip_whitelist=_("Link the key to our server IPs."),
    expiry=_("A key linked to IP addresses does not expire; an unlinked one stops after 90 days."),
)
