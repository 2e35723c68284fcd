from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from backfuture.celery import TESTS_QUEUE
from backfuture.mail import mail_send_message

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


logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The address of the client, as the outermost of our trusted proxies saw it.

    Each of the `TRUSTED_PROXY_COUNT` proxies in front of the app appends the address it got
    the request from to X-Forwarded-For, so only the last that many entries were written by
    us; anything to their left is whatever the client sent and is ignored. With 0 proxies (or
    a header that does not parse) the peer address of the connection is used.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT or 0
    if not count:
        return remote
    hops = [
        hop.strip()
        for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if hop.strip()
    ]
    if not hops:
        return remote
    # Fewer entries than proxies: the request entered behind the outer ones, and every entry
    # is still one our proxies wrote.
    candidate = hops[-count] if len(hops) >= count else hops[0]
    address = _address(candidate)
    if address is None:
        logger.warning("X-Forwarded-For entry is not an address; using REMOTE_ADDR")
        return remote
    return address


def _address(entry: str) -> str | None:
    """An address from a forwarded entry, which some load balancers write with a port
    (`203.0.113.7:5678`, `[2001:db8::1]:443`); None when it is none."""
    if entry.startswith("[") and "]" in entry:
        entry = entry[1 : entry.index("]")]
    elif entry.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has several colons
        entry = entry.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        # A new account keeps the language the visitor was already using.
        user.language = translation.get_language() or ""
        return super().save_user(request, user, form, commit=commit)

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's rate limits key on this (allauth/core/internal/ratelimit.py).
        return client_ip(request) or super().get_client_ip(request)

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # As allauth's, but queued for a worker instead of sent inside the request, and naming
        # the product rather than the request's host.
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": current_site()}
        ctx.update(context)
        # A person waits for this one: the tests' queue (backfuture/mail.py).
        mail_send_message(message=self.render_mail(template_prefix, email, ctx), queue=TESTS_QUEUE)

    def get_reauthentication_methods(self, user) -> list[dict]:
        methods = super().get_reauthentication_methods(user)
        for method in methods:
            method["description"] = REAUTHENTICATION_DESCRIPTIONS.get(
                method["id"], method["description"]
            )
        return methods
