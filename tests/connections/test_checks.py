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


@pytest.mark.parametrize(
    "category", [c.value for c in Category if c != Category.EXCHANGE_UNAVAILABLE]
)
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


def test_stale_testing_is_reaped(conn, enqueued, settings):
    settings.CONNECTION_TEST_REAP_AFTER = 60
    check = request(conn)
    assert services.connections_reap_stale_tests() == 0
    Connection.objects.filter(pk=conn.pk).update(
        testing_since=timezone.now() - timedelta(seconds=61)
    )
    assert services.connections_reap_stale_tests() == 1
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
    assert html.count("<td>you</td>") == 2
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
