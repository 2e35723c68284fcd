from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from connections import services
from connections.models import AuditEvent, ConnectionCheck
from tests.conftest import enable_totp, passed_two_factor
from tests.connections.factories import MEXC_SECRET, make_connection
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db

PASSPHRASE = "canary-passphrase-7f3a"


@pytest.fixture
def support(django_user_model):
    out = StringIO()
    call_command("create_support_user", "help@backfuture.example", stdout=out)
    assert "One-time password" in out.getvalue()
    return django_user_model.objects.get(email="help@backfuture.example")


@pytest.fixture
def support_client(client, support):
    """A support member past their first login: own password chosen, TOTP set up."""
    support.must_change_password = False
    support.save(update_fields=["must_change_password"])
    enable_totp(support)
    client.force_login(support)
    passed_two_factor(client, support)
    return client


@pytest.fixture
def kucoin(alice):
    return make_connection(alice, exchange="kucoin", passphrase=PASSPHRASE, name="KuCoin Main")


@pytest.fixture
def strategy(alice, kucoin):
    return stored_strategy(alice, kucoin, name="Grid", status="enabled")


def test_support_group_has_exactly_the_intended_permissions():
    codenames = set(
        Group.objects.get(name="Support").permissions.values_list("codename", flat=True)
    )
    assert codenames == {
        "view_user",
        "view_connection",
        "view_connectioncheck",
        "view_auditevent",
        "view_strategy",
        "view_exchangeincident",
        "view_incidentevent",
        "run_connection_test",
        "pause_strategies",
    }


def test_create_support_user_makes_staff_in_the_group(support):
    assert support.is_staff and not support.is_superuser
    assert support.groups.filter(name="Support").exists()


def test_create_support_user_rejects_bad_email():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_support_user", "not-an-email")


def admin_urls(kucoin, strategy, alice):
    check = services.connection_request_check(connection=kucoin, trigger="user", enqueue=False)
    event = AuditEvent.objects.filter(connection_id_ref=kucoin.pk).first()
    return [
        reverse("admin:index"),
        reverse("admin:connections_connection_changelist"),
        reverse("admin:connections_connection_changelist") + "?q=alice",
        reverse("admin:connections_connection_change", args=[kucoin.pk]),
        reverse("admin:connections_connection_history", args=[kucoin.pk]),
        reverse("admin:connections_connectioncheck_changelist"),
        reverse("admin:connections_connectioncheck_change", args=[check.pk]),
        reverse("admin:connections_auditevent_changelist"),
        reverse("admin:connections_auditevent_change", args=[event.pk]),
        reverse("admin:strategies_strategy_changelist"),
        reverse("admin:strategies_strategy_change", args=[strategy.pk]),
        reverse("admin:users_user_changelist"),
        reverse("admin:users_user_change", args=[alice.pk]),
    ]


def test_support_sees_every_page_but_never_a_secret(support_client, kucoin, strategy, alice):
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, key_fingerprint FROM connections_connection WHERE id=%s", [kucoin.pk]
        )
        ciphertext, fp = cursor.fetchone()
    plain_key = kucoin.api_key if isinstance(kucoin.api_key, str) else kucoin.api_key.reveal()
    for url in admin_urls(kucoin, strategy, alice):
        response = support_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in (
            plain_key,
            PASSPHRASE,
            "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3",
            ciphertext,
            fp,
        ):
            assert secret not in body, (url, secret[:6])
    change = support_client.get(reverse("admin:connections_connection_change", args=[kucoin.pk]))
    assert kucoin.key_hint in change.content.decode()


def test_support_cannot_add_edit_or_delete_connections(support_client, kucoin):
    assert support_client.get(reverse("admin:connections_connection_add")).status_code == 403
    assert (
        support_client.get(
            reverse("admin:connections_connection_delete", args=[kucoin.pk])
        ).status_code
        == 403
    )
    response = support_client.post(
        reverse("admin:connections_connection_change", args=[kucoin.pk]), {"name": "hacked"}
    )
    assert response.status_code == 403
    kucoin.refresh_from_db()
    assert kucoin.name == "KuCoin Main"


def test_support_can_run_a_test_from_the_admin(
    support_client, support, kucoin, monkeypatch, django_capture_on_commit_callbacks
):
    from connections import tasks

    sent = []
    monkeypatch.setattr(
        tasks.connection_check, "apply_async", lambda args=None, **kw: sent.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = support_client.post(
            reverse("admin:connections_connection_changelist"),
            {"action": "run_connection_test", "_selected_action": [kucoin.pk]},
        )
    assert response.status_code == 302
    check = ConnectionCheck.objects.get(connection=kucoin)
    assert sent == [[check.pk]]
    assert check.trigger == "support" and check.requested_by == support
    event = AuditEvent.objects.get(action="test_requested")
    assert event.actor == support and event.actor_kind == "staff"


def test_support_can_pause_strategies(support_client, support, kucoin, strategy):
    support_client.post(
        reverse("admin:connections_connection_changelist"),
        {"action": "pause_strategies", "_selected_action": [kucoin.pk]},
    )
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "support"
    assert AuditEvent.objects.filter(action="strategy_paused", actor=support).exists()


def test_support_can_pause_from_the_strategy_admin(support_client, strategy):
    support_client.post(
        reverse("admin:strategies_strategy_changelist"),
        {"action": "pause", "_selected_action": [strategy.pk]},
    )
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "support"


def test_user_admin_shows_language_2fa_and_connection_count(support_client, alice, kucoin):
    body = support_client.get(reverse("admin:users_user_changelist")).content.decode()
    assert "alice@example.com" in body
    assert 'class="field-connection_count">1<' in body


def test_plain_user_cannot_reach_the_admin(alice_client):
    response = alice_client.get(reverse("admin:connections_connection_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_every_connection_service_writes_its_audit_event(alice, kucoin):
    services.connection_rename(connection=kucoin, name="Renamed", actor=alice)
    services.connection_replace_key(
        connection=kucoin,
        api_key="6705f5c311545b000157aaaa",
        api_secret=MEXC_SECRET + "-ab",
        passphrase="new pass",
        actor=alice,
    )
    check = services.connection_request_check(
        connection=kucoin, trigger="user", requested_by=alice, enqueue=False
    )
    services.connection_run_check(check_id=check.pk) if False else None
    from datetime import UTC, datetime

    from connections.exchanges.base import Market, ReportBuilder

    services.connection_record_report(
        check_id=check.pk,
        report=ReportBuilder("kucoin", Market.SPOT, datetime.now(UTC)).finish(datetime.now(UTC)),
    )
    services.connection_delete(connection=kucoin, actor=alice)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "connection_created",
        "connection_renamed",
        "key_replaced",
        "test_requested",
        "test_finished",
        "connection_deleted",
    ]
    rename = AuditEvent.objects.get(action="connection_renamed")
    assert rename.data == {"from": "KuCoin Main", "to": "Renamed"}
    assert AuditEvent.objects.get(action="test_finished").actor_kind == "system"
    # No event ever holds key material.
    for data in AuditEvent.objects.values_list("data", flat=True):
        assert PASSPHRASE not in str(data) and "new pass" not in str(data)


def test_users_see_their_own_events_only(alice_client, alice, bob, kucoin):
    services.connection_rename(connection=kucoin, name="Alice Renamed", actor=alice)
    bobs = make_connection(bob, name="Bob Conn")
    services.connection_rename(connection=bobs, name="Bob Renamed", actor=bob)
    html = alice_client.get(reverse("connections:detail", args=[kucoin.pk])).content.decode()
    assert "Connection renamed" in html and "Connection created" in html
    assert "Bob Renamed" not in html


def test_audit_record_drops_secret_keys_from_data(alice, kucoin):
    from connections import audit

    event = audit.record(
        kucoin, "admin_action", actor=alice, data={"api_secret": "x", "note": "ok"}
    )
    assert event.data == {"note": "ok"}
