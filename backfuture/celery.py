from __future__ import annotations

import os

from celery import Celery
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
