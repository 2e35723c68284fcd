"""The account pages (allauth) look and speak like the rest of the app (issue 19, point 11):
our layout, "Log in" everywhere, and German in the formal "Sie"."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "de", "fr"]
# "du", "dein…", "dir", "dich" and the informal imperatives allauth's German uses.
INFORMAL_GERMAN = re.compile(
    r"\b(du|dein\w*|dir|dich|gib|habe|bestätige|melde dich|erstelle|kannst|hast|bist|möchtest)\b",
    re.IGNORECASE,
)


class VisibleText(HTMLParser):
    """The text a person reads: no scripts, styles or attribute values except titles/labels."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in {"placeholder", "title", "aria-label", "alt", "data-confirm"} and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def get(client, url: str, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url, follow=False)
    assert response.status_code == 200, (url, language, response.status_code)
    return response.content.decode()


def reset_key_url(user) -> str:
    key = default_token_generator.make_token(user)
    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )


def anonymous_pages(alice):
    # The `alice` fixture's address is confirmed; the confirmation page needs one that is not.
    address, _ = EmailAddress.objects.update_or_create(
        user=alice, email=alice.email, defaults={"primary": True, "verified": False}
    )
    return {
        "login": reverse("account_login"),
        "signup": reverse("account_signup"),
        "password reset": reverse("account_reset_password"),
        "password reset sent": reverse("account_reset_password_done"),
        "password reset done": reverse("account_reset_password_from_key_done"),
        "bad reset link": reverse(
            "account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "bad-key"}
        ),
        "email verification sent": reverse("account_email_verification_sent"),
        "confirm email": reverse(
            "account_confirm_email", args=[EmailConfirmationHMAC(address).key]
        ),
        "bad confirmation link": reverse("account_confirm_email", args=["bad-key"]),
        "account inactive": reverse("account_inactive"),
    }


def logged_in_pages():
    return {
        "log out": reverse("account_logout"),
        "change password": reverse("account_change_password"),
        "email addresses": reverse("account_email"),
        "reauthenticate": reverse("account_reauthenticate"),
        "reauthenticate by code": reverse("account_request_reauthentication_code"),
        "two-factor": reverse("mfa_index"),
        "activate authenticator": reverse("mfa_activate_totp"),
    }


def with_totp_pages():
    return {
        "two-factor (on)": reverse("mfa_index"),
        "deactivate authenticator": reverse("mfa_deactivate_totp"),
        "recovery codes": reverse("mfa_view_recovery_codes"),
        "generate recovery codes": reverse("mfa_generate_recovery_codes"),
        "reauthenticate with code": reverse("mfa_reauthenticate"),
    }


def assert_our_page(html: str, language: str, name: str) -> None:
    assert 'class="site-header"' in html, f"{name} ({language}) is not in our layout"
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert f'<html lang="{language}" dir="ltr">' in html
    text = visible_text(html)
    assert not re.search(r"\bSign[ -]?In\b", text, re.IGNORECASE), f"{name}: {text}"
    assert not re.search(r"\bSign[ -]?Out\b", text, re.IGNORECASE), f"{name}: {text}"
    if language == "de":
        assert not INFORMAL_GERMAN.search(text), f"{name}: {INFORMAL_GERMAN.search(text)[0]}"


def in_our_german_catalogue(msgid: str) -> bool:
    import polib

    catalogue = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"
    return any(e.msgid == msgid and e.msgstr for e in polib.pofile(str(catalogue)))


def assert_formal_where_translated(client, url: str, msgid: str, params: dict | None = None):
    """The German catalogue has our sentence, and the page says it, with "Sie"."""
    with translation.override("de"):
        german = translation.gettext(msgid)
    text = visible_text(get(client, url, "de"))
    assert not INFORMAL_GERMAN.search(text), text
    assert german != msgid, f"not in the German catalogue: {msgid}"
    assert re.search(r"\b(Sie|Ihr\w*)\b", german), german
    assert visible_text(german % (params or {})) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_account_page_uses_our_layout_and_wording(client, alice, language):
    for name, url in anonymous_pages(alice).items():
        assert_our_page(get(client, url, language), language, name)
    valid_reset = client.get(reset_key_url(alice))  # allauth moves the key into the session
    assert valid_reset.status_code == 302
    assert_our_page(get(client, valid_reset["Location"], language), language, "new password")

    EmailAddress.objects.filter(user=alice).update(verified=True)  # 2FA needs a verified one
    client.force_login(alice)
    # Setting up 2FA asks the person to confirm it is them first.
    reauthenticated = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert reauthenticated.status_code == 302
    for name, url in logged_in_pages().items():
        assert_our_page(get(client, url, language), language, name)

    TOTP.activate(alice, generate_totp_secret())
    RecoveryCodes.activate(alice)
    for name, url in with_totp_pages().items():
        assert_our_page(get(client, url, language), language, name)

    client.logout()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert_our_page(get(client, reverse("mfa_authenticate"), language), language, "2FA login")


def test_login_says_log_in_in_title_heading_and_button(client):
    html = get(client, reverse("account_login"), "en")
    assert "<title>Log in · BackFuture</title>" in html
    assert "<h1>Log in</h1>" in html
    assert re.search(r'<button type="submit" class="primary">Log in</button>', html)


def test_german_account_pages_address_the_person_as_sie(client, alice):
    assert_formal_where_translated(
        client,
        reverse("account_login"),
        'No account yet? <a href="%(url)s">Sign up</a> first.',
        {"url": reverse("account_signup")},
    )
    assert_formal_where_translated(
        client,
        reverse("account_reset_password"),
        "Enter the email address of your account. We will send you a link to choose a new "
        "password.",
    )
    # allauth's own error, re-translated by our catalogue (backfuture/users/allauth_strings.py);
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    text = visible_text(response.content.decode())
    assert "Passwort (Wiederholung)" in text  # the error is there, beside its field
    assert in_our_german_catalogue("You must type the same password each time.")
    assert not INFORMAL_GERMAN.search(text), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_invalid_login_shows_the_error_in_a_summary_and_keeps_the_email(client, alice, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(reverse("account_login"), {"login": alice.email, "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="problem error-summary" role="alert"' in html
    assert f'value="{alice.email}"' in html
    assert_our_page(html, language, "login with errors")


def test_signup_errors_sit_beside_their_fields(client, alice):
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-email", "password1": "short", "password2": "other"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="field has-error"' in html
    assert "Enter a valid email address." in html
    assert '<a href="#id_email">' in html  # the summary links to the field


def test_re_translated_allauth_sentences_are_allauths_exact_msgids():
    """A typo would give our catalogue a sentence allauth never asks for."""
    import allauth
    import polib

    from backfuture.users.allauth_strings import ALLAUTH_MSGIDS

    catalogue = Path(allauth.__file__).parent / "locale" / "de" / "LC_MESSAGES" / "django.po"
    msgids = {entry.msgid for entry in polib.pofile(str(catalogue))}
    assert set(ALLAUTH_MSGIDS) <= msgids
