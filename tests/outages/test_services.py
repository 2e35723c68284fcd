"""The outage services one by one (issue 17): the grace period and its backoff, what fails at
once, what resumes, the scheduler's due list, incidents, their escalation, key expiry."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail

from connections import expiry, hooks, services
from connections.exchanges.base import Category, PermanentExchangeError, TemporaryExchangeError
from connections.models import (
    AuditEvent,
    Connection,
    ConnectionCheck,
    IncidentNotice,
)
from strategies.models import Strategy
from tests.connections.factories import make_connection
from tests.outages.conftest import commits
from tests.strategies.factories import online_connection, retest, stored_strategy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mail_at_once")]


@pytest.fixture(autouse=True)
def no_cooldown(settings):
    # The clock is frozen: a test a person starts right after another would be refused.
    settings.CONNECTION_TEST_COOLDOWN = 0


def _record(connection, error, *, trigger="schedule"):
    check = services.connection_request_check(connection=connection, trigger=trigger, enqueue=False)
    with commits():
        services.connection_record_error(check_id=check.pk, error=error)
    connection.refresh_from_db()
    return connection


def unavailable(connection, **kwargs):
    return _record(
        connection, TemporaryExchangeError(Category.EXCHANGE_UNAVAILABLE, "502"), **kwargs
    )


def invalid_key(connection, **kwargs):
    return _record(connection, PermanentExchangeError(Category.INVALID_KEY, "bad key"), **kwargs)


@pytest.fixture
def live(alice, clock):
    connection = online_connection(alice, name="Live")
    strategy = stored_strategy(alice, connection, name="Grid", status="enabled")
    mail.outbox.clear()
    return SimpleNamespace(connection=connection, strategy=strategy)


# --- Temporary versus permanent --------------------------------------------------------------


def test_temporary_recheck_keeps_an_online_connection_usable_within_the_grace_period(live, clock):
    report = live.connection.last_report
    connection = unavailable(live.connection)
    assert connection.status == "online"
    assert connection.unreachable_since == clock.now
    assert connection.next_recheck_at == clock.now + timedelta(seconds=60)
    assert connection.last_report == report  # the last passing test still describes the key
    live.strategy.refresh_from_db()
    assert live.strategy.status == "enabled"
    assert mail.outbox == []
    event = AuditEvent.objects.filter(action="test_finished").first()
    assert event.data["within_grace"] is True and event.data["verdict"] == "failed"


def test_rechecks_back_off_and_the_end_of_the_grace_period_is_itself_a_recheck(live, clock):
    start = clock.now
    waits = []
    for _ in range(6):
        connection = unavailable(live.connection)
        assert connection.status == "online"
        waits.append(int((connection.next_recheck_at - clock.now).total_seconds()))
        clock.now = connection.next_recheck_at
    # 1, 2, 4, 8 minutes, then at most 10, and the grace period's end (30 min) is a re-check.
    assert waits == [60, 120, 240, 480, 600, 300]
    assert clock.now == start + timedelta(minutes=30)
    assert unavailable(live.connection).status == "failed"


def test_temporary_failure_past_the_grace_period_fails_pauses_and_emails(live, clock):
    start = clock.now
    unavailable(live.connection)
    clock.advance(minutes=31)
    connection = unavailable(live.connection)
    assert connection.status == "failed" and connection.problem_category == "exchange_unavailable"
    assert connection.failing_since == start  # when the exchange stopped answering
    assert connection.unreachable_since is None and connection.next_recheck_at > clock.now
    live.strategy.refresh_from_db()
    assert (live.strategy.status, live.strategy.pause_reason) == ("paused", "exchange_unavailable")
    (message,) = mail.outbox
    assert "resumes by itself" in message.body


def test_a_test_the_person_starts_shows_the_truth_at_once(live):
    connection = unavailable(live.connection, trigger="user")
    assert connection.status == "failed" and connection.problem_category == "exchange_unavailable"
    live.strategy.refresh_from_db()
    assert live.strategy.pause_reason == "exchange_unavailable"
    assert mail.outbox == []  # they are watching the page


def test_permanent_failure_of_a_recheck_fails_pauses_and_emails_at_once(live):
    connection = invalid_key(live.connection)
    assert connection.status == "failed" and connection.next_recheck_at is None
    live.strategy.refresh_from_db()
    assert live.strategy.pause_reason == "connection_failed"
    (message,) = mail.outbox
    assert "until a new test passes and you enable" in message.body


def test_permanent_failure_within_the_grace_period_still_fails_at_once(live):
    unavailable(live.connection)
    connection = invalid_key(live.connection)
    assert connection.status == "failed" and connection.problem_category == "invalid_key"


# --- Strategies resume ----------------------------------------------------------------------


def test_passing_test_resumes_only_strategies_paused_for_the_exchange_that_allow_it(alice, live):
    connection = live.connection
    manual = stored_strategy(alice, connection, name="Manual", status="enabled", auto_resume=False)
    mine = stored_strategy(alice, connection, name="Mine", status="paused", pause_reason="user")
    unavailable(connection, trigger="user")
    assert Strategy.objects.filter(pause_reason="exchange_unavailable").count() == 2
    retest(connection)
    statuses = {s.name: (s.status, s.pause_reason) for s in Strategy.objects.all()}
    assert statuses == {
        "Grid": ("enabled", ""),
        "Manual": ("paused", "exchange_unavailable"),
        "Mine": ("paused", "user"),
    }
    (event,) = AuditEvent.objects.filter(action="strategy_resumed")
    assert event.object_id == live.strategy.pk and event.data["reason"] == "exchange_unavailable"
    assert manual.pk != mine.pk


def test_permanent_pause_is_not_resumed_by_a_passing_test(live):
    invalid_key(live.connection)
    retest(live.connection)
    live.strategy.refresh_from_db()
    assert (live.strategy.status, live.strategy.pause_reason) == ("paused", "connection_failed")


def test_resume_waits_for_the_new_groups_connection_too(alice, live):
    other = online_connection(alice, name="Other")
    both = stored_strategy(
        alice, live.connection, name="Both", status="enabled", new_groups_connection=other
    )
    unavailable(live.connection, trigger="user")
    Connection.objects.filter(pk=other.pk).update(status="failed")
    retest(live.connection)
    both.refresh_from_db()
    assert both.status == "paused"


def test_strategies_ignore_unreachable_and_key_expiring(live):
    for kind in (hooks.UNREACHABLE, hooks.KEY_EXPIRING):
        changed = hooks.announce(hooks.ConnectionEvent(live.connection, kind, reason="x"))
        assert changed == 0
    live.strategy.refresh_from_db()
    assert live.strategy.status == "enabled"


# --- The scheduler --------------------------------------------------------------------------


def test_scheduler_rechecks_a_connection_in_backoff_when_due_and_not_before(live, clock):
    connection = unavailable(live.connection)
    clock.advance(seconds=30)
    services.connections_schedule_rechecks(now=clock.now)
    connection.refresh_from_db()
    assert connection.status == "online"
    clock.advance(seconds=31)
    services.connections_schedule_rechecks(now=clock.now)
    connection.refresh_from_db()
    assert connection.status == "testing"


def test_scheduler_retries_temporary_failures_but_not_permanent_ones(alice, clock):
    temporary = unavailable(online_connection(alice, name="T"), trigger="user")
    permanent = invalid_key(online_connection(alice, name="P"), trigger="user")
    clock.advance(minutes=11)
    services.connections_schedule_rechecks(now=clock.now)
    temporary.refresh_from_db()
    permanent.refresh_from_db()
    assert temporary.status == "testing" and permanent.status == "failed"


# --- Incidents ------------------------------------------------------------------------------


def _checked(owner, n, *, category, at, exchange="mexc"):
    rows = []
    for _ in range(n):
        connection = make_connection(owner, exchange=exchange)
        Connection.objects.filter(pk=connection.pk).update(status="online", last_tested_at=at)
        rows.append(
            ConnectionCheck.objects.create(
                connection=connection,
                trigger="schedule",
                state="finished",
                verdict="failed" if category else "online",
                category=category,
                finished_at=at,
            )
        )
    return rows


@pytest.mark.parametrize(
    ("failing", "passing", "opens"),
    [(4, 0, False), (5, 6, False), (5, 5, True), (9, 1, True)],
)
def test_an_incident_needs_enough_connections_and_a_large_enough_share(
    alice, clock, failing, passing, opens
):
    _checked(alice, failing, category="exchange_unavailable", at=clock.now - timedelta(minutes=2))
    _checked(alice, passing, category="", at=clock.now - timedelta(minutes=1))
    open_ones = services.connections_update_incidents(now=clock.now)
    assert ("mexc" in open_ones) is opens
    if opens:
        incident = open_ones["mexc"]
        assert incident.started_at == clock.now - timedelta(minutes=2)
        assert incident.events.get().kind == "opened"


def test_checks_outside_the_window_and_other_exchanges_do_not_count(alice, clock):
    _checked(alice, 10, category="exchange_unavailable", at=clock.now - timedelta(minutes=6))
    _checked(alice, 10, category="exchange_unavailable", at=clock.now, exchange="kucoin")
    assert set(services.connections_update_incidents(now=clock.now)) == {"kucoin"}


def test_an_incident_ends_when_the_exchange_answers_again(alice, clock):
    _checked(alice, 5, category="exchange_unavailable", at=clock.now)
    incident = services.connections_update_incidents(now=clock.now)["mexc"]
    clock.advance(minutes=1)
    _checked(alice, 1, category="", at=clock.now)
    assert services.connections_update_incidents(now=clock.now)  # one answer is not enough
    # A permanent failure is an answer too: the exchange is up.
    _checked(alice, 1, category="invalid_key", at=clock.now + timedelta(seconds=1))
    assert services.connections_update_incidents(now=clock.now) == {}
    incident.refresh_from_db()
    assert incident.ended_at == clock.now
    assert list(incident.events.values_list("kind", flat=True)) == ["opened", "ended"]


def test_escalation_fails_the_exchange_and_tells_each_user_once(alice, bob, clock):
    _checked(alice, 3, category="exchange_unavailable", at=clock.now)
    _checked(bob, 2, category="exchange_unavailable", at=clock.now)
    for connection in Connection.objects.all():
        stored_strategy(connection.owner, connection, name=f"S{connection.pk}", status="enabled")
    incident = services.connections_update_incidents(now=clock.now)["mexc"]
    clock.advance(minutes=29)
    services.connections_update_incidents(now=clock.now)
    assert mail.outbox == [] and Connection.objects.filter(status="online").count() == 5
    clock.advance(minutes=1)
    services.connections_update_incidents(now=clock.now)
    assert set(Connection.objects.values_list("status", flat=True)) == {"failed"}
    assert set(Strategy.objects.values_list("pause_reason", flat=True)) == {"exchange_unavailable"}
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]
    services.incident_escalate(incident=incident, now=clock.now)  # run again: nobody twice
    assert len(mail.outbox) == 2 and IncidentNotice.objects.count() == 2
    incident.refresh_from_db()
    assert incident.users_notified == 2 and incident.connections_failed == 5
    assert AuditEvent.objects.filter(action="exchange_outage").count() == 5


# --- Key expiry -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "due"),
    [
        (timedelta(days=15), None),
        (timedelta(days=14), 14),
        (timedelta(days=4), 14),
        (timedelta(days=3), 3),
        (timedelta(hours=30), 3),
        (timedelta(days=1), 1),
        (timedelta(hours=-1), 0),
    ],
)
def test_reminder_due(left, due):
    now = services.timezone.now().replace(hour=12)
    assert expiry.reminder_due(now + left, now) == due


def test_expiry_day_is_the_calendar_day():
    now = services.timezone.now().replace(hour=0, minute=30)
    assert expiry.reminder_due(now + timedelta(hours=3), now) == 0


@pytest.mark.parametrize(
    ("exchange", "ip_restricted", "implied"),
    [("mexc", None, True), ("mexc", False, True), ("mexc", True, False), ("kucoin", None, False)],
)
def test_implied_expiry(alice, exchange, ip_restricted, implied):
    connection = make_connection(alice, exchange=exchange)
    report = SimpleNamespace(verdict="online", ip_restricted=ip_restricted)
    expected = connection.created_at + timedelta(days=90) if implied else None
    assert expiry.implied_expiry(connection, report) == expected


def test_implied_expiry_counts_from_the_key_replacement(alice):
    connection = make_connection(alice)
    connection.key_replaced_at = connection.created_at + timedelta(days=40)
    report = SimpleNamespace(verdict="online", ip_restricted=None)
    assert expiry.implied_expiry(connection, report) == connection.created_at + timedelta(days=130)


def test_key_expiry_pauses_on_the_day_and_not_for_a_replaced_key(live, clock):
    Connection.objects.filter(pk=live.connection.pk).update(key_expires_at=clock.now)
    assert services.connections_key_expiry(now=clock.now) == 1
    live.strategy.refresh_from_db()
    assert live.strategy.pause_reason == "key_expired"
    event = AuditEvent.objects.filter(action="key_expiry_reminder").get()
    assert event.data["days_before"] == 0
    assert services.connections_key_expiry(now=clock.now) == 0
    # A new key has no expiry until its test says (or implies) one: nothing more is sent.
    services.connection_replace_key(
        connection=live.connection, api_key="demo-key-new", api_secret="s", actor=None
    )
    assert services.connections_key_expiry(now=clock.now + timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("then", ["permanent failure", "key replaced"])
def test_a_later_permanent_reason_takes_over_a_temporary_pause(alice, live, then):
    unavailable(live.connection, trigger="user")
    if then == "permanent failure":
        invalid_key(live.connection, trigger="user")
    else:
        services.connection_replace_key(
            connection=live.connection, api_key="demo-key-new-1", api_secret="s", actor=alice
        )
    retest(live.connection)
    live.strategy.refresh_from_db()
    assert live.strategy.status == "paused"
    assert live.strategy.pause_reason in ("connection_failed", "key_replaced")
    assert live.connection.unreachable_since is None


def test_auto_resume_is_on_for_a_new_strategy_and_kept_by_an_update_that_omits_it(alice):
    from strategies import services as strategy_services
    from tests.strategies.factories import make_strategy, values

    connection = online_connection(alice)
    strategy = make_strategy(alice, connection)
    assert strategy.auto_resume is True
    strategy = strategy_services.strategy_update(
        strategy=strategy, values=values(connection, auto_resume=False), actor=alice
    )
    assert strategy.auto_resume is False
    strategy = strategy_services.strategy_update(
        strategy=strategy, values=values(connection, name="Renamed"), actor=alice
    )
    assert strategy.auto_resume is False and strategy.name == "Renamed"
