"""Strategy services: creation rules (never another user's connection), edits, pauses,
deletion, audit events, and the symbol lists behind the pair checks."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from connections.models import AuditEvent
from strategies import selectors, services, tasks
from strategies.models import Strategy, SymbolList
from tests.connections.factories import make_connection
from tests.strategies.factories import make_strategy, online_connection, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def conn(alice):
    return online_connection(alice, name="Demo Spot")


def errors_of(info) -> dict[str, list[str]]:
    return {field: [e.message for e in errs] for field, errs in info.value.error_dict.items()}


# --- creation ----------------------------------------------------------------------------------


def test_create_makes_a_draft_and_records_it(alice, conn):
    strategy = make_strategy(alice, conn)
    assert strategy.status == "draft"
    assert strategy.pairs == ["BTC/USDT"] and strategy.connection == conn
    event = AuditEvent.objects.get(action="strategy_created")
    assert (event.object_type, event.object_id, event.actor) == ("strategy", strategy.pk, alice)


def test_service_refuses_another_users_connection(alice, bob):
    foreign = online_connection(bob)
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, foreign)
    assert errors_of(info)["connection"] == ["Choose one of your own connections."]
    assert not Strategy.objects.exists()


def test_service_refuses_another_users_new_groups_connection(alice, bob, conn):
    foreign = online_connection(bob)
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, new_groups_connection=foreign)
    assert "new_groups_connection" in errors_of(info)


def test_new_groups_connection_must_differ_from_the_strategys_own(alice, conn):
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, new_groups_connection=conn)
    assert "different connection" in errors_of(info)["new_groups_connection"][0]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"direction": "short"}, "direction"),
        ({"direction": "both"}, "direction"),
        ({"leverage": 5}, "leverage"),
    ],
)
def test_short_both_and_leverage_need_futures(alice, conn, overrides, field):
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, **overrides)
    assert "Futures" in errors_of(info)[field][0]


def test_futures_connection_allows_short_and_leverage(alice):
    futures = online_connection(alice, market="futures")
    strategy = make_strategy(alice, futures, direction="short", leverage=10)
    assert (strategy.direction, strategy.leverage) == ("short", 10)


def test_worst_case_above_margin_limit_is_refused_with_the_shortfall(alice, conn):
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, margin_limit=Decimal("120"))
    message = errors_of(info)["margin_limit"][0]
    assert "200.00 USDT" in message and "by 80.00 USDT" in message


def test_pairs_must_share_one_quote_currency(alice, conn):
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, pairs=["BTC/USDT", "ETH/BTC"])
    assert "one quote currency" in errors_of(info)["pairs"][0]


def test_pairs_not_on_the_exchanges_api_list_are_refused(alice, conn):
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, pairs=["BTC/USDT", "PEPE/USDT"])
    assert errors_of(info)["pairs"] == [
        "Not tradable over the API on Demo exchange (paper account) Spot: PEPE/USDT."
    ]


def test_names_are_unique_per_user_ignoring_case(alice, bob, conn):
    make_strategy(alice, conn, name="BTC Grid")
    with pytest.raises(ValidationError) as info:
        make_strategy(alice, conn, name="btc grid")
    assert errors_of(info)["name"] == ["You already have a strategy with this name."]
    make_strategy(bob, online_connection(bob), name="BTC Grid")  # another user may


def test_unknown_settings_are_a_programming_error(alice, conn):
    with pytest.raises(TypeError):
        services.strategy_create(owner=alice, values={**values(conn), "status": "enabled"})


def test_recovery_mode_needs_a_trigger(alice, conn):
    with pytest.raises(ValidationError) as info:
        make_strategy(
            alice,
            conn,
            recovery_drawdown_pct=None,
            recovery_addons_used=None,
            recovery_margin_used_pct=None,
            cautious_after_drawdown=False,
        )
    assert errors_of(info)["__all__"] == ["Recovery Mode needs at least one trigger."]


def test_each_recovery_trigger_can_be_off(alice, conn):
    strategy = make_strategy(alice, conn, recovery_addons_used=None, recovery_drawdown_pct=None)
    assert strategy.recovery_addons_used is None and strategy.recovery_margin_used_pct == 60


# --- edits -------------------------------------------------------------------------------------


def test_editing_an_enabled_strategy_pauses_it_with_a_reason(alice, conn):
    strategy = services.strategy_enable(strategy=make_strategy(alice, conn), actor=alice)
    updated = services.strategy_update(
        strategy=strategy, values=values(conn, base_order=Decimal("60")), actor=alice
    )
    assert updated.status == "paused" and updated.pause_reason == "settings_changed"
    assert updated.base_order == Decimal("60")
    changed = AuditEvent.objects.get(action="strategy_settings_changed")
    assert changed.data == {"fields": ["base_order"]}
    assert AuditEvent.objects.filter(action="strategy_paused").get().data == {
        "reason": "settings_changed"
    }
    # Back on only through the gate (which passes here).
    assert services.strategy_enable(strategy=updated, actor=alice).status == "enabled"


def test_renaming_an_enabled_strategy_keeps_it_running(alice, conn):
    strategy = services.strategy_enable(strategy=make_strategy(alice, conn), actor=alice)
    updated = services.strategy_update(
        strategy=strategy, values=values(conn, name="BTC Grid 2"), actor=alice
    )
    assert updated.status == "enabled" and updated.name == "BTC Grid 2"


def test_saving_unchanged_settings_records_nothing(alice, conn):
    strategy = make_strategy(alice, conn)
    services.strategy_update(strategy=strategy, values=values(conn), actor=alice)
    assert not AuditEvent.objects.filter(action="strategy_settings_changed").exists()


def test_update_also_refuses_another_users_connection(alice, bob, conn):
    strategy = make_strategy(alice, conn)
    with pytest.raises(ValidationError):
        services.strategy_update(
            strategy=strategy, values=values(online_connection(bob)), actor=alice
        )
    strategy.refresh_from_db()
    assert strategy.connection == conn


def test_update_to_a_taken_name_is_refused(alice, conn):
    make_strategy(alice, conn, name="A")
    strategy = make_strategy(alice, conn, name="B")
    with pytest.raises(ValidationError):
        services.strategy_update(strategy=strategy, values=values(conn, name="a"), actor=alice)


# --- pause and delete -------------------------------------------------------------------------


def test_pause_records_the_user_as_reason(alice, conn):
    strategy = services.strategy_enable(strategy=make_strategy(alice, conn), actor=alice)
    paused = services.strategy_pause(strategy=strategy, actor=alice)
    assert paused.status == "paused" and paused.pause_reason == "user"
    assert paused.get_pause_reason_display() == "Paused by you"
    services.strategy_pause(strategy=strategy, actor=alice)  # idempotent
    assert AuditEvent.objects.filter(action="strategy_paused").count() == 1


def test_pausing_a_draft_does_nothing(alice, conn):
    strategy = services.strategy_pause(strategy=make_strategy(alice, conn), actor=alice)
    assert strategy.status == "draft"


def test_delete_removes_it_and_keeps_the_audit_trail(alice, conn):
    strategy = make_strategy(alice, conn)
    services.strategy_delete(strategy=strategy, actor=alice)
    assert not Strategy.objects.exists()
    event = AuditEvent.objects.get(action="strategy_deleted")
    assert event.object_id == strategy.pk and event.data["name"] == "BTC Grid"


# --- symbol lists ------------------------------------------------------------------------------


KUCOIN_SPOT = {
    "code": "200000",
    "data": [
        {
            "symbol": "BTC-USDT",
            "baseCurrency": "BTC",
            "quoteCurrency": "USDT",
            "enableTrading": True,
        }
    ],
}


def test_refresh_stores_a_list_and_a_failure_keeps_the_old_one(no_internet):
    url = "https://api.kucoin.com/api/v2/symbols"
    no_internet.get(url, json=KUCOIN_SPOT)
    assert services.symbol_lists_refresh(exchange="kucoin", market="spot") == {"kucoin/spot": "ok"}
    stored = SymbolList.objects.get(exchange="kucoin", market="spot")
    assert stored.pairs == ["BTC/USDT"] and stored.fetched_at and not stored.last_error
    fetched_at = stored.fetched_at

    no_internet.replace("GET", url, status=503, body="maintenance")
    result = services.symbol_lists_refresh(exchange="kucoin", market="spot")
    assert "HTTP 503" in result["kucoin/spot"]
    stored.refresh_from_db()
    assert stored.pairs == ["BTC/USDT"] and stored.fetched_at == fetched_at
    assert "HTTP 503" in stored.last_error
    assert selectors.tradable_pairs(exchange="kucoin", market="spot") == {"BTC/USDT"}


def test_refresh_covers_every_real_exchange_and_market_with_the_configured_urls(
    no_internet, settings
):
    settings.EXCHANGE_URLS = {"kucoin": "http://sim.test"}
    no_internet.get("http://sim.test/api/v2/symbols", json=KUCOIN_SPOT)
    result = services.symbol_lists_refresh()
    assert set(result) == {
        "mexc/spot",
        "mexc/futures",
        "kucoin/spot",
        "kucoin/futures",
        "binance/spot",
        "binance/futures",
    }
    assert result["kucoin/spot"] == "ok"
    assert "demo/spot" not in result  # the demo list is fixed, never stored


def test_task_calls_the_service():
    with mock.patch.object(services, "symbol_lists_refresh", return_value={"x": "ok"}) as call:
        assert tasks.refresh_symbol_lists.run(exchange="mexc", market="spot") == {"x": "ok"}
    call.assert_called_once_with(exchange="mexc", market="spot")


def test_task_is_scheduled_periodically():
    entry = django_settings.CELERY_BEAT_SCHEDULE["refresh-symbol-lists"]
    assert entry["task"] == "strategies.tasks.refresh_symbol_lists"
    assert entry["schedule"] == float(django_settings.SYMBOL_LIST_REFRESH_INTERVAL) == 6 * 3600


def test_management_command_refreshes_and_reports(no_internet, capsys):
    no_internet.get("https://api.kucoin.com/api/v2/symbols", json=KUCOIN_SPOT)
    call_command("refresh_symbols", "--exchange", "kucoin", "--market", "spot")
    assert "kucoin/spot: ok" in capsys.readouterr().out
    no_internet.replace("GET", "https://api.kucoin.com/api/v2/symbols", status=500, body="x")
    with pytest.raises(CommandError):
        call_command("refresh_symbols", "--exchange", "kucoin", "--market", "spot")


def test_a_missing_list_is_requested_lazily_once(alice, django_capture_on_commit_callbacks):
    kucoin = make_connection(alice, exchange="kucoin")
    with (
        mock.patch.object(tasks.refresh_symbol_lists, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        assert services.symbol_list_request_refresh(exchange="kucoin", market="spot")
        assert not services.symbol_list_request_refresh(exchange="kucoin", market="spot")
    assert len(callbacks) == 1
    delay.assert_called_once_with(exchange="kucoin", market="spot")
    assert kucoin  # created first, as a page would have it


def test_a_fresh_list_or_the_demo_exchange_needs_no_refresh():
    SymbolList.objects.create(
        exchange="mexc", market="spot", pairs=["BTC/USDT"], fetched_at=timezone.now()
    )
    assert not services.symbol_list_request_refresh(exchange="mexc", market="spot")
    assert not services.symbol_list_request_refresh(exchange="demo", market="spot")
