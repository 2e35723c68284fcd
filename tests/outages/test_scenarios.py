"""The issue's scenarios against the exchange simulator, on a frozen clock (issue 17):
a short outage, a long one, a permanent failure during an incident, a key's reminders."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core import mail

from connections import services
from connections.models import AuditEvent, Connection, ExchangeIncident, KeyExpiryReminder
from strategies.models import Strategy
from tests.outages.conftest import beat, mexc_fleet, recheck
from tests.strategies.factories import stored_strategy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mail_at_once")]


def _outage_begins(sim, clock, owners):
    fleet = mexc_fleet(sim, owners)
    mail.outbox.clear()
    clock.advance(minutes=31)  # every connection is due for its re-check
    sim.set_fault("mexc", "maintenance")
    assert sorted(beat(clock)) == sorted(c.pk for c in fleet)
    return fleet


def test_outage_shorter_than_the_grace_period_changes_nothing(sim, clock, alice, bob):
    fleet = _outage_begins(sim, clock, [alice, bob])
    assert set(Connection.objects.values_list("status", flat=True)) == {"online"}
    assert Connection.objects.filter(unreachable_since__isnull=False).count() == len(fleet)

    clock.advance(minutes=1)
    probed = beat(clock)
    incident = ExchangeIncident.objects.get(exchange="mexc", ended_at__isnull=True)
    # Re-checks slowed to the probes: the rest of the fleet is held.
    assert len(probed) == 2
    for _ in range(10):
        clock.advance(minutes=1)
        assert len(beat(clock)) == 2
    sim.clear_faults("mexc")
    clock.advance(minutes=1)
    beat(clock)  # the probes pass
    clock.advance(minutes=1)
    beat(clock)  # the incident ends; the held connections are re-checked at the normal pace
    incident.refresh_from_db()
    assert incident.ended_at == clock.now and incident.escalated_at is None
    assert incident.events.filter(kind="ended").exists()

    assert set(Connection.objects.values_list("status", flat=True)) == {"online"}
    assert not Connection.objects.filter(unreachable_since__isnull=False).exists()
    assert set(Strategy.objects.values_list("status", flat=True)) == {"enabled"}
    assert not AuditEvent.objects.filter(action="strategy_paused").exists()
    assert mail.outbox == []


def test_long_outage_pauses_once_emails_each_user_once_and_resumes(sim, clock, alice, bob):
    fleet = _outage_begins(sim, clock, [alice, bob])
    careful = Strategy.objects.filter(owner=bob).order_by("pk").first()
    Strategy.objects.filter(pk=careful.pk).update(auto_resume=False)
    for minutes in (1, 5, 5, 5, 5, 5, 5):  # 31 minutes after the first failure
        clock.advance(minutes=minutes)
        beat(clock)
    incident = ExchangeIncident.objects.get(exchange="mexc")
    assert incident.escalated_at is not None and incident.ended_at is None
    assert set(Connection.objects.values_list("status", flat=True)) == {"failed"}
    assert set(Strategy.objects.values_list("pause_reason", flat=True)) == {"exchange_unavailable"}
    assert sorted(m.to[0] for m in mail.outbox) == [alice.email, bob.email]
    assert all("MEXC is not answering" in m.subject for m in mail.outbox)
    assert incident.users_notified == 2 and incident.connections_failed == len(fleet)

    for _ in range(3):  # more of the outage: no more email
        clock.advance(minutes=5)
        beat(clock)
    assert len(mail.outbox) == 2

    sim.clear_faults("mexc")
    for _ in range(3):
        clock.advance(minutes=1)
        beat(clock)
    incident.refresh_from_db()
    assert incident.ended_at is not None
    assert set(Connection.objects.values_list("status", flat=True)) == {"online"}
    careful.refresh_from_db()
    assert careful.status == "paused" and careful.pause_reason == "exchange_unavailable"
    others = Strategy.objects.exclude(pk=careful.pk)
    assert set(others.values_list("status", flat=True)) == {"enabled"}
    resumed = AuditEvent.objects.filter(action="strategy_resumed")
    assert resumed.count() == len(fleet) - 1
    assert {e.data["reason"] for e in resumed} == {"exchange_unavailable"}
    assert len(mail.outbox) == 2


def test_permanent_failure_during_an_incident_still_fails_at_once(sim, clock, alice, bob):
    fleet = _outage_begins(sim, clock, [alice, bob])
    clock.advance(minutes=1)
    beat(clock)
    assert ExchangeIncident.objects.filter(ended_at__isnull=True).exists()
    revoked = fleet[0]
    sim.clear_faults("mexc")  # MEXC answers this one call...
    sim.remove_key("mexc", revoked.api_key.reveal())
    recheck(revoked)
    sim.set_fault("mexc", "maintenance")
    assert revoked.status == "failed" and revoked.problem_category == "invalid_key"
    strategy = revoked.strategies.get()
    assert strategy.status == "paused" and strategy.pause_reason == "connection_failed"
    # A permanent failure is not held for the incident's email.
    assert [m.to[0] for m in mail.outbox] == [alice.email]
    assert "failed its test" in mail.outbox[0].subject
    # ... and it does not resume when the exchange is back.
    sim.clear_faults("mexc")
    for _ in range(3):
        clock.advance(minutes=1)
        beat(clock)
    strategy.refresh_from_db()
    assert strategy.status == "paused"


def test_key_expiry_reminders_come_14_3_and_1_days_before_then_strategies_pause(sim, clock, alice):
    alice.language = "de"
    alice.save(update_fields=["language"])
    (connection,) = mexc_fleet(sim, [alice], per_owner=1)
    stored_strategy(alice, connection, name="Second", status="enabled")
    # MEXC cannot tell whether the key is bound to an IP: 90 days from its creation.
    expires = connection.key_expires_at
    assert expires is not None
    assert (expires - connection.created_at).days == 90
    mail.outbox.clear()
    expiry_day = datetime.combine(expires.date(), time(0, 0, 1), tzinfo=UTC)
    sent = []
    for at in (
        expires.__sub__(services.timedelta(days=20)),
        expires - services.timedelta(days=14),
        expires - services.timedelta(days=14),  # the same run twice
        expires - services.timedelta(days=13),
        expires - services.timedelta(days=3),
        expires - services.timedelta(days=2),
        expires - services.timedelta(days=1),
        expiry_day,
        expiry_day + services.timedelta(hours=5),
        expiry_day + services.timedelta(days=1),
    ):
        clock.now = max(at, clock.now)
        sent.append(services.connections_key_expiry(now=clock.now))
        if clock.now < expiry_day:
            assert set(connection.strategies.values_list("status", flat=True)) == {"enabled"}
    assert sent == [0, 1, 0, 0, 1, 0, 1, 1, 0, 0]
    reminders = KeyExpiryReminder.objects.filter(connection=connection)
    assert sorted(reminders.values_list("days_before", flat=True)) == [0, 1, 3, 14]
    assert set(connection.strategies.values_list("pause_reason", flat=True)) == {"key_expired"}
    assert len(mail.outbox) == 4
    # In the owner's language (Django's own German month names), with what to do.
    assert any(
        month in mail.outbox[0].body
        for month in (
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        )
    )
    assert "/replace-key/" in mail.outbox[0].body
    assert "203.0.113.10" in mail.outbox[0].body  # bind the key to our IPs: it then never expires
