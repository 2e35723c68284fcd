from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_gets_the_browser_language(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert response.headers["Content-Language"] == "de"


def test_anonymous_switch_sets_cookie(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 303
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert client.get("/").headers["Content-Language"] == "fr"


def test_switch_saves_preference_for_logged_in_user(alice_client, alice):
    alice_client.post(reverse("set_language"), {"language": "de", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == "de"


def test_saved_language_wins_over_browser_after_login(client, alice):
    alice.language = "fr"
    alice.save()
    client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de")
    assert response.headers["Content-Language"] == "fr"


def test_language_preference_survives_logout_and_login(client, alice):
    client.force_login(alice)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    client.post(reverse("account_logout"))
    client.cookies.clear()
    client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert client.get(reverse("home")).headers["Content-Language"] == "de"


def test_unknown_language_is_refused_without_error(client):
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 303
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_open_redirect_is_refused(client):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_set_language_rejects_get(client):
    assert client.get(reverse("set_language")).status_code == 405
