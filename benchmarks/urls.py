"""The product's URLs plus the throughput baseline: the cheapest view Django can serve through
the same middleware stack (and, for diagnosis, the same for a logged-in user)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from backfuture.urls import urlpatterns as product_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def trivial_logged_in(request: HttpRequest) -> HttpResponse:
    """For diagnosis only: what loading the session and the user costs on every page."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("__bench__/trivial", trivial, name="bench_trivial"),
    path("__bench__/trivial-logged-in", trivial_logged_in, name="bench_trivial_logged_in"),
    *product_urlpatterns,
]
