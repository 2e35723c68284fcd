from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from connections import services, tasks
from connections.exchanges import registry
from connections.exchanges.base import (
    Category,
    CheckName,
    Outcome,
    ReportBuilder,
    TemporaryExchangeError,
)
from connections.models import Connection, ConnectionCheck
from tests.connections.factories import make_connection
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db


class FakeClient:
    """Stands in for an exchange client: returns a scripted report or raises."""

    def __init__(self, outcome):
        self.outcome = outcome
        self.calls = []

    def run_checks(self, credentials, market):
        self.calls.append((credentials, market))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome(market)


def failed(category, message="700006 IP [198.51.100.7] not in the whitelist", ip="198.51.100.7"):
    def build(market):
        from connections.exchanges.base import PermanentExchangeError

        builder = ReportBuilder("mexc", market, datetime.now(UTC))
        builder.set(CheckName.REACHABLE, Outcome.OK, "reachable", params={"skew_ms": 3})
        builder.fail(
            CheckName.CREDENTIALS, PermanentExchangeError(category, message, reported_ip=ip)
        )
        builder.skip_remaining()
        return builder.finish(datetime.now(UTC))

    return build


def online(market):
    from connections.exchanges.demo import DemoClient

    return DemoClient().run_checks(
        __import__("connections.exchanges.base", fromlist=["Credentials"]).Credentials(
            "demo-key", "demo-secret"
        ),
        market,
    )


@pytest.fixture
def fake_client(monkeypatch):
    holder = {}

    def install(outcome):
        client = FakeClient(outcome)
        monkeypatch.setattr(registry, "build_client", lambda *a, **k: client)
        holder["client"] = client
        return client

    return install


@pytest.fixture
def enqueued(monkeypatch):
    """Records what would go through the broker instead of publishing it."""
    sent = []
    monkeypatch.setattr(
        tasks.connection_check,
        "apply_async",
        lambda args=None, **kwargs: sent.append((args, kwargs)),
    )
    return sent


@pytest.fixture
def conn(alice):
    return make_connection(alice, name="MEXC Spot Main")


def request(conn, **kwargs):
    return services.connection_request_check(connection=conn, trigger="user", **kwargs)


def test_request_marks_testing_and_enqueues_only_the_id_on_commit(
    conn, alice, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        check = request(conn, requested_by=alice)
    assert enqueued == []  # nothing is published before the transaction commits
    conn.refresh_from_db()
    assert conn.status == "testing" and conn.current_check_id == check.pk
    assert check.requested_by == alice and check.state == "queued"
    for callback in callbacks:
        callback()
    assert enqueued[0][0] == [check.pk]
    assert json.dumps(enqueued)  # JSON-serialisable: ids only, no key material


def test_double_press_does_not_start_a_second_test(conn, enqueued):
    request(conn)
    with pytest.raises(services.CheckNotStarted) as refused:
        request(conn)
    assert refused.value.reason == "in_flight"
    assert ConnectionCheck.objects.filter(connection=conn).count() == 1


def test_cooldown_between_tests_a_person_starts(conn, fake_client, settings):
    settings.CONNECTION_TEST_COOLDOWN = 30
    fake_client(online)
    check = request(conn)
    services.connection_run_check(check_id=check.pk)
    with pytest.raises(services.CheckNotStarted) as refused:
        request(conn)
    assert refused.value.reason == "cooldown" and 0 < refused.value.retry_in <= 31
    ConnectionCheck.objects.update(created_at=timezone.now() - timedelta(seconds=31))
    request(conn)


def test_healthy_report_marks_online_with_every_check(conn, fake_client):
    client = fake_client(online)
    check = request(conn)
    assert services.connection_run_check(check_id=check.pk) == "online"
    conn.refresh_from_db()
    check.refresh_from_db()
    assert conn.status == "online" and conn.problem_category == ""
    assert conn.last_tested_at and conn.last_online_at and conn.failing_since is None
    assert [c["name"] for c in conn.last_report["checks"]][:3] == [
        "reachable",
        "credentials",
        "balances",
    ]
    assert check.state == "finished" and check.verdict == "online"
    # The worker decrypted the credentials for the client, and only there.
    assert client.calls[0][0].api_key == conn.api_key.reveal()


@pytest.mark.parametrize("category", [c.value for c in Category if not c.is_temporary])
def test_each_failure_category_is_written(conn, fake_client, category):
    fake_client(failed(category))
    check = request(conn)
    assert services.connection_run_check(check_id=check.pk) == "failed"
    conn.refresh_from_db()
    assert conn.status == "failed" and conn.problem_category == category
    assert conn.problem_message.startswith("700006")
    assert conn.reported_ip == "198.51.100.7"
    assert ConnectionCheck.objects.get(pk=check.pk).category == category


def test_result_of_a_superseded_check_is_discarded(conn, fake_client):
    fake_client(online)
    check = request(conn)
    services.connection_replace_key(
        connection=conn,
        api_key="mx0vglREPLACED0001",
        api_secret="1" * 32,
        withdrawal_off_confirmed=True,
        actor=None,
    )
    assert services.connection_run_check(check_id=check.pk) == "stale"
    conn.refresh_from_db()
    assert conn.status == "untested" and conn.last_report is None


def test_duplicate_run_of_the_same_check_cannot_overwrite(conn, fake_client):
    fake_client(online)
    check = request(conn)
    services.connection_run_check(check_id=check.pk)
    fake_client(failed("invalid_key"))
    # Same task delivered twice (acks_late redelivery): the second result is ignored.
    assert services.connection_run_check(check_id=check.pk) == "stale"
    report = failed("invalid_key")(conn.market)
    assert services.connection_record_report(check_id=check.pk, report=report) is False
    conn.refresh_from_db()
    assert conn.status == "online"


def test_failure_pauses_enabled_strategies_with_a_reason(conn, alice, fake_client):
    strategy = stored_strategy(alice, conn, name="S1", status="enabled")
    fake_client(failed("invalid_key"))
    services.connection_run_check(check_id=request(conn).pk)
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "connection_failed"


def test_owner_is_emailed_once_per_transition(
    conn, alice, fake_client, django_capture_on_commit_callbacks, settings
):
    settings.CONNECTION_TEST_COOLDOWN = 0
    alice.language = "de"
    alice.save()
    fake_client(failed("ip_not_allowed"))
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_run_check(
            check_id=services.connection_request_check(
                connection=conn, trigger="schedule", enqueue=False
            ).pk
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_run_check(
            check_id=services.connection_request_check(
                connection=conn, trigger="schedule", enqueue=False
            ).pk
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]
    assert "MEXC Spot Main" in mail.outbox[0].subject
    fake_client(online)
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_run_check(
            check_id=services.connection_request_check(
                connection=conn, trigger="schedule", enqueue=False
            ).pk
        )
    fake_client(failed("invalid_key"))
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_run_check(
            check_id=services.connection_request_check(
                connection=conn, trigger="schedule", enqueue=False
            ).pk
        )
    assert len(mail.outbox) == 2  # back online, then failing again: a new transition


def test_stale_testing_is_reaped(conn, enqueued):
    check = request(conn)
    assert services.connections_reap_stale_tests() == 0
    check.refresh_from_db()
    assert services.connections_reap_stale_tests(now=check.deadline - timedelta(seconds=1)) == 0
    assert services.connections_reap_stale_tests(now=check.deadline) == 1
    conn.refresh_from_db()
    check.refresh_from_db()
    assert conn.status == "failed" and conn.problem_message == "interrupted"
    assert check.state == "finished"
    # The late result of the interrupted test is discarded; a new test works.
    assert services.connection_record_report(check_id=check.pk, report=online(conn.market)) is False


def test_broker_outage_leaves_the_connection_consistent(
    conn, monkeypatch, django_capture_on_commit_callbacks
):
    def down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.connection_check, "apply_async", down)
    with (
        pytest.raises(services.CheckNotStarted) as refused,
        django_capture_on_commit_callbacks(execute=True),
    ):
        request(conn)
    assert refused.value.reason == "queue_down"
    conn.refresh_from_db()
    assert conn.status == "untested"


def test_task_retries_temporary_errors_then_records_unavailable(
    conn, fake_client, monkeypatch, settings
):
    fake_client(
        TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "503 maintenance", retry_after=7)
    )
    check = request(conn)
    retried = []

    def fake_retry(countdown=None, **kwargs):
        retried.append(countdown)
        raise RuntimeError("retry scheduled")

    monkeypatch.setattr(tasks.connection_check, "retry", fake_retry)
    with pytest.raises(RuntimeError):
        tasks.connection_check.apply(args=[check.pk], throw=True)
    assert retried and retried[0] >= 7  # Retry-After honoured
    conn.refresh_from_db()
    assert conn.status == "testing"

    # Out of retries: the test ends as failed / exchange_unavailable.
    tasks.connection_check.apply(args=[check.pk], retries=settings.CONNECTION_TEST_RETRIES)
    conn.refresh_from_db()
    assert conn.status == "failed" and conn.problem_category == "exchange_unavailable"


def test_permanent_failure_is_not_retried(conn, fake_client, monkeypatch):
    fake_client(failed("invalid_key"))
    monkeypatch.setattr(tasks.connection_check, "retry", lambda **k: pytest.fail("retried"))
    tasks.connection_check.apply(args=[request(conn).pk])
    conn.refresh_from_db()
    assert conn.problem_category == "invalid_key"


def test_task_declares_time_limits_and_late_ack(settings):
    task = tasks.connection_check
    assert task.soft_time_limit == settings.CONNECTION_TEST_SOFT_TIME_LIMIT
    assert task.time_limit == settings.CONNECTION_TEST_TIME_LIMIT > task.soft_time_limit
    assert task.acks_late and task.max_retries == settings.CONNECTION_TEST_RETRIES
    assert task.soft_time_limit > settings.EXCHANGE_TEST_BUDGET


def test_soft_time_limit_ends_as_unavailable(conn, fake_client):
    from celery.exceptions import SoftTimeLimitExceeded

    fake_client(SoftTimeLimitExceeded())
    tasks.connection_check.apply(args=[request(conn).pk])
    conn.refresh_from_db()
    assert conn.status == "failed" and conn.problem_category == "exchange_unavailable"


def test_retry_delay_grows_with_jitter():
    delays = [tasks.retry_delay(n, None) for n in range(4)]
    assert all(d > 0 for d in delays)
    assert tasks.retry_delay(3, None) <= 2.0 * 8
    assert tasks.retry_delay(0, 30) == 30


def test_periodic_recheck_picks_due_online_connections_spread_out(alice, enqueued, settings):
    settings.CONNECTION_RECHECK_INTERVAL = 1800
    old = timezone.now() - timedelta(hours=1)
    due = [make_connection(alice, exchange="demo") for _ in range(3)]
    fresh = make_connection(alice, exchange="demo")
    failing = make_connection(alice, exchange="demo")
    Connection.objects.filter(pk__in=[c.pk for c in due]).update(
        status="online", last_tested_at=old
    )
    Connection.objects.filter(pk=fresh.pk).update(status="online", last_tested_at=timezone.now())
    Connection.objects.filter(pk=failing.pk).update(status="failed", last_tested_at=old)
    from django.db import transaction

    with transaction.atomic():
        scheduled = services.connections_schedule_rechecks()
    assert scheduled == 3
    assert set(ConnectionCheck.objects.values_list("connection_id", flat=True)) == {
        c.pk for c in due
    }
    assert set(ConnectionCheck.objects.values_list("trigger", flat=True)) == {"schedule"}


def test_recheck_respects_the_exchange_rate_budget(alice, settings):
    settings.CONNECTION_RECHECK_SCHEDULE_PERIOD = 10
    settings.CONNECTION_RECHECK_MAX_RATE = 0.2  # two tests per 10-second period
    settings.CONNECTION_RECHECK_RATE_SHARE = 1.0
    old = timezone.now() - timedelta(hours=1)
    for _ in range(5):
        c = make_connection(alice, exchange="demo")
        Connection.objects.filter(pk=c.pk).update(status="online", last_tested_at=old)
    assert services.connections_schedule_rechecks() == 2


def test_recheck_budget_counts_the_tests_still_in_flight(alice, enqueued, settings):
    """A worker that fell behind is not handed another period's worth on top of what it
    still holds: waiting tasks stay bounded by rate x period, not by the fleet."""
    settings.CONNECTION_RECHECK_SCHEDULE_PERIOD = 10
    settings.CONNECTION_RECHECK_MAX_RATE = 0.3  # three tests per 10-second period
    settings.CONNECTION_RECHECK_RATE_SHARE = 1.0
    old = timezone.now() - timedelta(hours=1)
    for _ in range(6):
        c = make_connection(alice, exchange="demo")
        Connection.objects.filter(pk=c.pk).update(status="online", last_tested_at=old)
    assert services.connections_schedule_rechecks() == 3
    # None of the three ran yet: the next run starts none.
    assert services.connections_schedule_rechecks() == 0
    # One finished: one slot is free again.
    running = Connection.objects.filter(status="testing").first()
    Connection.objects.filter(pk=running.pk).update(
        status="online", last_tested_at=timezone.now(), current_check=None
    )
    assert services.connections_schedule_rechecks() == 1
    assert ConnectionCheck.objects.count() == 4


def test_recheck_batches_give_each_connection_its_own_check(
    alice, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTION_RECHECK_BATCH = 2
    old = timezone.now() - timedelta(hours=1)
    due = [make_connection(alice, exchange="demo") for _ in range(5)]
    Connection.objects.filter(pk__in=[c.pk for c in due]).update(
        status="online", last_tested_at=old
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.connections_schedule_rechecks() == 5
    assert len(callbacks) == 3  # one transaction per batch of two
    for connection in Connection.objects.filter(pk__in=[c.pk for c in due]):
        check = connection.current_check
        assert connection.status == "testing" and connection.testing_since is not None
        assert check.connection_id == connection.pk and check.trigger == "schedule"
        assert check.state == "queued" and check.deadline is not None
    published = sorted(args[0] for args, _kwargs in enqueued)
    assert published == sorted(ConnectionCheck.objects.values_list("pk", flat=True))
    assert all("countdown" in kwargs for _args, kwargs in enqueued)
    from connections.models import AuditEvent

    events = AuditEvent.objects.filter(action="test_requested")
    assert sorted(e.data["check"] for e in events) == published
    assert {e.object_id for e in events} == {c.pk for c in due}
    assert {e.data["trigger"] for e in events} == {"schedule"}


def test_recheck_batch_is_undone_when_the_broker_refuses(
    alice, monkeypatch, django_capture_on_commit_callbacks
):
    old = timezone.now() - timedelta(hours=1)
    due = [make_connection(alice, exchange="demo") for _ in range(3)]
    Connection.objects.filter(pk__in=[c.pk for c in due]).update(
        status="online", last_tested_at=old
    )
    published = []

    def broker_down(*args, **kwargs):
        published.append(args)
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.connection_check, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.connections_schedule_rechecks()
    assert len(published) == 1  # the rest of the batch was not tried against a dead broker
    assert set(Connection.objects.values_list("status", flat=True)) == {"online"}
    assert set(ConnectionCheck.objects.values_list("message", flat=True)) == {"queue_unavailable"}


def test_test_button_and_status_polling(alice_client, conn, enqueued):
    url = reverse("connections:test", args=[conn.pk])
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="connection-body"')
    assert "Testing…" in html and 'hx-trigger="every 1500ms"' in html
    status = alice_client.get(reverse("connections:status", args=[conn.pk]), HTTP_HX_REQUEST="true")
    assert status.status_code == 200 and "every 1500ms" in status.content.decode()
    # Pressing again while testing does not start another test.
    again = alice_client.post(url)
    assert again.status_code == 302
    assert ConnectionCheck.objects.filter(connection=conn).count() == 1


def test_final_status_stops_polling_with_286(alice_client, conn, fake_client):
    fake_client(online)
    services.connection_run_check(check_id=request(conn).pk)
    status = alice_client.get(reverse("connections:status", args=[conn.pk]), HTTP_HX_REQUEST="true")
    assert status.status_code == 286
    assert "hx-trigger" not in status.content.decode()
    assert status["HX-Trigger"] == f"connection-tested-{conn.pk}"


def test_detail_shows_checklist_problem_and_ips(alice_client, conn, fake_client, settings):
    settings.EXCHANGE_EGRESS_IPS = ["203.0.113.10"]
    fake_client(failed("ip_not_allowed"))
    services.connection_run_check(check_id=request(conn).pk)
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "IP not allowed" in html
    assert "198.51.100.7" in html and "203.0.113.10" in html
    assert "Add the server IPs shown below" in html


def test_history_lists_each_test(alice_client, conn, fake_client, alice, settings):
    settings.CONNECTION_TEST_COOLDOWN = 0
    fake_client(online)
    services.connection_run_check(check_id=request(conn, requested_by=alice).pk)
    fake_client(failed("invalid_key"))
    services.connection_run_check(check_id=request(conn, requested_by=alice).pk)
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert html.count('<td data-label="Started by">you</td>') == 2
    assert "Invalid key" in html


def test_check_connection_command_sync_json(conn, fake_client):
    fake_client(online)
    out = StringIO()
    call_command("check_connection", str(conn.pk), "--sync", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["status"] == "online" and result["connection"] == conn.pk
    assert {c["check"] for c in result["checks"]} >= {"reachable", "credentials", "balances"}
    assert Connection.objects.get(pk=conn.pk).api_secret.reveal() not in out.getvalue()


def test_check_connection_command_queues_without_sync(
    conn, enqueued, django_capture_on_commit_callbacks
):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_connection", str(conn.pk), stdout=out)
    assert "queued" in out.getvalue() and len(enqueued) == 1


def test_check_connection_command_unknown_id():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("check_connection", "999999")


def test_htmx_press_while_testing_says_why_nothing_started(alice_client, conn, enqueued):
    url = reverse("connections:test", args=[conn.pk])
    alice_client.post(url, HTTP_HX_REQUEST="true")
    again = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert "already running" in again.content.decode()


def test_a_connection_can_be_deleted_while_its_test_is_in_flight(conn, fake_client):
    fake_client(online)
    check = request(conn)
    services.connection_delete(connection=conn, actor=None)
    assert not Connection.objects.filter(pk=conn.pk).exists()
    assert not ConnectionCheck.objects.filter(pk=check.pk).exists()


def test_the_task_of_a_deleted_connection_ends_quietly(conn, fake_client):
    fake_client(online)
    check = request(conn)
    services.connection_delete(connection=conn, actor=None)
    assert services.connection_run_check(check_id=check.pk) == "stale"
    assert tasks.connection_check.apply(args=[check.pk]).result == "stale"
    report = online(conn.market)
    assert services.connection_record_report(check_id=check.pk, report=report) is False


@pytest.mark.django_db(transaction=True)  # autocommit, as beat runs it: each enqueue at once
def test_soft_time_limit_inside_the_schedulers_enqueue_is_reraised(alice, monkeypatch):
    """Issue 14: the soft time limit is not a "queue down"; the scheduler must stop."""
    from celery.exceptions import SoftTimeLimitExceeded

    old = timezone.now() - timedelta(hours=1)
    for _ in range(3):
        c = make_connection(alice, exchange="demo")
        Connection.objects.filter(pk=c.pk).update(status="online", last_tested_at=old)
    published = []

    def out_of_time(*args, **kwargs):
        published.append(kwargs)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks.connection_check, "apply_async", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        services.connections_schedule_rechecks()
    assert len(published) == 1  # it stopped at the first one instead of carrying on
    # The interrupted request was undone: nothing is left `testing` for the reaper to fail.
    assert set(Connection.objects.values_list("status", flat=True)) == {"online"}


# --- A worker killed mid-test (issue 14) -------------------------------------------------------


def test_the_reaper_deadline_follows_the_tasks_time_limits(conn, fake_client, settings):
    """A test whose worker died is failed within the hard time limit plus a grace of its
    attempt's start (plus the reaper's period), not after a fixed five minutes."""
    settings.CONNECTION_TEST_TIME_LIMIT = 50
    settings.CONNECTION_TEST_REAP_GRACE = 10
    settings.CONNECTION_TEST_QUEUE_WAIT = 60
    before = timezone.now()
    check = request(conn)
    after = timezone.now()
    # Queued: it may wait for a worker, then run.
    assert before + timedelta(seconds=120) <= check.deadline <= after + timedelta(seconds=120)
    # Running (the worker marks it so, then dies while calling the exchange).
    services.connection_start_check(check_id=check.pk, connection=check.connection)
    check.refresh_from_db()
    assert check.deadline - check.started_at <= timedelta(seconds=61)
    assert services.connections_reap_stale_tests(now=check.deadline) == 1
    # Beat runs the reaper often: the whole window stays well under the old six minutes.
    reaper = settings.CELERY_BEAT_SCHEDULE["reap-stale-tests"]["schedule"]
    assert reaper == settings.CONNECTION_REAPER_INTERVAL
    assert 50 + 10 + reaper <= 90


def _scheduled(conn):
    return services.connection_request_check(connection=conn, trigger="schedule", enqueue=False)


def test_a_reaped_recheck_emails_the_owner_and_pauses_strategies(
    conn, alice, django_capture_on_commit_callbacks
):
    strategy = stored_strategy(alice, conn, name="S1", status="enabled")
    check = _scheduled(conn)
    services.connection_start_check(check_id=check.pk, connection=check.connection)
    check.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connections_reap_stale_tests(now=check.deadline) == 1
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "connection_failed"
    assert len(mail.outbox) == 1 and "MEXC Spot Main" in mail.outbox[0].subject
    assert "on our side" in mail.outbox[0].body  # says it was interrupted, not the key


def test_a_reaped_test_the_person_started_is_not_emailed(
    conn, alice, enqueued, django_capture_on_commit_callbacks
):
    check = request(conn, requested_by=alice)
    check.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connections_reap_stale_tests(now=check.deadline) == 1
    assert mail.outbox == []
    conn.refresh_from_db()
    assert conn.status == "failed"


def test_a_redelivered_task_of_a_reaped_check_does_nothing(
    conn, fake_client, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis redelivers an unacked message after its visibility timeout (acks_late): by then
    the reaper has failed the check, and the late task must neither run nor write."""
    from connections import throttle

    client = fake_client(online)
    check = _scheduled(conn)
    services.connection_start_check(check_id=check.pk, connection=check.connection)  # then died
    check.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.connections_reap_stale_tests(now=check.deadline)
    sent = len(mail.outbox)
    monkeypatch.setattr(throttle, "take_slot", lambda *a, **k: pytest.fail("took a slot"))
    assert tasks.connection_check.apply(args=[check.pk]).result == "stale"
    assert client.calls == []
    conn.refresh_from_db()
    check.refresh_from_db()
    assert conn.status == "failed" and conn.problem_message == "interrupted"
    assert check.state == "finished" and check.attempts == 1 and len(mail.outbox) == sent


def test_a_task_delivered_after_its_deadline_is_failed_not_run(
    conn, fake_client, django_capture_on_commit_callbacks
):
    """The reaper has not run yet (beat down, or it is between runs): the late task itself
    fails the test as interrupted instead of running it long after anyone waited for it."""
    client = fake_client(online)
    check = _scheduled(conn)
    ConnectionCheck.objects.filter(pk=check.pk).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.connection_check.apply(args=[check.pk]).result == "stale"
    assert client.calls == []
    conn.refresh_from_db()
    assert conn.status == "failed" and conn.problem_message == "interrupted"
    assert len(mail.outbox) == 1  # a re-check: its owner is not watching


# --- Retry-After beyond the test's window (issue 14) --------------------------------------------


def test_a_retry_after_beyond_the_tests_window_fails_now_as_exchange_unavailable(
    conn, fake_client, monkeypatch
):
    fake_client(TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "HTTP 429", retry_after=3600))
    monkeypatch.setattr(tasks.connection_check, "retry", lambda **k: pytest.fail("waited"))
    assert tasks.connection_check.apply(args=[request(conn).pk]).result == "failed"
    conn.refresh_from_db()
    assert conn.status == "failed" and conn.problem_category == "exchange_unavailable"
    assert "3600 s" in conn.problem_message


def test_a_retry_after_within_the_window_is_honoured_and_shown(
    conn, fake_client, monkeypatch, alice_client
):
    fake_client(TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "HTTP 429", retry_after=60))
    retried = []

    def fake_retry(countdown=None, **kwargs):
        retried.append(countdown)
        raise RuntimeError("retry scheduled")

    monkeypatch.setattr(tasks.connection_check, "retry", fake_retry)
    check = request(conn)
    with pytest.raises(RuntimeError):
        tasks.connection_check.apply(args=[check.pk], throw=True)
    assert retried == [60]
    check.refresh_from_db()
    assert check.retry_category == "exchange_unavailable" and check.current_attempt == 2
    assert check.deadline >= check.next_attempt_at + timedelta(seconds=60)
    status = alice_client.get(reverse("connections:status", args=[conn.pk]), HTTP_HX_REQUEST="true")
    html = status.content.decode()
    assert status.status_code == 200 and "Retrying (2 of 4)" in html
    assert "The exchange did not answer properly" in html


# --- Who is emailed (issue 19 #5) -------------------------------------------------------------


def test_a_failure_of_a_test_the_person_started_is_not_emailed(
    conn, alice, fake_client, django_capture_on_commit_callbacks
):
    strategy = stored_strategy(alice, conn, name="S1", status="enabled")
    fake_client(failed("invalid_key"))
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_run_check(check_id=request(conn, requested_by=alice).pk)
    assert mail.outbox == []  # they watch the result on the page
    strategy.refresh_from_db()
    assert strategy.status == "paused"  # but it pauses strategies as every failure does


@pytest.mark.parametrize("trigger", ["schedule", "support", "command"])
def test_a_failure_nobody_watches_is_emailed(
    conn, fake_client, django_capture_on_commit_callbacks, trigger
):
    fake_client(failed("invalid_key"))
    check = services.connection_request_check(connection=conn, trigger=trigger, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_run_check(check_id=check.pk)
    assert len(mail.outbox) == 1


# --- Our server could not reach the exchange (issue 19 #5) -------------------------------------


class _Retry(Exception):
    pass


def _run_through_every_retry(check, monkeypatch, settings):
    def retry(countdown=None, **kwargs):
        raise _Retry

    monkeypatch.setattr(tasks.connection_check, "retry", retry)
    for attempt in range(settings.CONNECTION_TEST_RETRIES + 1):
        try:
            tasks.connection_check.apply(args=[check.pk], retries=attempt, throw=True)
        except _Retry:
            continue
        return


@pytest.mark.parametrize("make_error", ["dns_failure", "connection_refused", "tls_failure"])
def test_no_route_to_the_exchange_is_blamed_on_our_network_not_the_exchange(
    conn,
    alice,
    alice_client,
    no_internet,
    monkeypatch,
    settings,
    caplog,
    django_capture_on_commit_callbacks,
    make_error,
):
    import requests
    import responses

    from tests.exchanges import conftest as exchange_faults

    error = (
        requests.exceptions.SSLError("certificate verify failed")
        if make_error == "tls_failure"
        else getattr(exchange_faults, make_error)()
    )
    no_internet.add(responses.GET, "https://api.mexc.com/api/v3/time", body=error)
    settings.EXCHANGE_URLS = {}
    check = request(conn, requested_by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        _run_through_every_retry(check, monkeypatch, settings)
    conn.refresh_from_db()
    check.refresh_from_db()
    assert conn.status == "failed" and conn.problem_category == "exchange_unreachable"
    assert check.attempts == settings.CONNECTION_TEST_RETRIES + 1
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "Exchange not reachable from our server" in html
    assert "Nothing is known to be wrong with your key" in html
    assert "Our server could not connect to the exchange" in html
    assert "The exchange did not answer properly" not in html
    assert "Exchange unavailable" not in html
    # The person started it and watches the page: no email. The operator gets the log line.
    assert mail.outbox == []
    operator = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("could not reach the exchange" in m and "DNS" in m for m in operator)


def test_retries_of_an_unreachable_exchange_are_shown_as_such(
    conn, fake_client, monkeypatch, alice_client
):
    fake_client(TemporaryExchangeError(Category.EXCHANGE_UNREACHABLE, "could not reach"))
    monkeypatch.setattr(
        tasks.connection_check,
        "retry",
        lambda **kwargs: (_ for _ in ()).throw(RuntimeError("retry scheduled")),
    )
    with pytest.raises(RuntimeError):
        tasks.connection_check.apply(args=[request(conn).pk], throw=True)
    html = alice_client.get(reverse("connections:detail", args=[conn.pk])).content.decode()
    assert "Retrying (2 of 4)" in html
    assert "Our server could not connect to the exchange" in html
