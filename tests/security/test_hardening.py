"""Transport and session hardening: headers, cookies, login limits, sessions, two-factor login."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from django.test import Client
from django.urls import reverse

from backfuture.middleware import CONTENT_SECURITY_POLICY
from tests.conftest import PASSWORD
from tests.foundation.test_settings import PRODUCTION_ENV

pytestmark = pytest.mark.django_db


def test_security_headers_on_every_page(client, alice):
    for url in (reverse("home"), reverse("account_login")):
        response = client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_csp_allows_only_our_own_scripts_and_styles():
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_or_style_that_csp_would_block(alice_client):
    from connections.models import Connection  # noqa: F401  (pages below exist)

    for url in (
        reverse("home"),
        reverse("connections:list"),
        reverse("connections:new"),
        reverse("connections:new") + "?exchange=kucoin",
        reverse("account"),
    ):
        html = alice_client.get(url).content.decode()
        assert "<script>" not in html and " style=" not in html and "<style" not in html, url
        assert " on" + "click=" not in html


def test_hsts_and_https_redirect_in_production(settings, client):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("home"))
    assert response.status_code == 301 and response["Location"].startswith("https://")
    secure = client.get(reverse("home"), secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_production_cookies_are_secure_httponly_samesite():
    import os
    import subprocess
    import sys

    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        "s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SAMESITE,"
        "s.LANGUAGE_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django;django.setup();{code}"],
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "backfuture.settings",
            **PRODUCTION_ENV,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "Lax",
        "True",
        "True",
        "Lax",
        "True",
        "31536000",
    ]


def test_session_cookie_flags_on_login(client, alice, settings):
    settings.SESSION_COOKIE_SECURE = True
    client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD}, secure=True)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"


def test_sessions_end_on_password_change(alice):
    first, second = Client(), Client()
    for c in (first, second):
        c.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
        assert c.get(reverse("account")).status_code == 200
    new = "an entirely new passphrase 99"
    first.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    alice.refresh_from_db()
    assert alice.check_password(new)
    # The other browser's session is no longer valid.
    assert second.get(reverse("account")).status_code == 302


def test_enabled_totp_is_required_at_login(client, alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # Password alone does not log in.
    assert client.get(reverse("account")).status_code == 302
    client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "_auth_user_id" not in client.session and wrong.status_code == 200
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value

    counter = int(time.time()) // 30
    code = format_hotp_value(hotp_value(secret, counter))
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.get(reverse("account")).status_code == 200


def test_account_page_shows_two_factor_state(alice_client, alice):
    assert "Off" in alice_client.get(reverse("account")).content.decode()
    TOTP.activate(alice, generate_totp_secret())
    assert (
        '<span class="badge ok">On</span>' in alice_client.get(reverse("account")).content.decode()
    )
