"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from connections import services, throttle
from connections.exchanges.base import Category, TemporaryExchangeError

logger = logging.getLogger(__name__)


def retry_delay(retries: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than the exchange's Retry-After."""
    base = settings.CONNECTION_TEST_RETRY_BASE * (2**retries)
    delay = random.uniform(base / 2, base)
    return max(delay, retry_after or 0)


def own_queue(request) -> str:
    """The queue a task's message came from (a test's re-queue goes back to it)."""
    from backfuture.celery import DEFAULT_QUEUE

    return (request.delivery_info or {}).get("routing_key") or DEFAULT_QUEUE


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=settings.CONNECTION_TEST_RETRIES,
    soft_time_limit=settings.CONNECTION_TEST_SOFT_TIME_LIMIT,
    time_limit=settings.CONNECTION_TEST_TIME_LIMIT,
    ignore_result=True,
)
def connection_check(self, check_id: int) -> str:
    """Test one connection. Only temporary exchange errors are retried."""
    try:
        # Run inline (eager), a re-queued task would run again at once: wait for the slot.
        max_wait = None if self.request.is_eager else settings.CONNECTION_THROTTLE_MAX_WAIT
        return services.connection_run_check(check_id=check_id, max_wait=max_wait)
    except throttle.Throttled as busy:
        # Our own pacing, not the exchange's fault: back to the queue for when the slot is
        # free, keeping the retry count of real errors as it was.
        logger.info("connection test %s: %s", check_id, busy)
        countdown = busy.retry_in + random.uniform(0, 0.1)
        services.connection_check_postponed(check_id=check_id, countdown=countdown)
        # On the queue it came from: a person's test stays ahead of the re-checks.
        self.apply_async(
            args=[check_id],
            countdown=countdown,
            retries=self.request.retries,
            queue=own_queue(self.request),
        )
        return "throttled"
    except TemporaryExchangeError as error:
        if self.request.retries < self.max_retries:
            delay = retry_delay(self.request.retries, error.retry_after)
            # Recorded first: the live status shows "retrying (2 of 4)" during the wait.
            decision = services.connection_schedule_retry(
                check_id=check_id, delay=delay, category=error.category
            )
            if decision == "stale":
                return "stale"
            if decision == "retry":
                logger.info(
                    "connection test %s: %s, retrying in %.1f s", check_id, error.category, delay
                )
                raise self.retry(countdown=delay) from None
            # A wait (a long Retry-After) that would end after the test's time window: fail
            # now rather than leave the connection `testing` past it.
            error = TemporaryExchangeError(
                error.category,
                f"{error.message}; a retry in {delay:.0f} s would end after the test's time limit",
            )
        services.connection_record_error(check_id=check_id, error=error)
        return "failed"
    except SoftTimeLimitExceeded:
        error = TemporaryExchangeError(
            Category.EXCHANGE_UNAVAILABLE,
            "The test took longer than its time limit and was stopped.",
        )
        services.connection_record_error(check_id=check_id, error=error)
        return "failed"


@shared_task(ignore_result=True, soft_time_limit=10, time_limit=14)
def connections_reap_stale_tests() -> int:
    return services.connections_reap_stale_tests()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def connections_schedule_rechecks() -> int:
    return services.connections_schedule_rechecks()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def connections_key_expiry() -> int:
    return services.connections_key_expiry()
