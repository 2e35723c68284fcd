"""What pages show of outages and expiring keys (issue 17): the connection's status during the
grace period, the incident banner, the strategy's auto-resume choice, the dashboard's order,
and the incidents' admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from django.utils import timezone

from connections import services
from connections.models import Connection, ExchangeIncident, IncidentEvent
from strategies.models import Strategy
from tests.conftest import passed_two_factor
from tests.connections.factories import make_connection
from tests.strategies.factories import form_data, online_connection, stored_strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def mexc(alice):
    connection = make_connection(alice, name="MEXC Main")
    Connection.objects.filter(pk=connection.pk).update(status="online")
    connection.refresh_from_db()
    return connection


@pytest.fixture
def incident(mexc):
    started = timezone.now() - timedelta(minutes=5)
    incident = ExchangeIncident.objects.create(
        exchange="mexc", started_at=started, detected_at=timezone.now()
    )
    IncidentEvent.objects.create(incident=incident, at=timezone.now(), kind="opened")
    services.incidents_publish()
    return incident


def test_online_connection_within_the_grace_period_says_since_when(alice_client, mexc):
    since = timezone.now().replace(hour=14, minute=2)
    Connection.objects.filter(pk=mexc.pk).update(unreachable_since=since)
    html = alice_client.get(reverse("connections:detail", args=[mexc.pk])).content.decode()
    assert "Online — the last check could not reach MEXC since" in html
    assert timezone.localtime(since).strftime("%H:%M").lstrip("0") in html or "2:02" in html


def test_the_status_partial_says_it_too(alice_client, mexc):
    Connection.objects.filter(pk=mexc.pk).update(unreachable_since=timezone.now())
    response = alice_client.get(
        reverse("connections:status", args=[mexc.pk]), headers={"HX-Request": "true"}
    )
    assert "could not reach MEXC" in response.content.decode()


@pytest.mark.parametrize(
    "page", ["home", "connections:list", "connections:detail", "strategies:detail"]
)
def test_every_page_showing_the_exchange_carries_the_banner(
    alice, alice_client, mexc, incident, page
):
    strategy = stored_strategy(alice, mexc, name="Grid", status="enabled")
    args = {"connections:detail": [mexc.pk], "strategies:detail": [strategy.pk]}.get(page, [])
    html = alice_client.get(reverse(page, args=args)).content.decode()
    assert f'id="exchange-incident-{incident.pk}"' in html
    assert "MEXC is not answering since" in html
    assert "your connections and strategies are unchanged; we keep checking" in html


def test_the_banner_says_what_changed_once_the_incident_escalated(alice_client, incident):
    ExchangeIncident.objects.filter(pk=incident.pk).update(escalated_at=timezone.now())
    services.incidents_publish()
    html = alice_client.get(reverse("home")).content.decode()
    assert "strategies on it are paused and those that allow it resume by themselves" in html


def test_no_banner_for_someone_without_a_connection_on_that_exchange(bob, bob_client, incident):
    online_connection(bob)  # a demo connection only
    assert "is not answering" not in bob_client.get(reverse("home")).content.decode()


def test_the_banner_goes_when_the_incident_ends(alice_client, incident):
    ExchangeIncident.objects.filter(pk=incident.pk).update(ended_at=timezone.now())
    services.incidents_publish()
    assert "is not answering" not in alice_client.get(reverse("home")).content.decode()


def test_strategy_page_shows_the_auto_resume_choice(alice, alice_client):
    connection = online_connection(alice)
    on = stored_strategy(alice, connection, name="On")
    off = stored_strategy(alice, connection, name="Off", auto_resume=False)
    html = alice_client.get(reverse("strategies:detail", args=[on.pk])).content.decode()
    assert "Resumes by itself once its connection passes a test again" in html
    html = alice_client.get(reverse("strategies:detail", args=[off.pk])).content.decode()
    assert "Stays paused until you enable it" in html


def test_paused_strategy_says_it_will_resume(alice, alice_client):
    connection = online_connection(alice)
    strategy = stored_strategy(
        alice, connection, status="paused", pause_reason="exchange_unavailable"
    )
    html = alice_client.get(reverse("strategies:detail", args=[strategy.pk])).content.decode()
    assert "Its exchange did not answer" in html
    assert "It resumes by itself once its connection passes a test again." in html


def test_new_strategy_form_offers_auto_resume_on_by_default(alice, alice_client):
    online_connection(alice)
    html = alice_client.get(reverse("strategies:new")).content.decode()
    assert 'name="auto_resume"' in html
    field = html[html.index('name="auto_resume"') - 200 : html.index('name="auto_resume"') + 200]
    assert "checked" in field


def test_switching_auto_resume_off_keeps_an_enabled_strategy_running(alice, alice_client):
    connection = online_connection(alice)
    response = alice_client.post(reverse("strategies:new"), form_data(connection, auto_resume="on"))
    strategy = Strategy.objects.get()
    assert response.status_code in (302, 303) and strategy.auto_resume is True
    Strategy.objects.filter(pk=strategy.pk).update(status="enabled")
    alice_client.post(reverse("strategies:edit", args=[strategy.pk]), form_data(connection))
    strategy.refresh_from_db()
    assert strategy.auto_resume is False and strategy.status == "enabled"


def test_dashboard_lists_keys_expiring_within_14_days_first(alice, alice_client):
    first = online_connection(alice, name="A first by name")
    soon = online_connection(alice, name="Z expiring soon")
    later = online_connection(alice, name="M expiring later")
    Connection.objects.filter(pk=soon.pk).update(key_expires_at=timezone.now() + timedelta(days=3))
    Connection.objects.filter(pk=later.pk).update(
        key_expires_at=timezone.now() + timedelta(days=60)
    )
    html = alice_client.get(reverse("home")).content.decode()
    positions = [html.index(f'id="dashboard-connection-{c.pk}"') for c in (soon, first, later)]
    assert positions == sorted(positions)
    assert f'id="dashboard-key-expiry-{soon.pk}"' in html
    assert f'id="dashboard-key-expiry-{later.pk}"' not in html
    assert reverse("connections:replace_key", args=[soon.pk]) in html


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, django_user_model):
    root = django_user_model.objects.create_superuser(email="root@example.com", password="x")
    TOTP.activate(root, generate_totp_secret())
    client.force_login(root)
    passed_two_factor(client, root)
    return client


def test_support_sees_incidents_with_their_timeline(staff_client, incident):
    listing = staff_client.get(reverse("admin:connections_exchangeincident_changelist"))
    assert listing.status_code == 200 and "(ongoing)" in listing.content.decode()
    page = staff_client.get(
        reverse("admin:connections_exchangeincident_change", args=[incident.pk])
    )
    html = page.content.decode()
    assert page.status_code == 200 and "Opened" in html
    assert 'name="_save"' not in html  # read-only


def test_incident_admin_refuses_lookups_it_does_not_filter_by(staff_client, incident):
    url = reverse("admin:connections_exchangeincident_changelist")
    assert staff_client.get(url + "?exchange=mexc").status_code == 200
    assert staff_client.get(url + "?probes__gt=0").status_code != 200
