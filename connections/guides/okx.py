"""OKX's key guide (exchanges-more.md §2; okx-docs "Demo Trading Services" and "Get account
configuration", crawled 2026-06-15)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="okx",
    # OKX's API page (profile → API); the address is the one third-party integrations link to
    # (secondary: not on a stored OKX page).
    api_management_url="https://www.okx.com/account/my-api",
    where=_(
        "On OKX, open your profile → API and create an API key for API trading. Use "
        "www.okx.com: a key made on OKX's regional sites (my.okx.com, app.okx.com) does not "
        "work there."
    ),
    passphrase=_(
        "OKX asks you to choose a passphrase for the key. Note it exactly, including upper "
        "and lower case: you will enter it here with the key and the secret."
    ),
    spot=_("Tick Read and Trade."),
    # acctLv 1 (Spot mode) cannot trade swaps (okx-docs "Get account configuration", §2.3);
    # the settings path follows OKX's own "Account mode" naming (secondary for the menu).
    futures=_(
        "OKX has no separate futures permission: Read and Trade are enough, but the account "
        "must not be in Spot mode. In OKX's trading settings, under Account mode, choose "
        "Futures mode or one of the margin modes."
    ),
    leave_off=_("Leave Withdraw off: a key that can withdraw is refused."),
    ip_whitelist=_("Under IP address, bind the key to our server IPs."),
    expiry=_(
        "OKX does not report an expiry date for keys. A key bound to IP addresses is the "
        "safer choice: OKX may remove trading keys without an IP binding after a period "
        "without use."
    ),
    demo=_(
        "For demo trading, switch to Trade → Demo Trading on OKX, then create the key under "
        "Personal center → Demo Trading API. Live keys do not work in demo trading, nor demo "
        "keys in live trading."
    ),
)
