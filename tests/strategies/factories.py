"""Builders for strategy tests: online demo connections and valid settings."""

from __future__ import annotations

from decimal import Decimal

from connections import services as connection_services
from strategies import services
from tests.connections.factories import make_connection


def online_connection(owner, *, market="spot", name=None):
    """A demo connection that passed a real (network-free) demo test."""
    connection = make_connection(owner, exchange="demo", market=market, name=name)
    check = connection_services.connection_request_check(
        connection=connection, trigger="schedule", enqueue=False
    )
    connection_services.connection_run_check(check_id=check.pk)
    connection.refresh_from_db()
    assert connection.status == "online", connection.last_report
    return connection


def retest(connection):
    """Run another demo test of `connection` (scheduled, so no user cooldown applies)."""
    check = connection_services.connection_request_check(
        connection=connection, trigger="schedule", enqueue=False
    )
    connection_services.connection_run_check(check_id=check.pk)
    connection.refresh_from_db()
    return connection


def values(connection, **overrides) -> dict:
    """Valid settings: the conservative preset, 50 USDT base order (worst case 200 USDT)."""
    data = {
        "name": "BTC Grid",
        "connection": connection,
        "pairs": ["BTC/USDT"],
        "direction": "long",
        "leverage": 1,
        "risk_level": "conservative",
        "margin_limit": Decimal("1000"),
        "base_order": Decimal("50"),
        "max_active_groups": 1,
        "max_addons": 3,
        "first_distance_pct": Decimal("3"),
        "step_scale": Decimal("1.5"),
        "volume_scale": Decimal("1"),
        "take_profit_pct": Decimal("1.5"),
        "recovery_enabled": True,
        "recovery_drawdown_pct": Decimal("10"),
        "recovery_addons_used": 3,
        "recovery_margin_used_pct": Decimal("60"),
        "cautious_after_drawdown": True,
        "new_groups_connection": None,
    }
    data.update(overrides)
    return data


def make_strategy(owner, connection, **overrides):
    return services.strategy_create(owner=owner, values=values(connection, **overrides))


def form_data(connection, **overrides) -> dict:
    """The POST body of the strategy form for `values(connection)`."""
    data = {
        "name": "BTC Grid",
        "connection": str(connection.pk),
        "pairs": "BTC/USDT",
        "direction": "long",
        "leverage": "1",
        "risk_level": "conservative",
        "margin_limit": "1000",
        "base_order": "50",
        "max_active_groups": "1",
        "max_addons": "3",
        "first_distance_pct": "3",
        "step_scale": "1.5",
        "volume_scale": "1",
        "take_profit_pct": "1.5",
        "recovery_enabled": "on",
        "recovery_drawdown_pct": "10",
        "recovery_addons_used": "3",
        "recovery_margin_used_pct": "60",
        "cautious_after_drawdown": "on",
        "new_groups_connection": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def stored_strategy(owner, connection, *, name="BTC Grid", **fields):
    """A strategy row written directly, in any status, for tests of what happens *to* it.

    Skips the form, the planning checks and the gate on purpose: e.g. an `enabled` strategy on
    a connection that is about to fail. Use `make_strategy` to test creating one.
    """
    from strategies.models import Strategy

    defaults = {
        "pairs": ["BTC/USDT"],
        "margin_limit": 1000,
        "base_order": 10,
        "first_distance_pct": 2,
        "step_scale": 1,
        "volume_scale": 1,
        "take_profit_pct": 1,
    }
    return Strategy.objects.create(
        owner=owner, connection=connection, name=name, **{**defaults, **fields}
    )
