"""The dashboard: connections with their strategies, in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from connections.models import Connection
from strategies.models import Strategy
from tests.connections.factories import make_connection
from tests.strategies.factories import make_strategy, online_connection

pytestmark = pytest.mark.django_db


def test_empty_dashboard_calls_to_add_a_connection(alice_client):
    html = alice_client.get(reverse("home")).content.decode()
    assert 'id="dashboard-empty"' in html
    assert reverse("connections:new") in html


def test_dashboard_lists_connections_with_their_strategies(alice, alice_client):
    conn = online_connection(alice, name="Demo Spot Main")
    strategy = make_strategy(alice, conn, name="BTC Grid")
    idle = make_connection(alice, exchange="demo", name="Untested one")
    html = alice_client.get(reverse("home")).content.decode()
    assert "Demo Spot Main" in html and "BTC Grid" in html and "Draft" in html
    assert f'href="{reverse("strategies:detail", args=[strategy.pk])}"' in html
    # A connection without strategies offers one; an untested one asks for its test.
    assert f"{reverse('strategies:new')}?connection={idle.pk}" in html
    assert "Run the connection test" in html


def test_dashboard_shows_why_a_strategy_is_paused(alice, alice_client):
    conn = online_connection(alice)
    strategy = make_strategy(alice, conn)
    Strategy.objects.filter(pk=strategy.pk).update(
        status="paused", pause_reason="connection_failed"
    )
    Connection.objects.filter(pk=conn.pk).update(status="failed", problem_category="ip_not_allowed")
    html = alice_client.get(reverse("home")).content.decode()
    assert "Its connection failed its test" in html
    assert "Its last test failed: IP not allowed." in html


def test_dashboard_shows_only_own_objects(alice, bob_client):
    make_strategy(alice, online_connection(alice, name="Alice key"), name="Alice plan")
    html = bob_client.get(reverse("home")).content.decode()
    assert "Alice key" not in html and "Alice plan" not in html


def _queries(client) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_grow_with_connections_or_strategies(alice, alice_client):
    conn = online_connection(alice, name="C0")
    make_strategy(alice, conn, name="S0")
    one = _queries(alice_client)
    for n in range(1, 10):
        other = online_connection(alice, name=f"C{n}")
        make_strategy(alice, other, name=f"S{n}")
        make_strategy(alice, other, name=f"T{n}", new_groups_connection=conn)
    assert Connection.objects.count() == 10 and Strategy.objects.count() == 19
    ten = _queries(alice_client)
    assert ten == one
    html = alice_client.get(reverse("home")).content.decode()
    assert all(f"S{n}" in html for n in range(10))


def test_dashboard_queries_are_few(alice, alice_client, django_assert_max_num_queries):
    make_strategy(alice, online_connection(alice))
    # session + user + the data version + connections + their strategies
    with django_assert_max_num_queries(5):
        alice_client.get(reverse("home"))
    # Rendered cards come from the cache until something changes.
    with django_assert_max_num_queries(3):
        alice_client.get(reverse("home"))


def test_cached_dashboard_follows_every_change_and_language(alice, alice_client):
    from connections import services as connection_services
    from strategies.models import Strategy

    connection = online_connection(alice, name="First Name")
    assert "First Name" in alice_client.get(reverse("home")).content.decode()
    connection_services.connection_rename(connection=connection, name="Second Name", actor=alice)
    html = alice_client.get(reverse("home")).content.decode()
    assert "Second Name" in html and "First Name" not in html
    strategy = make_strategy(alice, connection)
    assert strategy.name in alice_client.get(reverse("home")).content.decode()
    Strategy.objects.get(pk=strategy.pk).delete()
    assert strategy.name not in alice_client.get(reverse("home")).content.decode()
    alice_client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert "Neue Strategie" in alice_client.get(reverse("home")).content.decode()


def test_cached_dashboard_follows_a_write_committed_after_a_newer_one(alice, alice_client):
    """Issue 14: the version must change even when the last commit carries an older timestamp.

    Two transactions take `updated_at` when they write and commit in the other order: the one
    committed last is not the newest row, so MAX(updated_at) did not move and the cached cards
    kept the old name.
    """
    from datetime import timedelta

    from django.utils import timezone

    first = online_connection(alice, name="Alpha")
    second = online_connection(alice, name="Beta")
    now = timezone.now()
    Connection.objects.filter(pk=second.pk).update(
        name="Beta 2", updated_at=now + timedelta(seconds=2)
    )
    assert "Beta 2" in alice_client.get(reverse("home")).content.decode()  # cached now
    Connection.objects.filter(pk=first.pk).update(
        name="Alpha 2", updated_at=now + timedelta(seconds=1)
    )
    html = alice_client.get(reverse("home")).content.decode()
    assert "Alpha 2" in html and "Beta 2" in html


@pytest.mark.django_db(transaction=True)
def test_cached_dashboard_follows_concurrent_writes_committed_out_of_order(alice, alice_client):
    """The same with two real transactions on PostgreSQL: the older write commits last."""
    import threading

    from django.db import connection as thread_db
    from django.db import transaction

    from tests.integration.conftest import require_services

    require_services()
    first = online_connection(alice, name="Alpha")
    second = online_connection(alice, name="Beta")
    written, release = threading.Event(), threading.Event()

    def slow_rename() -> None:
        try:
            with transaction.atomic():
                row = Connection.objects.get(pk=first.pk)
                row.name = "Alpha 2"
                row.save(update_fields=["name", "updated_at"])  # takes its timestamp now
                written.set()
                release.wait(10)
        finally:
            thread_db.close()

    thread = threading.Thread(target=slow_rename)
    thread.start()
    assert written.wait(10)
    row = Connection.objects.get(pk=second.pk)
    row.name = "Beta 2"
    row.save(update_fields=["name", "updated_at"])  # newer timestamp, committed first
    assert "Beta 2" in alice_client.get(reverse("home")).content.decode()  # cached now
    release.set()
    thread.join(10)
    html = alice_client.get(reverse("home")).content.decode()
    assert "Alpha 2" in html and "Beta 2" in html
