from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from strategies import selectors as strategy_selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    return render(request, "dashboard.html", dashboard_context(request.user))


def dashboard_context(user) -> dict:
    # Evaluated here, in a fixed number of queries (connections + their strategies), however
    # many connections and strategies the user has.
    return {"connections": list(strategy_selectors.dashboard_connections(user=user))}
