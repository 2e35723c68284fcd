from __future__ import annotations

import os

import pytest
import responses

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def no_internet():
    """Any HTTP call through `requests` that a test did not register fails loudly.

    Tests that talk to the local exchange simulator on 127.0.0.1 opt out with
    `responses_passthrough` (see below).
    """
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.add_passthru("http://localhost")
        yield mock


@pytest.fixture
def alice(django_user_model):
    """The owner in ownership tests."""
    return django_user_model.objects.create_user(email="alice@example.com", password=PASSWORD)


@pytest.fixture
def bob(django_user_model):
    """A stranger who must never see alice's objects."""
    return django_user_model.objects.create_user(email="bob@example.com", password=PASSWORD)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    from django.test import Client

    other = Client()  # not the shared `client`: tests may use alice_client alongside
    other.force_login(bob)
    return other


def services_required() -> bool:
    """In CI the PostgreSQL/Redis tests must run; a missing service is a failure, not a skip."""
    return os.environ.get("BACKFUTURE_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def clear_cache():
    """Rate-limit counters and cooldowns live in the cache, which is shared Redis in CI."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def reset_language():
    """A request's language must not leak into the next test on the same thread."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def queued_mail(monkeypatch):
    """Mail is queued for a worker (backfuture/mail.py); here the task runs at once, so tests
    read mail from `mail.outbox`. Yields the arguments each queued task would have carried."""
    from backfuture.users.tasks import deliver_mail

    sent: list[list] = []

    def run_now(args=None, **options):
        sent.append(list(args))
        return deliver_mail.apply(args=args)

    monkeypatch.setattr(deliver_mail, "apply_async", run_now)
    return sent
