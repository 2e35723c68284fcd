"""The admin is reached only through allauth's login, with two-factor authentication (issue 14,
findings 1 and 2)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, enable_totp, totp_code, verify_email

pytestmark = pytest.mark.django_db

ADMIN_PAGE = "/admin/connections/connection/"


@pytest.fixture
def staff(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        email="staff@example.com", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="Support"))
    verify_email(user)
    return user


@pytest.fixture
def superuser(django_user_model):
    user = django_user_model.objects.create_superuser(email="root@example.com", password=PASSWORD)
    verify_email(user)
    return user


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def allauth_login(client: Client, email: str, *, next_url: str = ""):
    url = reverse("account_login") + (f"?next={quote(next_url)}" if next_url else "")
    return client.post(url, {"login": email, "password": PASSWORD, "next": next_url})


def reauthenticate(client: Client, password: str = PASSWORD):
    """allauth asks for the password again before TOTP is switched on or off."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def activate_totp(client: Client, password: str = PASSWORD):
    """Set up an authenticator app the way a person does; returns the activation answer."""
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302:
        assert page["Location"].startswith(reverse("account_reauthenticate"))
        reauthenticate(client, password)
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    return client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_password_alone_does_not_log_in_at_the_admin_login(client, request, who):
    user = request.getfixturevalue(who)
    enable_totp(user)
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": user.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert not logged_in(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=/admin/"
    assert client.get("/admin/").status_code == 302


def test_admin_login_page_sends_to_allauth_keeping_next(client):
    response = client.get(reverse("admin:login") + "?next=" + quote(ADMIN_PAGE))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=" + quote(ADMIN_PAGE)
    # An admin page asked for anonymously ends at the same place.
    followed = client.get(ADMIN_PAGE, follow=True)
    assert followed.redirect_chain[-1][0] == reverse("account_login") + "?next=" + quote(ADMIN_PAGE)


def test_admin_login_page_refuses_a_foreign_next(client):
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert response["Location"] == reverse("account_login") + "?next=/admin/"


def test_admin_login_with_totp_goes_through_allauth(client, staff, totp_clock):
    secret = enable_totp(staff)
    response = allauth_login(client, staff.email, next_url=ADMIN_PAGE)
    assert response["Location"] == reverse("mfa_authenticate")
    assert not logged_in(client)
    assert client.get(ADMIN_PAGE).status_code == 302
    wrong = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, step=5)})
    assert wrong.status_code == 200 and not logged_in(client)
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done["Location"] == ADMIN_PAGE
    assert client.get(ADMIN_PAGE).status_code == 200


def test_a_session_that_never_passed_totp_must_pass_it_before_the_admin(client, staff, totp_clock):
    """Owning TOTP is not enough: a session that logged in with the password alone (before
    TOTP was set up elsewhere, or through the old admin login) confirms a code first."""
    secret = enable_totp(staff)
    client.force_login(staff)  # Django's plain login, as the old /admin/login/ did
    response = client.get(ADMIN_PAGE)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_reauthenticate") + "?next=" + quote(ADMIN_PAGE)
    wrong = client.post(
        reverse("mfa_reauthenticate"), {"code": totp_code(secret, step=5), "next": ADMIN_PAGE}
    )
    assert wrong.status_code == 200
    assert client.get(ADMIN_PAGE).status_code == 302
    done = client.post(
        reverse("mfa_reauthenticate"), {"code": totp_code(secret), "next": ADMIN_PAGE}
    )
    assert done["Location"] == ADMIN_PAGE
    assert client.get(ADMIN_PAGE).status_code == 200


def test_staff_without_totp_is_sent_to_set_it_up_then_continues(client, staff, totp_clock):
    allauth_login(client, staff.email, next_url=ADMIN_PAGE)
    assert logged_in(client)
    # No admin page opens before TOTP is on, not even the index.
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_activate_totp")
    response = client.get(ADMIN_PAGE)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")

    # allauth first asks for the password again (its reauthentication), then shows the setup.
    shown = client.get(reverse("mfa_activate_totp"), follow=True)
    assert "Staff accounts must use two-factor authentication" in shown.content.decode()
    activated = activate_totp(client)
    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=staff, type="totp").exists()

    # The next page (allauth's recovery codes) offers the way back to where they were going.
    codes = client.get(activated["Location"])
    assert codes.status_code == 200
    assert f'href="{ADMIN_PAGE}"' in codes.content.decode()
    assert client.get(ADMIN_PAGE).status_code == 200


def test_superuser_without_totp_is_sent_to_set_it_up(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("admin:users_user_changelist"))["Location"] == reverse(
        "mfa_activate_totp"
    )


def test_non_staff_never_reaches_the_admin(client, alice):
    enable_totp(alice)
    client.force_login(alice)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert client.post(reverse("admin:login"), {"username": alice.email}).status_code == 403
    assert client.get(ADMIN_PAGE, follow=True).status_code == 403


def test_staff_logged_in_at_the_admin_login_goes_on_to_next(client, staff):
    enable_totp(staff)
    client.force_login(staff)
    response = client.get(reverse("admin:login") + "?next=" + quote(ADMIN_PAGE))
    assert response["Location"] == ADMIN_PAGE
    # A logged-in staff member cannot switch accounts there with a password either.
    other = type(staff).objects.create_user(email="x@example.com", password=PASSWORD)
    client.post(reverse("admin:login"), {"username": other.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(staff.pk)


def login_with_totp(client: Client, user, secret: str) -> None:
    allauth_login(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert logged_in(client)


def test_staff_cannot_deactivate_totp_even_after_reauthenticating(client, staff, totp_clock):
    login_with_totp(client, staff, enable_totp(staff))
    reauthenticate(client)
    page = client.get(reverse("mfa_deactivate_totp"))
    assert page.status_code == 200
    assert "Staff accounts must keep two-factor authentication" in page.content.decode()
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=staff, type="totp").exists()


def test_deactivating_totp_asks_for_reauthentication(client, alice, totp_clock):
    # Even right after a full login with TOTP: only a re-authentication counts.
    login_with_totp(client, alice, enable_totp(alice))
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Authenticator.objects.filter(user=alice, type="totp").exists()


def test_a_user_who_is_not_staff_can_still_deactivate_totp(client, alice, totp_clock):
    login_with_totp(client, alice, enable_totp(alice))
    reauthenticate(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=alice, type="totp").exists()


def test_wrong_passwords_through_the_admin_entry_point_hit_the_login_limit(client, staff):
    enable_totp(staff)
    for _ in range(5):
        login_url = client.get(reverse("admin:login") + "?next=/admin/")["Location"]
        response = client.post(login_url, {"login": staff.email, "password": "wrong"})
        assert response.status_code == 200
    login_url = client.get(reverse("admin:login") + "?next=/admin/")["Location"]
    response = client.post(login_url, {"login": staff.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert response.context["form"].errors
    assert not logged_in(client)
    assert "mfa_authenticate" not in response.get("Location", "")
