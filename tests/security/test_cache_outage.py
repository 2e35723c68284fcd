"""With the cache unreachable nothing answers 500 (issue 14, point 5).

Pages that work without the cache serve uncached; allauth's rate limits (login, sign-up,
password reset) fail closed with our 503 page; connection tests fail closed too (their shared
exchange budget lives in the cache) and end as a clear temporary failure after their retries.
The cache points at a closed port with a short socket timeout.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from backfuture.cache import CacheUnavailable
from connections import services, tasks, throttle
from connections.exchanges.base import TemporaryExchangeError
from tests.conftest import PASSWORD
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db

UNAVAILABLE = "Temporarily unavailable"


@pytest.fixture
def cache_down(settings):
    settings.DEBUG = False
    settings.CACHES = {
        "default": {
            "BACKEND": "backfuture.cache.SignedRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with pytest.raises(CacheUnavailable):
        cache.get("anything")


def test_the_dashboard_works_uncached(cache_down, alice_client, alice):
    make_connection(alice, name="Main account")
    response = alice_client.get(reverse("home"))
    assert response.status_code == 200
    assert "Main account" in response.content.decode()


@pytest.mark.parametrize(
    "name",
    ["home", "connections:list", "connections:new", "strategies:list", "strategies:new", "account"],
)
def test_logged_in_pages_work(cache_down, alice_client, name):
    assert alice_client.get(reverse(name)).status_code == 200


def test_the_strategy_form_works_without_its_refresh_marker(cache_down, alice_client, alice):
    connection = make_connection(alice)
    response = alice_client.get(reverse("strategies:new") + f"?connection={connection.pk}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name", ["account_login", "account_signup", "account_reset_password", "home"]
)
def test_anonymous_pages_open(cache_down, client, name):
    assert client.get(reverse(name)).status_code == 200


def test_login_fails_closed_with_a_clear_503(cache_down, client, alice):
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert UNAVAILABLE in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("name", "data"),
    [
        (
            "account_signup",
            {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        ),
        ("account_reset_password", {"email": "alice@example.com"}),
    ],
)
def test_signup_and_password_reset_fail_closed_with_a_clear_503(
    cache_down, client, alice, name, data, django_user_model, queued_mail
):
    response = client.post(reverse(name), data)
    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()
    assert not django_user_model.objects.filter(email="new@example.com").exists()
    assert queued_mail == []


def test_the_503_page_speaks_the_users_language(cache_down, client, alice, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 503
    assert '<html lang="de" dir="ltr">' in response.content.decode()


def test_test_button_still_starts_a_test(
    cache_down, alice_client, alice, monkeypatch, django_capture_on_commit_callbacks
):
    # Its cooldown is read from the database, not the cache.
    started: list[int] = []
    monkeypatch.setattr(
        services, "_enqueue_check", lambda check_id, **options: started.append(check_id)
    )
    connection = make_connection(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("connections:test", args=[connection.pk]))
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.status == "testing"
    assert started == [connection.current_check_id]


def test_the_exchange_budget_fails_closed(cache_down):
    with pytest.raises(TemporaryExchangeError) as raised:
        throttle.take_slot("mexc", recheck=False, max_wait=None)
    assert raised.value.category == "exchange_unavailable"


def test_a_connection_test_ends_failed_after_its_retries_not_stuck(cache_down, alice, no_internet):
    connection = make_connection(alice)
    check = services.connection_request_check(connection=connection, trigger="user", enqueue=False)
    tasks.connection_check.apply(args=[check.pk])  # eager: every retry runs here
    check.refresh_from_db()
    connection.refresh_from_db()
    assert connection.status == "failed"
    assert connection.problem_category == "exchange_unavailable"
    assert check.state == "finished" and check.verdict == "failed"
    assert not no_internet.calls  # the exchange was never called unpaced
