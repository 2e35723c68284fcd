"""A form posted in a charset Django will not parse answers our 400 page, not a 500
(issue 14, point 8).

Django raises BadRequest for a urlencoded body that is not UTF-8; its 400 handler then read
`request.POST` again (through its CSRF decorator) and the second error was a 500. Checked with
DEBUG off and CSRF enforced, as production runs.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from connections.models import Connection
from tests.conftest import PASSWORD
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db

CONTENT_TYPES = [
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=ISO-8859-1",
    "multipart/form-data; charset=utf-8",  # no boundary
    "multipart/form-data; boundary=",
]


@pytest.fixture
def browser(settings):
    """A client as a browser is: CSRF enforced, the token in its cookie and header."""
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get(reverse("account_login"))
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def post(client: Client, url: str, content_type: str):
    token = client.defaults["HTTP_X_CSRFTOKEN"]
    # The test client encodes the body in the content type's charset.
    body = f"name=caf\xe9&email=a@example.com&csrfmiddlewaretoken={token}"
    return client.post(url, data=body, content_type=content_type)


def assert_bad_request(response) -> None:
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bad request" in html and "nothing was changed" in html
    assert 'href="/static/css/app.css"' in html  # our page, not Django's plain one


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize(
    "name", ["account_login", "account_signup", "account_reset_password", "set_language"]
)
def test_anonymous_forms_answer_400(browser, name, content_type):
    assert_bad_request(post(browser, reverse(name), content_type))


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_logged_in_forms_answer_400_and_change_nothing(browser, alice, content_type):
    browser.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert browser.session.get("_auth_user_id") == str(alice.pk)
    connection = make_connection(alice, name="Main")
    for url in (
        reverse("connections:new"),
        reverse("connections:rename", args=[connection.pk]),
        reverse("connections:delete", args=[connection.pk]),
        reverse("strategies:new"),
        reverse("account_change_password"),
        reverse("account_logout"),
    ):
        assert_bad_request(post(browser, url, content_type))
    connection.refresh_from_db()
    assert connection.name == "Main"
    assert Connection.objects.count() == 1
    # Still logged in: the logout form was not read either.
    assert browser.get(reverse("account")).status_code == 200


def test_a_utf8_form_still_works(browser, alice):
    response = browser.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
