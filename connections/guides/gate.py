"""Gate's key guide (exchanges-more.md §5; Gate help "How to utilize API", FAQ 17521; the
permission names of the API v4 docs, "Query All Main Account Key Information")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="gate",
    # The API key management page linked by Gate's own agent tooling (github gate/gate-skills,
    # setup scripts and skill READMEs: "Gate API Key Management").
    api_management_url="https://www.gate.com/myaccount/profile/api-key/manage",
    where=_(
        "On Gate, open your profile → API Management and create an APIv4 key (not an APIv2 "
        "key, which this connection cannot use). Choose the classic account type."
    ),
    spot=_(
        "For a spot connection, set Spot/Margin trading to Read and Write, and add Account "
        "as Read Only: without it we cannot read the key's permissions."
    ),
    futures=_(
        "For a futures connection, set Perpetual Futures to Read and Write and Account to "
        "Read Only. Open your USDT perpetual futures account on Gate first (a transfer into "
        "it is enough)."
    ),
    leave_off=_(
        "Set Wallet to Read Only or leave it off: Gate has no separate withdrawal switch, so "
        "a key with Wallet read and write is refused."
    ),
    ip_whitelist=_(
        "Bind the key to IP addresses and enter our server IPs. If you limit the key to some "
        "trading pairs, include every pair your strategies use."
    ),
    expiry=_("A Gate key without an IP binding stops working after 90 days."),
    key_label=_("APIv4 key"),
    key_malformed=_(
        "This does not look like a Gate APIv4 key. Copy it again from API Management on Gate, "
        "without spaces or line breaks. An APIv2 key does not work here."
    ),
    withdrawal_confirm_label=_(
        "I confirm that Wallet is Read Only or off on this key, so it cannot withdraw."
    ),
)
