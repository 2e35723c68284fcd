"""Coinbase's key guide (exchanges-more.md §8: CDP API keys for Advanced Trade; the portal's
scopes View, Trade and Transfer, §8.3; the IP allowlist at key creation, §8.3; key formats and
the downloaded key file, §8.2, §8.8)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .base import ExchangeGuide

GUIDE = ExchangeGuide(
    slug="coinbase",
    # The CDP portal's API keys page (docs.cdp.coinbase.com/coinbase-cli/skill, "Sign in to
    # https://portal.cdp.coinbase.com/projects/api-keys").
    api_management_url="https://portal.cdp.coinbase.com/projects/api-keys",
    # Steps and names: cdp-docs coinbase-business "API Key Authentication" (Secret API Keys →
    # Create API key → API restrictions: IP allowlist, portfolio and permissions; "Change
    # signature algorithm to ECDSA") and coinbase-cli/skill ("change the key type to ECDSA
    # (brokerage rejects Ed25519)").
    where=_(
        "Coinbase Advanced Trade uses keys from the Coinbase Developer Platform (CDP): open "
        "portal.cdp.coinbase.com → API Keys → Create API key, and choose the portfolio the bot "
        "should trade in. Under Advanced settings, choose ECDSA as the signature algorithm. "
        "Older Coinbase or Coinbase Pro keys do not work here."
    ),
    spot=_("Under API restrictions, tick View and Trade."),
    futures=_(
        "Futures are not offered for Coinbase here: its derivatives need separate products "
        "and accounts."
    ),
    leave_off=_(
        "Leave Transfer off: it lets the key send funds off Coinbase, and such a key is refused."
    ),
    ip_whitelist=_(
        "Under IP allowlist, add our server IPs. Coinbase does not show the list to us "
        "afterwards, so the test cannot confirm it."
    ),
    expiry=_(
        "Coinbase keys do not expire on a date, but each one works for a single portfolio: "
        "balances in other portfolios are not visible to it."
    ),
    key_label=_("API key name"),
    secret_label=_("Private key"),
    secret_help=_(
        "Paste the whole private key, including the BEGIN and END lines, or paste the "
        "downloaded key file (cdp_api_key.json) as it is into either field."
    ),
    key_malformed=_(
        "This is not a CDP API key name. It looks like organizations/…/apiKeys/…. Older "
        "Coinbase and Coinbase Pro keys do not work with Advanced Trade: create a new API key "
        "on the Coinbase Developer Platform."
    ),
    secret_malformed=_(
        "This is not a CDP private key (EC or Ed25519). Older Coinbase and Coinbase Pro "
        "secrets do not work with Advanced Trade: create a new API key on the Coinbase "
        "Developer Platform and paste its private key or the downloaded key file."
    ),
)
