"""All outgoing mail: rendered in the request or task that wants it, sent by a worker.

A mail outage must not break sign-up, a password reset or any page (issue 14), so nothing sends
mail inside a request: `mail_send` queues the rendered message once the current transaction
commits, and the `deliver_mail` task sends it, retrying with exponential backoff while the
SMTP server is unreachable.

The queued message travels through the broker sealed with the field-encryption keys
(Fernet), because some messages carry a token that logs in or resets a password: whoever can
read Redis sees ciphertext, never a reset link or an address. docs/security.md ("Mail") says
why this beats sending in the request.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction

from backfuture.fields import decrypt, encrypt

logger = logging.getLogger(__name__)

# Retries of a message the SMTP server did not take, and the backoff: 30 s doubling up to
# 15 minutes, about an hour and a half in all before the message is given up (and logged).
MAIL_RETRIES = 8
MAIL_RETRY_BASE = 30.0
MAIL_RETRY_MAX = 900.0


def mail_send(
    *,
    subject: str,
    body: str,
    to: Sequence[str],
    from_email: str | None = None,
    html: str | None = None,
    queue: str | None = None,
) -> None:
    """Queue one message for delivery after the current transaction commits, on `queue`
    (None: the default queue, behind re-checks; see `mail_send_message`)."""
    sealed = encrypt(
        json.dumps(
            {
                "subject": subject,
                "body": body,
                "to": list(to),
                "from_email": from_email,
                "html": html,
            }
        )
    )
    transaction.on_commit(lambda: _enqueue(sealed, queue=queue))


def mail_send_message(*, message: EmailMessage, queue: str | None = None) -> None:
    """Queue a message rendered by allauth (text, optionally with an HTML alternative).

    Account mail (a sign-up's verification, a login code, a password reset) has a person
    waiting for it at the screen: allauth's adapter puts it on the tests' queue, which the
    Procfile's tests-worker serves even while every thread of the worker re-checks the fleet
    (docs/architecture.md, "Queues"). Notifications stay on the default queue, so an
    exchange-wide incident mailing thousands never stands in front of a person's test."""
    html = None
    body = message.body
    if message.content_subtype == "html":
        body, html = "", message.body
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    mail_send(
        subject=message.subject,
        body=body,
        to=message.to,
        from_email=message.from_email,
        html=html,
        queue=queue,
    )


def mail_deliver(*, sealed: str) -> None:
    """Send one queued message now. SMTP errors (OSError) propagate for the task to retry."""
    data = json.loads(decrypt(sealed))
    message = EmailMultiAlternatives(data["subject"], data["body"], data["from_email"], data["to"])
    if data["html"]:
        message.attach_alternative(data["html"], "text/html")
    message.send()


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter for the n-th retry."""
    base = min(MAIL_RETRY_BASE * (2**retries), MAIL_RETRY_MAX)
    return random.uniform(base / 2, base)


def _enqueue(sealed: str, *, queue: str | None = None) -> None:
    from backfuture.users.tasks import deliver_mail

    # A retry goes back to the queue the message came from (Celery republishes with its
    # routing key).
    options = {"queue": queue} if queue else {}
    try:
        # Bounded publish retries: a broker outage costs the request a second, not a hang.
        deliver_mail.apply_async(
            args=[sealed],
            **options,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:
        # The broker is down too: one attempt right here, and never an error page for it.
        logger.warning("mail queue unavailable; sending in the request instead", exc_info=True)
        try:
            mail_deliver(sealed=sealed)
        except OSError as error:
            logger.error("mail could not be queued or sent (%s); it is lost", type(error).__name__)
