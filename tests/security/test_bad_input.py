"""Property-based bad input over every POST endpoint: overlong, empty, unicode, control
characters, NUL bytes, wrong types, negative and huge numbers. The answer is never a 500, and
a refused request never changes stored data."""

from __future__ import annotations

import pytest
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connections import services
from connections.models import AuditEvent, Connection, ConnectionCheck
from strategies.models import Strategy
from tests.connections.factories import make_connection
from tests.strategies.factories import stored_strategy

pytestmark = pytest.mark.django_db


def form_fields() -> list[str]:
    """Every field name our forms read (from the forms themselves), plus request-level ones."""
    from backfuture.users.forms import LanguageForm
    from connections.exchanges import registry
    from connections.forms import ConnectionCreateForm
    from strategies.forms import StrategyForm

    names = {"exchange", "preset", "apply_preset", "preview"}
    for slug in ("mexc", "kucoin"):
        names |= set(ConnectionCreateForm(spec=registry.get(slug)).fields)
    names |= set(StrategyForm.base_fields) | set(LanguageForm.base_fields)
    return sorted(names)


FIELDS = form_fields()

nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(min_size=200, max_size=3000),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), max_size=20),
    st.just("\x00"),
    st.just("a\x00b"),
    st.just(""),
    st.just("   "),
    st.just("😀" * 50),
    st.just("‮RTL"),
    st.just("'; DROP TABLE x; --"),
    st.just("<script>alert(1)</script>"),
)
nasty_number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.just("1e309"),
    st.just("-0"),
    st.just("0x10"),
    st.just("9" * 400),
    st.just("1,5"),
)
value = st.one_of(nasty_text, nasty_number, st.lists(nasty_text, max_size=3))
payload = st.dictionaries(st.sampled_from(FIELDS), value, max_size=10)


def post_endpoints():
    found = []

    def walk(patterns, namespace=None):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace in {"connections", "strategies"}:
                found.append((f"{namespace}:{p.name}", sorted(p.pattern.converters)))

    walk(get_resolver().url_patterns)
    return [*found, ("set_language", [])]


def snapshot():
    def rows(model: type[models.Model]):
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not f.name.startswith(("api_", "passphrase"))
        ]
        return list(model.objects.order_by("pk").values_list(*fields))

    return (
        rows(Connection),
        rows(Strategy),
        ConnectionCheck.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def world(alice, settings):
    settings.CONNECTION_TEST_COOLDOWN = 0
    conn = make_connection(alice, exchange="demo", name="Demo")
    services.connection_run_check(
        check_id=services.connection_request_check(
            connection=conn, trigger="user", enqueue=False
        ).pk
    )
    strategy = stored_strategy(alice, conn, name="Fuzz")
    client = Client(raise_request_exception=True)
    client.force_login(alice)
    return {"client": client, "ids": {"connections": conn.pk, "strategies": strategy.pk}}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bad_input_never_500s_and_never_changes_data_on_refusal(world, data, monkeypatch):
    from connections import tasks

    monkeypatch.setattr(tasks.connection_check, "apply_async", lambda *a, **k: None)
    name, kwargs = data.draw(st.sampled_from(post_endpoints()))
    namespace = name.split(":")[0]
    url = reverse(name, kwargs={k: world["ids"].get(namespace, 1) for k in kwargs})
    body = data.draw(payload)
    for mode in ({}, {"HTTP_HX_REQUEST": "true"}):
        before = snapshot()
        response = world["client"].post(url, body, **mode)
        assert response.status_code < 500, (name, body, response.status_code)
        if 400 <= response.status_code < 500:
            assert snapshot() == before, (name, body)
