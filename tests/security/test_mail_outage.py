"""A mail outage breaks no page (issue 14, "also found").

With the SMTP server unreachable, sign-up answered 500: allauth sent the confirmation inside the
request. All mail is now queued on commit and sent by the `deliver_mail` task, which retries
with backoff; the queued message is sealed with the field-encryption keys, so a reset link is
never readable in the broker.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend
from django.urls import reverse
from kombu.exceptions import OperationalError

from backfuture import mail as backfuture_mail
from backfuture.users.tasks import deliver_mail
from connections import services
from tests.conftest import PASSWORD
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_down(settings, monkeypatch):
    """The real SMTP backend against a closed port; counts its connection attempts."""
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1
    settings.EMAIL_TIMEOUT = 1
    attempts: list[int] = []
    original = EmailBackend.open

    def counted_open(self):
        attempts.append(1)
        return original(self)

    monkeypatch.setattr(EmailBackend, "open", counted_open)
    return attempts


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def deliver_with_smtp_up(settings, args) -> mail.EmailMessage:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert deliver_mail.apply(args=args).get() == "sent"
    (message,) = mail.outbox
    return message


def test_signup_with_smtp_down_answers_a_redirect_and_retries_the_mail(
    smtp_down, client, queued_mail, settings, django_user_model, on_commit
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    with on_commit(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302
    assert django_user_model.objects.filter(email="new@example.com").exists()
    assert len(queued_mail) == 1
    # Every attempt reached the (closed) SMTP port: the first and each retry.
    assert len(smtp_down) == backfuture_mail.MAIL_RETRIES + 1
    # Once SMTP is back the same queued message is delivered.
    message = deliver_with_smtp_up(settings, queued_mail[0])
    assert message.to == ["new@example.com"]
    link = re.search(r"https?://\S+", message.body).group(0)
    assert "new@example.com" not in repr(queued_mail) and link not in repr(queued_mail)


def test_password_reset_with_smtp_down_answers_a_redirect_and_never_queues_the_link(
    smtp_down, client, alice, queued_mail, settings, on_commit
):
    with on_commit(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": alice.email})
    assert response.status_code == 302
    assert len(queued_mail) == 1 and len(smtp_down) == backfuture_mail.MAIL_RETRIES + 1
    message = deliver_with_smtp_up(settings, queued_mail[0])
    (link,) = re.findall(r"https?://\S+/password/reset/key/\S+", message.body)
    key = link.rstrip("/").rsplit("/", 1)[-1]
    # Only ciphertext crossed the broker: no link, no key, no address.
    assert key not in repr(queued_mail) and alice.email not in repr(queued_mail)


def test_a_failed_connection_mail_is_retried_not_lost(smtp_down, alice, queued_mail, on_commit):
    connection = make_connection(alice, name="Main")
    with on_commit(execute=True):
        services.notify_connection_failed(connection_id=connection.pk)
    assert len(queued_mail) == 1 and len(smtp_down) == backfuture_mail.MAIL_RETRIES + 1


def test_the_task_gives_up_after_its_retries_with_a_log_line_and_no_content(smtp_down, caplog):
    with caplog.at_level(logging.INFO):
        sealed = backfuture_mail.encrypt(
            '{"subject": "s", "body": "SECRET-TOKEN", "to": ["a@b.c"], '
            '"from_email": null, "html": null}'
        )
        result = deliver_mail.apply(args=[sealed])
    assert result.get() == "failed"
    assert "not sent after" in caplog.text and "SECRET-TOKEN" not in caplog.text


def test_with_the_broker_down_too_signup_still_answers(
    smtp_down, client, monkeypatch, caplog, django_user_model, on_commit
):
    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(deliver_mail, "apply_async", broker_down)
    with on_commit(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302
    assert django_user_model.objects.filter(email="new@example.com").exists()
    assert "could not be queued or sent" in caplog.text


def test_html_alternatives_survive_the_queue(settings, on_commit):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = mail.EmailMultiAlternatives("Hi", "text", None, ["a@example.com"])
    message.attach_alternative("<p>html</p>", "text/html")
    with on_commit(execute=True):
        backfuture_mail.mail_send_message(message=message)
    (sent,) = mail.outbox
    assert sent.body == "text" and sent.alternatives[0][0] == "<p>html</p>"


def test_account_mail_goes_on_the_tests_queue_and_notifications_on_the_default(
    client, alice, queued_mail, settings, on_commit
):
    """A person waits at the screen for a sign-up, login or reset mail: it is published on the
    queue the Procfile's tests-worker serves, so a saturated fleet re-check never delays it;
    notifications (one per owner in an exchange-wide incident) stay behind the re-checks."""
    from backfuture.celery import TESTS_QUEUE

    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    with on_commit(execute=True):
        client.post(
            reverse("account_signup"),
            {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        client.post(reverse("account_reset_password"), {"email": alice.email})
        services.notify_connection_failed(connection_id=make_connection(alice, name="Main").pk)
    assert queued_mail.queues == [TESTS_QUEUE, TESTS_QUEUE, None]
