"""Bitget's key guide (exchanges-more.md §4; bitget.com/api-doc/common/intro, "Access
Preparation"; bitget.com/api-doc/common/demotrading/restapi)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="bitget",
    # Bitget's docs link "API Key Management" without a stored address (intro, "Access
    # Preparation"); this is the page third-party connection guides send people to, reached
    # from the profile menu → API Keys. UNVERIFIED against a Bitget page.
    api_management_url="https://www.bitget.com/account/newapi",
    where=_(
        "On Bitget, open the profile menu → API Keys → Create API key and choose a "
        "system-generated key."
    ),
    passphrase=_(
        "Bitget asks you to set a passphrase for the key. You will need it here too, and "
        "Bitget cannot show it again: if it is lost, create a new key."
    ),
    spot=_("Choose Read and write, then tick Spot trade."),
    futures=_(
        "For a futures connection, tick Futures orders and holdings. The test reads the key's "
        "permissions through Bitget's spot account: without spot access it still checks "
        "futures, but not withdrawal or the IP list."
    ),
    leave_off=_(
        "Leave Withdraw and Transfer off. A key Bitget shows with withdrawal permission is "
        "refused; Bitget does not always say, so you also confirm it below."
    ),
    ip_whitelist=_("Bind the key to our server IPs in its IP settings."),
    expiry=_("Bitget does not report when a key stops working, so the test cannot warn you."),
    demo=_(
        "For demo trading, switch Bitget to demo mode first and create the key there. Then "
        "tick the demo box on this form: demo keys only work in demo mode, live keys only live."
    ),
)
