from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# Our words for allauth's ways to confirm it is you (its own say "sign-in", and "du" in German).
REAUTHENTICATION_DESCRIPTIONS = {
    "reauthenticate": _("Use your password"),
    "reauthenticate_by_code": _("Email me a code"),
    "mfa_reauthenticate": _("Use your authenticator app or a recovery code"),
}


@dataclass(frozen=True)
class Site:
    """What allauth's emails call `current_site`.

    Without django.contrib.sites allauth names the site after the request's host
    ("127.0.0.1:8000"); our emails say the product's name and the public address instead.
    """

    name: str
    domain: str


def current_site() -> Site:
    return Site(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # A new account keeps the language the visitor was already using.
        user.language = translation.get_language() or ""
        return super().save_user(request, user, form, commit=commit)

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        super().send_mail(template_prefix, email, {**context, "current_site": current_site()})

    def get_reauthentication_methods(self, user) -> list[dict]:
        methods = super().get_reauthentication_methods(user)
        for method in methods:
            method["description"] = REAUTHENTICATION_DESCRIPTIONS.get(
                method["id"], method["description"]
            )
        return methods
