"""The shape of one exchange's part of the key guide."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class ExchangeGuide:
    """One exchange's part of the key guide: where its API management is and what to tick, in
    the exchange's own words for its screens and permissions. One module per exchange in this
    package, listed in `_GUIDES` below."""

    slug: str
    # The exchange's own page for creating and editing API keys (the person must be logged in
    # there). Each module names its source.
    api_management_url: str
    where: Promise  # where API management is
    spot: Promise  # the boxes to tick for a spot connection, by the exchange's own names
    futures: Promise  # ... for a futures connection
    leave_off: Promise  # what to leave off: withdrawal, transfer
    ip_whitelist: Promise  # the IP whitelist step; the page lists our server IPs beside it
    expiry: Promise  # the exchange's rules for when a key stops working
    passphrase: Promise | None = None  # where the exchange has one
    demo: Promise | None = None  # how to make a demo key, where the person can choose demo
    # Labels of the form's key and secret fields where the exchange names them differently.
    key_label: Promise | None = None
    secret_label: Promise | None = None
    secret_help: Promise | None = None
    # The form's demo checkbox, where the exchange's demo works differently from the default
    # wording (separate demo keys): BingX's demo uses the account's own key.
    demo_label: Promise | None = None
    demo_help: Promise | None = None
    # The form's error for a value that cannot be a key / secret of this exchange, where the
    # generic one would mislead (Coinbase: an old HMAC key needs a new CDP key, not a re-copy).
    key_malformed: Promise | None = None
    secret_malformed: Promise | None = None
    # The form's withdrawal confirmation, where the exchange has no switch called withdrawal
    # (Gate: the Wallet permission), so the person can find what they confirm.
    withdrawal_confirm_label: Promise | None = None

    @property
    def hints(self) -> list[Promise]:
        """The exchange's lines, in the order a person creates the key."""
        lines = [self.where, self.passphrase, self.spot, self.futures, self.leave_off]
        lines += [self.ip_whitelist, self.expiry, self.demo]
        return [line for line in lines if line]
