from __future__ import annotations

from urllib.parse import quote

from allauth.account.internal.flows.login import (
    get_authentication_records,
    record_authentication,
)
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

# Where a staff member was going when they were sent to set up TOTP.
STAFF_NEXT_SESSION_KEY = "backfuture.staff_two_factor_next"


class UserLanguageMiddleware:
    """Activate a logged-in user's saved language.

    LocaleMiddleware has already picked a language from the cookie or the browser's
    Accept-Language; for a user with a saved preference that preference wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        language = getattr(request, "_set_language_cookie", None)
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
                httponly=True,
            )
        return response


def _add_message_once(request: HttpRequest, level: int, text: str) -> None:
    """Several redirected requests in a row must not pile up the same message."""
    storage = messages.get_messages(request)
    already = any(str(message.message) == str(text) for message in storage)
    storage.used = False  # iterating marked them shown; they are not yet
    if not already:
        messages.add_message(request, level, text)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.headers.get("HX-Request") == "true":
        # htmx would swap the target page into the element; make the browser go there.
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


class PasswordChangeRequiredMiddleware:
    """Someone logged in with a one-time password (create_support_user) chooses their own
    password before any other page opens. allauth's password-changed and password-reset
    signals clear the flag (backfuture/users/signals.py)."""

    ALLOWED = frozenset({"account_change_password", "account_logout", "set_language"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.must_change_password:
            try:
                url_name = resolve(request.path_info).url_name
            except Resolver404:
                url_name = None
            if url_name not in self.ALLOWED:
                _add_message_once(
                    request,
                    messages.WARNING,
                    _(
                        "You logged in with a one-time password. Choose a new password before "
                        "you continue."
                    ),
                )
                return _redirect(request, reverse("account_change_password"))
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """No admin page opens for staff or superusers without TOTP (issue 14, finding 1).

    A staff member without it is sent to allauth's setup page; once it is on, the page after
    the setup (the recovery codes) offers a link back to where they were going. Owning TOTP is
    not enough: this session must have passed it (allauth's authentication records), so a
    session that logged in with the password alone (before TOTP was set up, or through the old
    admin login) is sent to confirm a code first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        is_staff = user.is_authenticated and (user.is_staff or user.is_superuser)
        if is_staff and self._is_guarded(request.path) and not self._has_totp(user):
            request.session[STAFF_NEXT_SESSION_KEY] = request.get_full_path()
            _add_message_once(
                request,
                messages.WARNING,
                _(
                    "Staff accounts must use two-factor authentication. Set up an "
                    "authenticator app to open the admin."
                ),
            )
            return _redirect(request, reverse("mfa_activate_totp"))
        if is_staff and self._is_guarded(request.path) and not self._passed_totp(request):
            return _redirect(
                request,
                f"{reverse('mfa_reauthenticate')}?{REDIRECT_FIELD_NAME}="
                f"{quote(request.get_full_path())}",
            )
        response = self.get_response(request)
        if is_staff and STAFF_NEXT_SESSION_KEY in request.session:
            self._offer_way_back(request, response)
        return response

    @staticmethod
    def _is_guarded(path: str) -> bool:
        # The admin's login is our redirect to allauth; its logout must always work.
        return path.startswith(reverse("admin:index")) and path not in (
            reverse("admin:login"),
            reverse("admin:logout"),
        )

    @staticmethod
    def _has_totp(user) -> bool:
        return is_mfa_enabled(user, [Authenticator.Type.TOTP])

    @staticmethod
    def _passed_totp(request: HttpRequest) -> bool:
        records = get_authentication_records(request, request.user)
        return any(record.get("method") == "mfa" for record in records)

    def _offer_way_back(self, request: HttpRequest, response: HttpResponse) -> None:
        activated = (
            request.method == "POST"
            and response.status_code == 302
            and request.resolver_match is not None
            and request.resolver_match.url_name == "mfa_activate_totp"
            and self._has_totp(request.user)
        )
        if not activated:
            return
        # Activating took a valid code from the new authenticator: this session has passed it.
        record_authentication(request, request.user, "mfa", type=Authenticator.Type.TOTP)
        next_url = request.session.pop(STAFF_NEXT_SESSION_KEY)
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index")
        messages.success(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Save your recovery codes somewhere safe, then continue to the admin."),
                next_url,
                _("Continue"),
            ),
        )
