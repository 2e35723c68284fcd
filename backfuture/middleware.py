from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render, resolve_url
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from backfuture.cache import CacheUnavailable

logger = logging.getLogger(__name__)

# Everything the pages load comes from our own origin: htmx and our script are static files,
# and no inline script or style is used (htmx's indicator styles are switched off in base.html).
# allauth's TOTP setup page shows its QR code as a data: image.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Headers Django 5.2's SecurityMiddleware does not set itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        else:
            # The admin uses inline scripts and styles of its own; it still may not be framed
            # or load anything from elsewhere.
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                "script-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "object-src 'none'; frame-ancestors 'none'; form-action 'self'",
            )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class UnreadableBodyMiddleware:
    """A POST body Django cannot parse gets our 400 page, before anything reads it again.

    A form posted with a charset other than UTF-8 (`charset=latin-1`, `utf-16`) makes every
    read of `request.POST` raise `BadRequest`; Django's 400 handler then reads it again (its
    CSRF decorator), and the second error became a 500. Here the body is parsed once, up
    front: on failure the request's POST is left empty and the answer is a 400.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 (parsing is the point)
            except (BadRequest, SuspiciousOperation, MultiPartParserError) as error:
                logger.warning("unreadable request body: %s", type(error).__name__)
                # What Django itself does after a multipart error, so later reads see nothing.
                request._mark_post_parse_error()
                return render(request, "400.html", status=400)
        return self.get_response(request)


class CacheUnavailableMiddleware:
    """What needs the cache and cannot do without it answers a clear 503 page.

    Pages that can work without the cache catch `CacheUnavailable` themselves (the dashboard
    renders uncached). What reaches here are allauth's rate limits (login, sign-up, password
    reset, two-factor codes): they fail closed, see docs/security.md ("Cache outage").
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, CacheUnavailable):
            return None
        logger.error("cache unavailable: %s %s answered 503", request.method, request.path)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response


class NoStoreForUsersMiddleware:
    """Nothing shown to a logged-in user is kept by the browser or any cache on the way
    (`Cache-Control: no-store, private`, issue 14): after logging out on a shared computer,
    Back must not bring the pages back. Static files are served by whitenoise before this
    middleware and keep their long cache lifetimes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session has ended is redirected to the login page by
    `login_required`; htmx would follow that redirect inside the XHR and swap the login page into
    the element that asked (a page inside the page). Tell the browser to go there instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        if htmx and response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location", "")
            if urlsplit(location).path == resolve_url(settings.LOGIN_URL):
                # Back to the page the person was on after logging in, not to the URL the
                # request went to (a POST-only action or a status partial).
                if htmx.current_url_abs_path:
                    location = redirect_to_login(htmx.current_url_abs_path).url
                return HttpResponseClientRedirect(location)
        return response
