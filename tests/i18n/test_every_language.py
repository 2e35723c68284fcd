"""Issue 18: every language of the site can be chosen, is remembered, and speaks in the pages,
the emails and allauth's account pages; Arabic is laid out right to left."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from connections import services
from connections.models import Connection
from tests.conftest import PASSWORD
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db

CODES = [code for code, _name in settings.LANGUAGES]
OTHERS = [code for code in CODES if code != "en"]


def words(language: str, msgid: str) -> str:
    with translation.override(language):
        return translation.gettext(msgid)


def test_the_switcher_names_each_language_in_itself(client):
    html = client.get(reverse("home")).content.decode()
    for code, name in [("ar", "العربية"), ("pl", "Polski"), ("el", "Ελληνικά"), ("de", "Deutsch")]:
        assert f'<option value="{code}" lang="{code}"' in html
        assert f">{name}</option>" in html
    assert html.count('<option value="') == len(CODES)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar-EG,ar;q=0.9", "ar"),
        ("pl-PL,pl;q=0.9,en;q=0.5", "pl"),
        ("no", "nb"),  # the site's code for Norwegian
        ("nn-NO,nn;q=0.9", "nb"),  # Nynorsk readers get Bokmål
        ("nb-NO", "nb"),
        ("sr", "sr-latn"),  # Serbian is written in Latin script here, as on the site
        ("sr-Latn-RS", "sr-latn"),
        ("pt-BR,pt;q=0.9", "pt"),
        ("el-GR", "el"),
        ("ru-RU,ru;q=0.9", "en"),  # not a language of the site
    ],
)
def test_the_browsers_language_picks_ours(client, header, expected):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=header)
    assert response.headers["Content-Language"] == expected


@pytest.mark.parametrize("language", CODES)
def test_each_language_can_be_chosen_and_is_saved(alice_client, alice, language):
    response = alice_client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 303
    alice.refresh_from_db()
    assert alice.language == language
    page = alice_client.get(reverse("home"))
    assert page.headers["Content-Language"] == language
    direction = "rtl" if language in settings.LANGUAGES_BIDI else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page.content.decode()
    assert f"<h1>{words(language, 'Dashboard')}</h1>" in page.content.decode()


@pytest.mark.parametrize("language", OTHERS)
def test_the_failure_email_is_in_the_owners_language(
    alice, language, django_capture_on_commit_callbacks
):
    alice.language = language
    alice.save()
    connection = make_connection(alice, name="MEXC Spot Main")
    Connection.objects.filter(pk=connection.pk).update(
        status="failed", problem_category="ip_not_allowed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_connection_failed(connection_id=connection.pk)
    [message] = mail.outbox
    with translation.override(language):
        subject = translation.gettext("Connection “%(name)s” failed its test") % {
            "name": "MEXC Spot Main"
        }
    english = "Connection “MEXC Spot Main” failed its test"
    assert subject != english
    assert subject in message.subject
    assert words(language, "IP not allowed") in message.body


@pytest.mark.parametrize("language", OTHERS)
def test_allauth_pages_and_their_errors_follow_the_language(client, alice, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("account_login"))
    assert page.headers["Content-Language"] == language
    response = client.post(
        reverse("account_login"), {"login": alice.email, "password": PASSWORD + "x"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    error = "The email address and/or password you specified are not correct."
    assert words(language, error) != error
    assert escape(words(language, error)) in text
    assert error not in text
    signup = client.get(reverse("account_signup")).content.decode()
    assert re.search(rf'<html lang="{language}"', signup)


def test_the_error_page_has_the_languages_direction_too():
    from django.template.loader import render_to_string

    with translation.override("ar"):
        html = render_to_string("500.html")
    assert '<html lang="ar" dir="rtl">' in html
    assert words("ar", "Something went wrong on our side") in html
