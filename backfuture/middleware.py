from __future__ import annotations

from django.utils.cache import add_never_cache_headers

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
