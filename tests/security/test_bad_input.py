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

pytestmark = pytest.mark.django_db

# Every field name any of our forms reads, so the fuzzer hits real fields as well as junk.
FIELDS = [
    "exchange",
    "name",
    "market",
    "api_key",
    "api_secret",
    "passphrase",
    "withdrawal_off_confirmed",
    "connection",
    "pairs",
    "direction",
    "leverage",
    "risk_level",
    "margin_limit",
    "base_order",
    "max_active_groups",
    "max_addons",
    "first_distance_pct",
    "step_scale",
    "volume_scale",
    "take_profit_pct",
    "recovery_enabled",
    "recovery_drawdown_pct",
    "recovery_addons_used",
    "recovery_margin_used_pct",
    "cautious_after_drawdown",
    "new_groups_connection",
    "language",
    "next",
    "preset",
]

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
    strategy = Strategy.objects.create(
        owner=alice,
        connection=conn,
        name="Fuzz",
        pairs=["BTC/USDT"],
        margin_limit=1000,
        base_order=10,
        first_distance_pct=2,
        step_scale=1,
        volume_scale=1,
        take_profit_pct=1,
    )
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
