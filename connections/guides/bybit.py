"""Bybit's key guide (exchanges-more.md §3: by-docs guide.mdx, demo.mdx, user/apikey-info.mdx,
user/create-subuid-apikey.mdx; the labels of Bybit's "Create New Key" form as third-party
key guides quote them: "System-generated API Keys", "API Transaction", "Read-Write",
"Only IPs with permissions granted are allowed to access the OpenAPI")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="bybit",
    # Bybit's API management page (avatar → API); the person must be logged in.
    api_management_url="https://www.bybit.com/app/user/api-management",
    where=_(
        "On Bybit, open your avatar → API → Create New Key, choose System-generated API Keys, "
        "then API Transaction, give the key a name and pick Read-Write."
    ),
    spot=_("For a spot connection, tick Trade under SPOT (or Unified Trading)."),
    futures=_(
        "For a futures connection, tick Orders and Positions under Contracts (or Trade under "
        "Unified Trading)."
    ),
    leave_off=_(
        "Leave everything under Wallet off: Withdrawal is refused here, and we recommend "
        "leaving Account Transfer and Subaccount Transfer off too."
    ),
    ip_whitelist=_(
        'Choose "Only IPs with permissions granted are allowed to access the OpenAPI" and '
        "enter our server IPs."
    ),
    expiry=_(
        "A Bybit key without an IP binding stops working after 90 days (and 7 days after you "
        "change your password); a key bound to IPs does not expire. The test shows the date."
    ),
    demo=_(
        "For a demo connection: on bybit.com switch to Demo Trading, then avatar → API, and "
        "tick the demo box here. Demo keys do not work on the live exchange. Bybit's demo "
        "cannot show a key's permissions, so the test checks only that the key works."
    ),
)
