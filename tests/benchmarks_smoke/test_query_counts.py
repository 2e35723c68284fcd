"""Issue 11.2: the dashboard, the connections list and the strategies list cost the same number
of SQL queries for 1, 10 and 500 connections with as many strategies (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.common import populate
from connections.models import Connection
from strategies.models import Strategy

pytestmark = pytest.mark.django_db

PAGES = ("home", "connections:list", "strategies:list")
SIZES = (1, 10, 500)


def count_queries(client, name: str) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        response = client.get(reverse(name))
    assert response.status_code == 200
    return len(queries)


def test_page_query_counts_do_not_grow_with_connections_and_strategies(alice, alice_client):
    counts: dict[str, list[int]] = {name: [] for name in PAGES}
    for size in SIZES:
        populate(alice, size)
        assert Connection.objects.filter(owner=alice).count() == size
        assert Strategy.objects.filter(owner=alice).count() == size
        for name in PAGES:
            counts[name].append(count_queries(alice_client, name))
    for name, per_size in counts.items():
        assert len(set(per_size)) == 1, f"{name}: {dict(zip(SIZES, per_size, strict=True))}"


def test_pages_render_every_connection_and_strategy(alice, alice_client):
    populate(alice, 10)
    home = alice_client.get(reverse("home")).content.decode()
    strategies = alice_client.get(reverse("strategies:list")).content.decode()
    connections = alice_client.get(reverse("connections:list")).content.decode()
    assert all(f"Connection {i}" in home and f"Strategy {i}" in home for i in range(10))
    assert all(f"Strategy {i}" in strategies for i in range(10))
    assert all(f"Connection {i}" in connections for i in range(10))
