"""Celery tasks of the accounts app: thin wrappers that call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from backfuture import mail

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=mail.MAIL_RETRIES,
    soft_time_limit=60,
    time_limit=90,
    ignore_result=True,
)
def deliver_mail(self, sealed: str) -> str:
    """Send one queued message; retry with backoff while the SMTP server is unreachable."""
    try:
        mail.mail_deliver(sealed=sealed)
    except OSError as error:  # smtplib's errors, refused connections and timeouts
        if self.request.retries < self.max_retries:
            logger.info("mail %s: %s, retrying", self.request.id, type(error).__name__)
            raise self.retry(countdown=mail.retry_delay(self.request.retries)) from None
        # Never the message: it may hold a reset link.
        logger.error(
            "mail %s: not sent after %s attempts (%s)",
            self.request.id,
            self.request.retries + 1,
            type(error).__name__,
        )
        return "failed"
    return "sent"
