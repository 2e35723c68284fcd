from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

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
        # A signed-in user's pages are never stored: "Back" (after deleting a connection, or
        # after logging out on a shared computer) asks the server again instead of showing a
        # copy of a page that no longer exists or is no longer theirs. Static files carry their
        # own Cache-Control and keep it.
        if "Cache-Control" not in response.headers and _signed_in(request):
            add_never_cache_headers(response)
        return response


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


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
