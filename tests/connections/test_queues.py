"""Issue 20: tests people start have a queue of their own, and stay on it when they come back
(throttled re-queue, retry); re-checks use the default queue. The order in which a worker
takes them is tested with a real worker in tests/integration/test_queues.py."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.conf import settings

from backfuture.celery import DEFAULT_QUEUE, TESTS_QUEUE, app
from connections import services, tasks, throttle
from connections.exchanges.base import Category, TemporaryExchangeError
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("trigger", "queue"),
    [
        ("user", TESTS_QUEUE),
        ("support", TESTS_QUEUE),
        ("command", TESTS_QUEUE),
        ("schedule", DEFAULT_QUEUE),
    ],
)
def test_a_test_is_published_on_the_queue_of_its_trigger(
    alice, sent, trigger, queue, django_capture_on_commit_callbacks
):
    conn = make_connection(alice)
    with django_capture_on_commit_callbacks(execute=True):
        check = services.connection_request_check(connection=conn, trigger=trigger)
    ((args, options),) = sent
    assert args == [check.pk] and options["queue"] == queue


def test_the_scheduler_publishes_rechecks_on_the_default_queue(
    alice, sent, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from connections.models import Connection

    for _ in range(3):
        conn = make_connection(alice, exchange="kucoin")
        Connection.objects.filter(pk=conn.pk).update(
            status="online", last_tested_at=timezone.now() - timedelta(hours=2)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connections_schedule_rechecks() == 3
    assert [options["queue"] for _, options in sent] == [DEFAULT_QUEUE] * 3


def test_worker_consumes_both_queues_tests_first_and_redis_asks_them_in_that_order():
    # A worker started without -Q takes app.conf.task_queues, in this order.
    assert [q.name for q in app.conf.task_queues] == [TESTS_QUEUE, DEFAULT_QUEUE]
    assert app.conf.task_default_queue == DEFAULT_QUEUE
    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"


def _run_task_from(queue: str, check_id: int, **request):
    """Run the task body as a worker would after taking the message from `queue`."""
    tasks.connection_check.push_request(
        is_eager=False,
        called_directly=False,
        args=[check_id],
        kwargs={},
        retries=0,
        delivery_info={"exchange": queue, "routing_key": queue},
        **request,
    )
    try:
        return tasks.connection_check.run(check_id)
    finally:
        tasks.connection_check.pop_request()


@pytest.mark.parametrize("queue", [TESTS_QUEUE, DEFAULT_QUEUE])
def test_a_throttled_test_goes_back_to_the_queue_it_came_from(alice, sent, monkeypatch, queue):
    conn = make_connection(alice)
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)

    def busy(**kwargs):
        raise throttle.Throttled("mexc", 0.5)

    monkeypatch.setattr(services, "connection_run_check", busy)
    assert _run_task_from(queue, check.pk) == "throttled"
    ((args, options),) = sent
    assert args == [check.pk] and options["queue"] == queue


@pytest.mark.parametrize("queue", [TESTS_QUEUE, DEFAULT_QUEUE])
def test_a_retry_goes_back_to_the_queue_it_came_from(alice, sent, monkeypatch, queue):
    conn = make_connection(alice)
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)

    def unavailable(**kwargs):
        raise TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "maintenance")

    monkeypatch.setattr(services, "connection_run_check", unavailable)
    with pytest.raises(Retry):
        _run_task_from(queue, check.pk)
    ((args, options),) = sent
    # Celery republishes a retry with the message's own delivery info: exchange and routing
    # key, each named after the queue (backfuture/celery.py), so the broker puts it back there.
    assert list(args) == [check.pk]
    assert options["exchange"] == queue and options["routing_key"] == queue
    assert options["countdown"] > 0


def test_the_requeue_falls_back_to_the_default_queue_without_delivery_info():
    class Request:
        delivery_info = None

    assert tasks.own_queue(Request()) == DEFAULT_QUEUE
