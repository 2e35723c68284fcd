"""User B can never reach user A's objects. The URL list comes from the URL configuration, so a
new URL that takes an object id cannot escape this test."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from connections import services
from tests.connections.factories import make_connection
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]
OWNED_NAMESPACES = {"connections", "strategies"}


def object_urls():
    """(namespaced name, kwarg names) of every route under our apps that takes an object id."""
    found = []

    def walk(patterns, namespace=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace in OWNED_NAMESPACES:
                converters = p.pattern.converters
                if converters:
                    found.append((f"{namespace}:{p.name}", sorted(converters)))

    walk(get_resolver().url_patterns)
    return found


def test_the_generated_list_covers_every_object_route():
    names = {name for name, _ in object_urls()}
    assert {
        "connections:detail",
        "connections:test",
        "connections:status",
        "connections:delete",
        "connections:replace_key",
        "connections:rename",
    } <= names
    assert any(name.startswith("strategies:") for name in names), names


@pytest.fixture
def alices_objects(alice):

    conn = make_connection(alice, exchange="demo", name="Alice Demo")
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)
    services.connection_run_check(check_id=check.pk)
    strategy = stored_strategy(alice, conn, name="Alice Strategy")
    return {"connections": conn.pk, "strategies": strategy.pk}


def snapshot():
    from connections.models import Connection, ConnectionCheck
    from strategies.models import Strategy

    return (
        list(Connection.objects.values_list("pk", "name", "status", "updated_at")),
        list(Strategy.objects.values_list("pk", "name", "status", "updated_at")),
        ConnectionCheck.objects.count(),
    )


@pytest.mark.parametrize("method", METHODS)
def test_stranger_never_reaches_another_users_object(bob_client, alices_objects, method):
    before = snapshot()
    missing_id = 10**9
    for name, kwargs in object_urls():
        pk = alices_objects[name.split(":")[0]]
        url = reverse(name, kwargs=dict.fromkeys(kwargs, pk))
        response = getattr(bob_client, method)(url, {"name": "stolen"})
        # A method the route never accepts answers 405 whoever owns the object, exactly as for
        # an id that does not exist, so nothing leaks; every accepted method answers 404.
        control = getattr(bob_client, method)(
            reverse(name, kwargs=dict.fromkeys(kwargs, missing_id)), {"name": "stolen"}
        )
        assert response.status_code in (404, 405), (name, method, response.status_code)
        assert response.status_code == control.status_code, (name, method)
        assert "Alice" not in response.content.decode()
    assert snapshot() == before
