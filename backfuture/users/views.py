from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from backfuture.users.forms import LanguageForm
from backfuture.users.services import user_set_language


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; saved on the account for logged-in users."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    if not form.is_valid():
        messages.error(request, _("That language is not available."))
        return HttpResponseRedirect(next_url, status=303)
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    # No translation.activate() here: it would outlive this request on the thread; the
    # redirect's next request picks the language from the cookie or the user.
    response = HttpResponseRedirect(next_url, status=303)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
        httponly=True,
    )
    return response


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    from allauth.mfa.models import Authenticator

    has_totp = Authenticator.objects.filter(
        user=request.user, type=Authenticator.Type.TOTP
    ).exists()
    return render(
        request,
        "users/account.html",
        {"has_totp": has_totp, "languages": settings.LANGUAGES, "next": reverse("account")},
    )


def admin_login(request: HttpRequest) -> HttpResponse:
    """Stands in for the admin's own login view, which took a password alone (issue 14).

    Everyone logs in through allauth (failed-login limit, email verification, TOTP); this only
    sends them there and back. It never reads a submitted password, whatever the method, so a
    logged-in staff member cannot switch accounts here either. StaffTwoFactorMiddleware then
    makes sure staff have TOTP before any admin page opens.
    """
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if not request.user.is_authenticated:
        return HttpResponseRedirect(
            f"{reverse('account_login')}?{REDIRECT_FIELD_NAME}={quote(next_url)}"
        )
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied
    return HttpResponseRedirect(next_url)
