from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init
from kombu import Exchange, Queue

# Tests people start (every trigger but the scheduler's: the owner, support staff, the
# `check_connection` command) have a queue of their own, which workers consume before the
# default queue of re-checks and beat's housekeeping (docs/architecture.md, "Queues").
TESTS_QUEUE = "tests"
DEFAULT_QUEUE = "celery"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backfuture.settings")

app = Celery("backfuture")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Only ids travel through the broker, so JSON is all we need; pickle would let anyone who
    # can write to the broker run code in the worker.
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # State lives in the database; nobody reads task results.
    task_ignore_result=True,
    result_backend=None,
    # A task is acknowledged after it ran, so a worker that dies mid-test hands it back.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=60,
    task_time_limit=90,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
    # A worker started without -Q consumes both, tests first; with Redis, in this order every
    # time it fetches (CELERY_BROKER_TRANSPORT_OPTIONS' "queue_order_strategy"). Each queue has
    # its own exchange and routing key, so a retry (published again from the message's delivery
    # info) goes back to the queue it came from.
    task_queues=[
        Queue(name, Exchange(name), routing_key=name) for name in (TESTS_QUEUE, DEFAULT_QUEUE)
    ],
    task_default_queue=DEFAULT_QUEUE,
)
app.autodiscover_tasks()


@worker_init.connect
def _carry_nice_to_autogroup(**kwargs) -> None:
    """The Procfile's `nice -n 10` on the re-check worker, made to hold against the web, the
    tests-worker and the database when each runs in a session of its own (niceness.py)."""
    from backfuture.niceness import carry_nice_to_autogroup

    carry_nice_to_autogroup()


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(task=None, **kwargs) -> None:
    """With WORKER_DATABASE_REUSE on, Celery's Django fix-up no longer closes the database
    connection around every task (CELERY_DB_REUSE_MAX), and Django's rule for web requests
    applies instead: a connection older than CONN_MAX_AGE, or broken, is closed, and with
    CONN_HEALTH_CHECKS a reused one is checked before its first query. Each pool thread or
    process keeps at most one connection (docs/performance.md, fleet benchmark)."""
    from django.conf import settings
    from django.db import connections

    if not settings.WORKER_DATABASE_REUSE or getattr(task.request, "is_eager", False):
        return
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
