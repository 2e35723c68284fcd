"""One key, one connection, claimed by a passing test (issue 14, point 10; docs/security.md).

Anyone may register a key another user holds (refusing would confirm it is registered), but
only a passing test claims it: the first connection whose test passes keeps the key, and a
later passing test of the same key elsewhere fails. Connections that registered the key without
passing a test are not told when its owner claims it (that would tell someone who knows only
the key string that its owner connected it here). No message names another account or its
connection.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from connections import services
from connections.exchanges import registry
from connections.models import AuditEvent, Connection, ConnectionCheck
from tests.connections.factories import MEXC_SECRET, make_connection, mexc_key
from tests.connections.test_checks import FakeClient, failed, online
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_client(monkeypatch):
    def install(outcome):
        monkeypatch.setattr(registry, "build_client", lambda *a, **k: FakeClient(outcome))

    return install


@pytest.fixture
def key():
    return mexc_key()


def connect(owner, key, name):
    return make_connection(owner, exchange="mexc", api_key=key, name=name)


def run_test(conn, fake_client, outcome=online) -> str:
    fake_client(outcome)
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)
    return services.connection_run_check(check_id=check.pk)


def test_first_passing_test_claims_the_key(alice, fake_client, key):
    conn = connect(alice, key, "Main")
    assert run_test(conn, fake_client) == "online"
    conn.refresh_from_db()
    assert conn.status == "online" and conn.key_verified


def test_owner_claims_a_key_someone_registered_first_without_testing(
    alice, bob, fake_client, key, client
):
    squatter = connect(bob, key, "Bob's copy")
    stored_strategy(bob, squatter, name="Grid")
    in_flight = services.connection_request_check(
        connection=squatter, trigger="user", enqueue=False
    )
    owner = connect(alice, key, "Alice main")
    assert run_test(owner, fake_client) == "online"

    owner.refresh_from_db()
    squatter.refresh_from_db()
    assert owner.status == "online" and owner.key_verified
    # Nothing on the squatter's side changes: its page, events and mail say nothing of it.
    assert squatter.status == "testing" and not squatter.key_verified
    assert squatter.problem_category == "" and squatter.strategies.get().status != "enabled"
    assert set(AuditEvent.objects.filter(owner=bob).values_list("action", flat=True)) == {
        "connection_created",
        "test_requested",
    }
    client.force_login(bob)
    body = client.get(reverse("connections:detail", args=[squatter.pk])).content.decode()
    assert "already connected" not in body and "elsewhere" not in body
    assert "alice" not in body.lower() and "Alice main" not in body
    # Its own test, should it pass at the exchange (only with the key's secret), cannot claim
    # the key: it fails as "Key already connected", naming no one.
    fake_client(online)
    assert services.connection_run_check(check_id=in_flight.pk) == "failed"
    squatter.refresh_from_db()
    assert squatter.problem_category == "key_in_use" and not squatter.key_verified


def test_a_later_passing_test_of_a_claimed_key_fails_without_naming_the_holder(
    alice, bob, fake_client, key, client
):
    holder = connect(alice, key, "Alice main")
    assert run_test(holder, fake_client) == "online"
    late = connect(bob, key, "Bob's copy")
    assert run_test(late, fake_client) == "failed"

    late.refresh_from_db()
    holder.refresh_from_db()
    assert late.status == "failed" and late.problem_category == "key_in_use"
    assert not late.key_verified
    assert holder.status == "online" and holder.key_verified
    check = late.checks.get()
    assert check.verdict == "failed" and check.category == "key_in_use"

    client.force_login(bob)
    body = client.get(reverse("connections:detail", args=[late.pk])).content.decode()
    assert "This API key is already connected here" in body
    assert "alice" not in body.lower() and "Alice main" not in body


def test_a_failing_test_claims_nothing(alice, bob, fake_client, key):
    first = connect(bob, key, "Bob's copy")
    second = connect(alice, key, "Alice main")
    assert run_test(second, fake_client, failed("invalid_key")) == "failed"
    first.refresh_from_db()
    second.refresh_from_db()
    assert not first.key_verified and not second.key_verified
    assert first.status == "untested"


def test_a_verified_connection_keeps_its_key_through_later_tests(alice, bob, fake_client, key):
    holder = connect(alice, key, "Alice main")
    run_test(holder, fake_client)
    other = connect(bob, key, "Bob's copy")
    Connection.objects.filter(pk=holder.pk).update(last_tested_at=None)
    ConnectionCheck.objects.all().update(created_at="2000-01-01T00:00:00Z")
    assert run_test(holder, fake_client) == "online"
    other.refresh_from_db()
    assert other.status == "untested"  # it lost nothing new: it only loses when it passes


def test_replacing_the_key_gives_up_the_claim(alice, bob, fake_client, key):
    holder = connect(alice, key, "Alice main")
    run_test(holder, fake_client)
    services.connection_replace_key(
        connection=holder,
        api_key=mexc_key(),
        api_secret=MEXC_SECRET,
        withdrawal_off_confirmed=True,
        actor=alice,
    )
    holder.refresh_from_db()
    assert not holder.key_verified
    newcomer = connect(bob, key, "Bob's copy")
    assert run_test(newcomer, fake_client) == "online"


def test_the_database_refuses_two_verified_connections_with_one_key(alice, bob, key):
    first, second = connect(alice, key, "A"), connect(bob, key, "B")
    Connection.objects.filter(pk=first.pk).update(key_verified=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.filter(pk=second.pk).update(key_verified=True)
