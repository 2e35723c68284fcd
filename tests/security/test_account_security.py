"""Accounts: no enumeration at sign-up, login or reset; case-insensitive emails; support staff
change their one-time password first; logged-in pages are never stored (issue 14)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, enable_totp, passed_two_factor, verify_email
from tests.security.test_admin_login import activate_totp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mail_at_once")]

NEW_PASSWORD = "a fresh passphrase of my own 77"


def sign_up(client: Client, email: str):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def confirmation_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


# --- Sign-up, login and reset answer the same for known and unknown addresses ---------------


def test_signup_answers_the_same_for_a_new_and_an_existing_email(alice):
    answers = []
    for email in ("newcomer@example.com", alice.email, "ALICE@Example.com"):
        client = Client()
        mail.outbox.clear()
        cache.clear()  # allauth mails one address at most once in 3 minutes
        response = sign_up(client, email)
        page = client.get(response["Location"])
        # The page is the same but for the CSRF token and the address the visitor typed.
        body = re.sub(
            r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"\w+"', "", page.content.decode()
        )
        body = body.replace(email.lower(), "EMAIL")
        answers.append((response.status_code, response["Location"], page.status_code, body))
        assert "_auth_user_id" not in client.session, email
        # Each address gets one mail: a confirmation link, or "you already have an account".
        assert [m.to for m in mail.outbox] == [[email.lower()]], email
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (302, reverse("account_email_verification_sent"))
    assert type(alice).objects.filter(email__iexact=alice.email).count() == 1


def test_signup_existing_email_mail_points_to_password_reset(alice):
    sign_up(Client(), alice.email)
    (message,) = mail.outbox
    assert reverse("account_reset_password") in message.body
    assert "/accounts/confirm-email/" not in message.body


def test_new_account_logs_in_after_confirming_the_email(client, django_user_model):
    sign_up(client, "dave@example.com")
    user = django_user_model.objects.get(email="dave@example.com")
    assert "_auth_user_id" not in client.session
    link = confirmation_link(mail.outbox[-1])
    response = client.post(link)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified


def test_login_answers_the_same_for_an_unknown_email_and_a_wrong_password(alice):
    answers = []
    for email in (alice.email, "nobody@example.com"):
        response = Client().post(reverse("account_login"), {"login": email, "password": "wrong"})
        answers.append((response.status_code, response.context["form"].errors))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200


def test_password_reset_answers_the_same_for_an_unknown_email(alice):
    answers = []
    for email in (alice.email, "nobody@example.com"):
        response = Client().post(reverse("account_reset_password"), {"email": email})
        answers.append((response.status_code, response["Location"]))
    assert answers[0] == answers[1] == (302, reverse("account_reset_password_done"))


# --- Emails are normalised and compared without regard to case ------------------------------


def test_emails_are_stored_in_lower_case_from_every_entry_point(django_user_model):
    assert django_user_model.objects.create_user(email="Carol@Example.COM").email == (
        "carol@example.com"
    )
    call_command("create_support_user", "Help@BackFuture.Example", stdout=StringIO())
    assert django_user_model.objects.filter(email="help@backfuture.example").exists()


def test_the_database_refuses_an_email_with_capitals(django_user_model, alice):
    # So two accounts can never differ only in case, and every exact lookup is case-blind.
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model.objects.filter(pk=alice.pk).update(email="Alice@Example.com")


def test_admin_form_normalises_the_email(admin_client, admin_user, alice, django_user_model):
    enable_totp(admin_user)
    passed_two_factor(admin_client, admin_user)
    response = admin_client.post(
        reverse("admin:users_user_add"),
        {"email": "ALICE@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200  # refused: alice@example.com exists
    assert django_user_model.objects.filter(email__iexact="alice@example.com").count() == 1


def test_login_ignores_the_case_of_the_email(client, alice):
    client.post(reverse("account_login"), {"login": "ALICE@Example.COM", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_support_user_created_with_capitals_logs_in_and_resets_in_lower_case():
    out = StringIO()
    call_command("create_support_user", "Helper@Example.com", stdout=out)
    one_time = re.search(r"One-time password: (\S+)", out.getvalue()).group(1)
    client = Client()
    client.post(reverse("account_login"), {"login": "helper@example.com", "password": one_time})
    # Found (the answer is the verification step, not "wrong password").
    assert mail.outbox and mail.outbox[-1].to == ["helper@example.com"]
    mail.outbox.clear()
    Client().post(reverse("account_reset_password"), {"email": "HELPER@example.com"})
    (message,) = mail.outbox
    assert "/accounts/password/reset/key/" in message.body


def test_signup_with_other_case_of_an_address_created_by_staff_makes_no_second_account(
    django_user_model,
):
    django_user_model.objects.create_superuser(email="Dora@Example.com", password=PASSWORD)
    response = sign_up(Client(), "dora@example.com")
    assert response["Location"] == reverse("account_email_verification_sent")
    assert django_user_model.objects.filter(email__iexact="dora@example.com").count() == 1


# --- Support staff change their one-time password before anything else ----------------------


def create_support(email: str = "help@backfuture.example") -> str | None:
    out = StringIO()
    call_command("create_support_user", email, stdout=out)
    found = re.search(r"One-time password: (\S+)", out.getvalue())
    return found and found.group(1)


def test_support_first_login_verifies_email_changes_password_then_sets_up_totp(
    client, django_user_model, totp_clock
):
    one_time = create_support()
    support = django_user_model.objects.get(email="help@backfuture.example")
    assert support.must_change_password

    # 1. The one-time password opens nothing until the address is confirmed.
    client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": support.email, "password": one_time, "next": "/admin/"},
    )
    assert "_auth_user_id" not in client.session
    client.post(confirmation_link(mail.outbox[-1]))
    assert client.session["_auth_user_id"] == str(support.pk)

    # 2. Every page sends them to change the password first.
    for url in ("/", "/admin/", reverse("account"), reverse("connections:list")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("account_change_password"), url
    htmx = client.get(reverse("connections:list"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == reverse("account_change_password")
    page = client.get(reverse("account_change_password"))
    assert page.status_code == 200
    assert "Choose a new password before you continue" in page.content.decode()
    client.post(
        reverse("account_change_password"),
        {"oldpassword": one_time, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    support.refresh_from_db()
    assert not support.must_change_password and support.check_password(NEW_PASSWORD)

    # 3. Changing the password ended the session; the new password logs in, then TOTP setup.
    client.post(reverse("account_login"), {"login": support.email, "password": NEW_PASSWORD})
    assert client.get("/").status_code == 200
    assert client.get("/admin/")["Location"] == reverse("mfa_activate_totp")
    activate_totp(client, NEW_PASSWORD)
    assert client.get("/admin/").status_code == 200


def test_password_reset_also_clears_the_forced_change(django_user_model):
    create_support()
    support = django_user_model.objects.get(email="help@backfuture.example")
    client = Client()
    client.post(reverse("account_reset_password"), {"email": support.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    form_url = client.get(link.group(1))["Location"]
    client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    support.refresh_from_db()
    assert support.check_password(NEW_PASSWORD) and not support.must_change_password


def test_promoting_an_existing_user_keeps_their_password_and_forces_nothing(alice):
    assert create_support(alice.email) is None
    alice.refresh_from_db()
    assert alice.is_staff and not alice.must_change_password and alice.check_password(PASSWORD)


# --- Logged-in pages are never stored by the browser or a proxy -----------------------------


def test_every_page_for_a_logged_in_user_says_no_store(alice_client, alice):
    from tests.connections.factories import make_connection

    connection = make_connection(alice)
    urls = [
        reverse("home"),
        reverse("account"),
        reverse("connections:list"),
        reverse("connections:new"),
        reverse("connections:detail", args=[connection.pk]),
        reverse("connections:status", args=[connection.pk]),
        reverse("strategies:list"),
        reverse("account_change_password"),
        reverse("mfa_index"),
        "/no-such-page/",
    ]
    for url in urls:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = alice_client.get(url, **headers)
            assert "no-store" in response["Cache-Control"], url
            assert "private" in response["Cache-Control"], url
    posted = alice_client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert "no-store" in posted["Cache-Control"]


def test_admin_pages_say_no_store(client, admin_user):
    enable_totp(admin_user)
    client.force_login(admin_user)
    passed_two_factor(client, admin_user)
    for url in ("/admin/", reverse("admin:users_user_changelist")):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


def test_static_files_and_anonymous_pages_stay_cacheable(alice_client):
    static = alice_client.get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    assert alice_client.get(reverse("healthz")).status_code == 200
    assert "no-store" not in Client().get(reverse("home")).get("Cache-Control", "")


# --- The demo login that `scripts/dev run` prints still logs in -----------------------------


def test_devserver_demo_login_works_with_mandatory_verification(
    client, django_user_model, settings, tmp_path
):
    from backfuture.users.management.commands.devserver import DEMO_EMAIL, Command

    settings.VAR_DIR = tmp_path  # where the demo password is kept

    password = Command()._demo_user()
    response = client.post(reverse("account_login"), {"login": DEMO_EMAIL, "password": password})
    assert response["Location"] == reverse("home")
    user = django_user_model.objects.get(email=DEMO_EMAIL)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not mail.outbox  # no verification mail: the demo address is confirmed


def test_a_forced_change_cannot_keep_the_one_time_password(client, django_user_model):
    """Found in review: changing the one-time password to itself cleared the flag and kept
    the password an operator's terminal had printed."""
    user = django_user_model.objects.create_user(email="help@example.com", password=PASSWORD)
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    verify_email(user)
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "Choose a new password, different from your current one." in response.content.decode()
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(PASSWORD)
    # A real change clears it.
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)


def test_a_reset_cannot_set_the_same_password_again(client, alice):
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    url = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(alice),
            "key": default_token_generator.make_token(alice),
        },
    )
    form_url = client.get(url)["Location"]  # allauth moves the key into the session
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    assert "different from your current one" in response.content.decode()
