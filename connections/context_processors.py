"""The exchange-incident banner's data, for every page (templates/_incidents.html)."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from connections import selectors


def exchange_incidents(request) -> dict:
    # Lazy: a page that does not render the banner (a redirect, a JSON answer) costs no query.
    user = getattr(request, "user", None)
    return {"exchange_incidents": SimpleLazyObject(lambda: selectors.open_incidents_for(user=user))}
