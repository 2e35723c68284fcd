from __future__ import annotations

import contextlib
import hashlib

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from backfuture.cache import CacheUnavailable
from strategies import selectors as strategy_selectors

# Rendering the cards (two includes, several URLs and a dozen translations per connection)
# costs far more than the queries behind them, so the rendered HTML is cached. The key holds
# everything the cards depend on: the user, the language, the day (the "unused key" flag is
# age-based) and a version that every write to a connection or strategy changes.
DASHBOARD_CACHE_SECONDS = 600
# The cached cards hold forms (start a connection test) but no CSRF token, which belongs to the
# request: each form carries this marker, replaced with the current token after the cache.
CSRF_SLOT = "<!--csrf-->"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    return render(request, "dashboard.html", {"cards": dashboard_cards(request)})


def dashboard_cards(request: HttpRequest) -> str:
    user = request.user
    version = strategy_selectors.dashboard_version(user=user)
    digest = hashlib.sha256(repr(version).encode()).hexdigest()[:16]
    key = f"dashboard:{user.pk}:{translation.get_language()}:{timezone.localdate()}:{digest}"
    try:
        cards = cache.get(key)
    except CacheUnavailable:
        # The page works without the cache, only slower (docs/security.md, "Cache outage").
        return _with_csrf(request, _render_cards(request))
    if cards is None:
        cards = _render_cards(request)
        with contextlib.suppress(CacheUnavailable):
            cache.set(key, cards, DASHBOARD_CACHE_SECONDS)
    return _with_csrf(request, cards)


def _render_cards(request: HttpRequest) -> str:
    return render_to_string(
        "_dashboard_cards.html", dashboard_context(request.user), request=request
    )


def _with_csrf(request: HttpRequest, cards: str):
    """The cached cards carry a slot for this request's CSRF token (never a cached token).

    Our own template's output, escaped when rendered: the cache returns only values this app
    signed under this very key (backfuture/cache.py), so a cache write cannot inject; the token
    is escaped by format_html."""
    token = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )
    return mark_safe(cards.replace(CSRF_SLOT, token))  # noqa: S308


def dashboard_context(user) -> dict:
    # Evaluated here, in a fixed number of queries (connections + their strategies), however
    # many connections and strategies the user has.
    return {"connections": list(strategy_selectors.dashboard_connections(user=user))}
