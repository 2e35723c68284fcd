"""Binance's key guide (exchanges-more.md §1: api_key_types.md, demo-mode/general-info.md,
the apiRestrictions example and its comments, §1.3 and §1.8)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="binance",
    # The "API Key Management page" linked from bn-spot-docs demo-mode/general-info.md
    # (demo.binance.com/en/my/settings/api-management), on the live site.
    api_management_url="https://www.binance.com/en/my/settings/api-management",
    where=_(
        "On Binance, open Account → API Management → Create API. Binance recommends a "
        "self-generated Ed25519 key: you make the key pair yourself, give Binance the public "
        "key and keep the private key. A system-generated (HMAC) key works too."
    ),
    spot=_('For a spot connection, keep "Enable Reading" and tick "Enable Spot & Margin Trading".'),
    futures=_(
        'For a futures connection, tick "Enable Futures". A key created before your futures '
        "account was opened cannot get it: open the futures account first, then create the key. "
        "Portfolio Margin accounts cannot be used."
    ),
    leave_off=_(
        'Leave "Enable Withdrawals" and "Permits Universal Transfer" off: a key that can '
        "withdraw is refused."
    ),
    ip_whitelist=_(
        'Choose "Restrict access to trusted IPs only" and add our server IPs. Binance only tells '
        "us that a restriction is set, not which addresses."
    ),
    expiry=_("Binance reports no expiry date for API keys."),
    demo=_(
        "For a demo key, switch to Demo Trading (demo.binance.com) and create the key in its "
        "API management, then tick the demo box here. Demo keys only work in demo, and live "
        "keys only live."
    ),
    secret_label=_("Secret key or Ed25519 private key (PEM)"),
    secret_help=_(
        "For a system-generated key: the secret key Binance showed once. For an Ed25519 key: "
        "the whole private key file, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE "
        "KEY-----."
    ),
    # An EC or RSA key, a key file or a truncated paste: the generic "copy it again" would not
    # say that Binance's PEM must be an Ed25519 key.
    secret_malformed=_(
        "This is neither a Binance secret key nor an Ed25519 private key. Paste the secret key "
        "Binance showed once, or the whole Ed25519 private key file, from -----BEGIN PRIVATE "
        "KEY----- to -----END PRIVATE KEY-----."
    ),
)
