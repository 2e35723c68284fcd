from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_user_model_uses_email_as_login(django_user_model):
    user = django_user_model.objects.create_user(email="Carol@Example.COM", password=PASSWORD)
    assert django_user_model.USERNAME_FIELD == "email"
    # The whole address in lower case, as allauth compares it (issue 14).
    assert user.email == "carol@example.com"
    assert str(user) == "carol@example.com"
    assert not hasattr(user, "username") or user.username is None
    assert user.check_password(PASSWORD)


def test_superuser_is_staff(django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@example.com", password=PASSWORD)
    assert admin.is_staff and admin.is_superuser


def test_signup_creates_account_and_logs_in_once_the_email_is_confirmed(
    client, django_user_model, mailoutbox, mail_at_once
):
    response = client.post(
        reverse("account_signup"),
        {"email": "dave@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = django_user_model.objects.get(email="dave@example.com")
    assert "_auth_user_id" not in client.session
    link = re.search(r"/accounts/confirm-email/\S+/", mailoutbox[-1].body).group(0)
    assert client.post(link)["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_keeps_the_language_the_visitor_used(client, django_user_model):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.post(
        reverse("account_signup"),
        {"email": "elise@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert django_user_model.objects.get(email="elise@example.com").language == "fr"


def test_login_and_logout(client, alice):
    response = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == alice
    client.post(reverse("account_logout"))
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": "wrong"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_failed_logins_are_rate_limited(client, alice):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "alice@example.com", "password": "wrong"})
    # Even the right password is refused once the limit is reached.
    response = client.post(
        reverse("account_login"), {"login": "alice@example.com", "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()


def test_dashboard_needs_login_and_greets_the_user(client, alice):
    assert "landing.html" in [t.name for t in client.get(reverse("home")).templates]
    client.force_login(alice)
    response = client.get(reverse("home"))
    assert "dashboard.html" in [t.name for t in response.templates]
    assert "alice@example.com" in response.content.decode()


def test_account_page_requires_login(client):
    response = client.get(reverse("account"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_base_page_carries_csrf_header_for_htmx_and_local_htmx(alice_client):
    html = alice_client.get(reverse("home")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "unpkg.com" not in html and "cdn" not in html.lower()
