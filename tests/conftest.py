from __future__ import annotations

import os
import types
from collections import Counter

import pytest
import responses

PASSWORD = "correct horse battery staple 42"
# TOTP codes are computed for this instant (see `totp_clock`), so a test never depends on the
# 30-second window it happens to run in.
TOTP_NOW = 1_800_000_000.0


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
    """The owner in ownership tests (a signed-up account with a confirmed address)."""
    user = django_user_model.objects.create_user(email="alice@example.com", password=PASSWORD)
    verify_email(user)
    return user


@pytest.fixture
def bob(django_user_model):
    """A stranger who must never see alice's objects."""
    user = django_user_model.objects.create_user(email="bob@example.com", password=PASSWORD)
    verify_email(user)
    return user


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
def cold_skew_memory():
    """The clock skews a process remembers per exchange host (connections/exchanges/http.py,
    `SKEWS`) would let one test's measurement sign the next test's calls: every test starts
    cold, as a fresh worker does."""
    from connections.exchanges.http import SKEWS

    SKEWS.clear()
    yield
    SKEWS.clear()


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
    read mail from `mail.outbox`. Yields the arguments each queued task would have carried;
    `.queues` the queue each was published on (None: the default)."""
    from backfuture.users.tasks import deliver_mail

    class Queued(list):
        queues: list[str | None]

    sent = Queued()
    sent.queues = []

    def run_now(args=None, **options):
        sent.append(list(args))
        sent.queues.append(options.get("queue"))
        return deliver_mail.apply(args=args)

    monkeypatch.setattr(deliver_mail, "apply_async", run_now)
    return sent


@pytest.fixture
def mail_at_once(monkeypatch):
    """Queued mail leaves as soon as it is queued, as if each request's transaction had
    committed (pytest-django's test transaction never commits, so on-commit mail never would).
    Only `backfuture.mail` sees this; every other on-commit callback behaves as usual."""
    import types

    from backfuture import mail as mail_module

    monkeypatch.setattr(
        mail_module, "transaction", types.SimpleNamespace(on_commit=lambda fn, **kw: fn())
    )


@pytest.fixture
def totp_clock(monkeypatch):
    """Freeze allauth's TOTP clock at TOTP_NOW; `totp_code(secret)` is then valid."""
    from allauth.mfa.totp.internal import auth

    monkeypatch.setattr(auth, "time", types.SimpleNamespace(time=lambda: TOTP_NOW))
    return TOTP_NOW


def totp_code(secret: str, *, step: int = 0) -> str:
    """The code an authenticator app shows at TOTP_NOW (+ `step` periods of 30 s)."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(TOTP_NOW) // 30 + step))


def enable_totp(user) -> str:
    """Give `user` an authenticator app, as after setting it up; returns its secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def passed_two_factor(client, user) -> None:
    """Record in `client`'s session that it passed the TOTP step, as allauth does after a code.

    Owning TOTP is not enough for the admin: the session must have passed it
    (StaffTwoFactorMiddleware). Tests that `force_login` a staff member use this after it."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "mfa", "at": time.time(), "type": "totp"}
    ]
    session.save()


def verify_email(user) -> None:
    """Mark the account's address verified, as after clicking the confirmation link."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


# How to run what was skipped, by a phrase of the skip reason (see the README's "Tests").
SKIP_HINTS = {
    "PostgreSQL": "export DATABASE_URL=postgres://postgres@127.0.0.1:5432/backfuture "
    "REDIS_URL=redis://127.0.0.1:6379/1 (the local servers; see the README's Tests)",
    "Redis": "export REDIS_URL=redis://127.0.0.1:6379/1",
    "Chromium": "apt-get install chromium (Debian's; PLAYWRIGHT_CHROMIUM_EXECUTABLE if elsewhere)",
    "gettext": "apt-get install gettext",
    ".venv": "run the suite through scripts/dev test",
}


def skip_groups(reports) -> list[tuple[str, int, str | None]]:
    """Skipped tests grouped by reason, largest group first, each with how to run it."""
    counts: Counter[str] = Counter()
    for report in reports:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        counts[reason.removeprefix("Skipped: ")] += 1
    return [
        (reason, count, next((hint for key, hint in SKIP_HINTS.items() if key in reason), None))
        for reason, count in counts.most_common()
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say at the end which groups of tests did not run, and why: a skip is easy to miss."""
    groups = skip_groups(terminalreporter.stats.get("skipped", []))
    if not groups:
        return
    terminalreporter.section("skipped groups")
    for reason, count, hint in groups:
        terminalreporter.write_line(f"{count:4d} skipped: {reason}")
        if hint:
            terminalreporter.write_line(f"      to run them: {hint}")
    if not services_required():
        terminalreporter.write_line(
            "CI sets BACKFUTURE_REQUIRE_SERVICES=1: a missing PostgreSQL, Redis or Chromium "
            "fails there instead of skipping."
        )
