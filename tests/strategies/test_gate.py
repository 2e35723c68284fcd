"""The enable gate, at service level: every condition blocks with its reason and passes when
fixed; enabling is decided on locked rows; auto-pauses show their reason and never undo
themselves."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connections import services as connection_services
from connections.exchanges.base import (
    Category,
    CheckName,
    Market,
    Outcome,
    PermanentExchangeError,
    ReportBuilder,
    failed_report,
)
from connections.models import AuditEvent, Connection
from strategies import gate, selectors, services
from strategies.models import Strategy, SymbolList
from tests.connections.factories import make_connection
from tests.strategies.factories import make_strategy, online_connection, retest

pytestmark = pytest.mark.django_db


def refused(strategy, actor) -> gate.GateResult:
    with pytest.raises(services.GateRefused) as info:
        services.strategy_enable(strategy=strategy, actor=actor)
    strategy.refresh_from_db()
    assert strategy.status != "enabled"
    return info.value.result


def enabled(strategy, actor) -> Strategy:
    result = services.strategy_enable(strategy=strategy, actor=actor)
    assert result.status == "enabled"
    return result


def failed_only(result: gate.GateResult) -> list[str]:
    return [str(condition.code) for condition in result.failed]


def report(exchange, market, *, trade="ok", futures=None, withdrawal="ok", balances=None):
    """A stored test report with the given outcomes (as the clients build them)."""
    now = datetime.now(UTC)
    builder = ReportBuilder(exchange, Market(market), now)
    builder.reachable({"time": (0, 10)})
    builder.set(CheckName.CREDENTIALS, Outcome.OK, "credentials_accepted")
    builder.set(CheckName.BALANCES, Outcome.OK, "balances_read")
    builder.set(CheckName.TRADE_PERMISSION, Outcome(trade), "trade")
    if futures is None:
        futures = "ok" if market == "futures" else "skipped"
    builder.set(CheckName.FUTURES_PERMISSION, Outcome(futures), "futures")
    builder.set(CheckName.WITHDRAWAL, Outcome(withdrawal), "withdrawal")
    builder.report.balances = balances if balances is not None else []
    return builder.finish(now).to_dict()


def online(connection, **report_options):
    """Mark a real-exchange connection online with a given report (no network)."""
    Connection.objects.filter(pk=connection.pk).update(
        status="online",
        last_tested_at=timezone.now(),
        last_report=report(connection.exchange, connection.market, **report_options),
    )
    connection.refresh_from_db()
    return connection


def symbol_list(exchange, market, pairs):
    SymbolList.objects.update_or_create(
        exchange=exchange,
        market=market,
        defaults={"pairs": pairs, "fetched_at": timezone.now()},
    )


@pytest.fixture
def conn(alice):
    return online_connection(alice, name="Demo Spot")


@pytest.fixture
def strategy(alice, conn):
    return make_strategy(alice, conn)


def test_a_healthy_demo_strategy_passes_every_condition(alice, strategy):
    result = selectors.strategy_gate(strategy=strategy)
    assert result.passed, failed_only(result)
    assert [str(c.code) for c in result.conditions] == [
        "settings_valid",
        "connection_online",
        "test_recent",
        "trade_permission",
        "withdrawal_disabled",
        "orders_via_api",
        "pairs_tradable",
        "worst_case_within_margin",
        "margin_within_balance",
    ]
    strategy = enabled(strategy, alice)
    assert strategy.enabled_at is not None and strategy.pause_reason == ""
    event = AuditEvent.objects.get(action="strategy_enabled")
    assert event.object_id == strategy.pk and event.actor == alice


# --- connection online / recent test ---------------------------------------------------------


@pytest.mark.parametrize("status", ["untested", "testing", "failed"])
def test_connection_not_online_blocks(alice, conn, strategy, status):
    Connection.objects.filter(pk=conn.pk).update(status=status)
    result = refused(strategy, alice)
    assert "connection_online" in failed_only(result)
    condition = result["connection_online"]
    # Untested: the action starts the test; failed: the key needs fixing on its page first;
    # testing: nothing to do but watch the live status.
    expected = {
        "untested": (f"/connections/{conn.pk}/test/", "Run the connection test", True),
        "failed": (f"/connections/{conn.pk}/", "Open the connection", False),
        "testing": ("", "", False),
    }[status]
    assert (
        condition.action_url,
        condition.action_label,
        condition.action_starts_test,
    ) == expected
    if status == "failed":
        assert "failed its last test" in condition.detail
    if status == "testing":
        assert "A test is running" in condition.detail
        Connection.objects.filter(pk=conn.pk).update(status="online")  # the test finishes
    else:
        retest(conn)
    enabled(strategy, alice)


def test_old_test_blocks_with_test_again_and_a_new_test_fixes_it(alice, conn, strategy):
    Connection.objects.filter(pk=conn.pk).update(
        last_tested_at=timezone.now() - timedelta(hours=25)
    )
    result = refused(strategy, alice)
    assert failed_only(result) == ["test_recent"]
    assert "Test it again" in result["test_recent"].detail
    assert result["test_recent"].action_label == "Test again"
    # The action starts the test (a POST to the connection's test route), not a page to open.
    assert result["test_recent"].action_url == f"/connections/{conn.pk}/test/"
    assert result["test_recent"].action_starts_test
    retest(conn)
    enabled(strategy, alice)


def test_test_age_limit_is_a_setting(alice, conn, strategy, settings):
    settings.STRATEGY_GATE_MAX_TEST_AGE = 3600
    Connection.objects.filter(pk=conn.pk).update(last_tested_at=timezone.now() - timedelta(hours=2))
    assert failed_only(refused(strategy, alice)) == ["test_recent"]
    settings.STRATEGY_GATE_MAX_TEST_AGE = 3 * 3600
    enabled(strategy, alice)


# --- key permissions ---------------------------------------------------------------------------


def _set_outcome(connection, name, outcome):
    data = connection.last_report
    for check in data["checks"]:
        if check["name"] == name:
            check["outcome"] = outcome
    Connection.objects.filter(pk=connection.pk).update(last_report=data)


def test_missing_trade_permission_blocks(alice, conn, strategy):
    _set_outcome(conn, "trade_permission", "failed")
    result = refused(strategy, alice)
    assert failed_only(result) == ["trade_permission"]
    assert "Allow trading on the key" in result["trade_permission"].detail
    retest(conn)
    enabled(strategy, alice)


def test_futures_strategy_needs_futures_permission(alice):
    futures = online_connection(alice, market="futures", name="Demo Futures")
    strategy = make_strategy(alice, futures, direction="both", leverage=3)
    assert "futures_permission" in selectors.strategy_gate(strategy=strategy)
    _set_outcome(futures, "futures_permission", "failed")
    result = refused(strategy, alice)
    assert failed_only(result) == ["futures_permission"]
    assert "Enable the futures permission" in result["futures_permission"].detail
    retest(futures)
    enabled(strategy, alice)


def test_spot_strategy_has_no_futures_condition(strategy):
    assert "futures_permission" not in selectors.strategy_gate(strategy=strategy)


def test_withdrawal_enabled_blocks_until_the_key_is_replaced(alice, conn, strategy):
    _set_outcome(conn, "withdrawal", "failed")
    result = refused(strategy, alice)
    assert failed_only(result) == ["withdrawal_disabled"]
    assert result["withdrawal_disabled"].action_url == f"/connections/{conn.pk}/replace-key/"
    retest(conn)
    enabled(strategy, alice)


def test_unverifiable_withdrawal_needs_the_users_confirmation(alice):
    mexc = online(
        make_connection(alice, exchange="mexc", withdrawal_off_confirmed=False),
        withdrawal="not_verifiable",
        balances=[{"asset": "USDT", "free": "5000", "locked": "0"}],
    )
    symbol_list("mexc", "spot", ["BTC/USDT"])
    strategy = make_strategy(alice, mexc)
    result = refused(strategy, alice)
    assert failed_only(result) == ["withdrawal_disabled"]
    assert "cannot tell" in result["withdrawal_disabled"].detail
    Connection.objects.filter(pk=mexc.pk).update(withdrawal_off_confirmed=True)
    enabled(strategy, alice)


def test_unverifiable_withdrawal_of_a_demo_key_does_not_block(alice):
    # Binance's demo environment does not describe its keys; a demo key moves no real funds.
    demo = online(
        make_connection(alice, exchange="binance", withdrawal_off_confirmed=False, demo=True),
        withdrawal="not_verifiable",
        balances=[{"asset": "USDT", "free": "5000", "locked": "0"}],
    )
    symbol_list("binance", "spot", ["BTC/USDT"])
    strategy = make_strategy(alice, demo)
    enabled(strategy, alice)


# --- exchange and pairs ------------------------------------------------------------------------


def test_exchange_without_futures_orders_over_the_api_blocks(alice):
    mexc = online(
        make_connection(alice, exchange="mexc", market="futures"),
        trade="not_verifiable",
        withdrawal="not_verifiable",
    )
    symbol_list("mexc", "futures", ["BTC/USDT"])
    strategy = make_strategy(alice, mexc)
    result = refused(strategy, alice)
    assert "orders_via_api" in failed_only(result)
    assert "does not accept orders over its API" in result["orders_via_api"].detail


def test_orders_via_api_passes_on_mexc_spot(alice):
    mexc = online(make_connection(alice, exchange="mexc"), withdrawal="not_verifiable")
    symbol_list("mexc", "spot", ["BTC/USDT"])
    strategy = make_strategy(alice, mexc)
    enabled(strategy, alice)


def test_never_fetched_symbol_list_blocks_with_try_again_shortly(alice):
    kucoin = online(make_connection(alice, exchange="kucoin"))
    strategy = make_strategy(alice, kucoin)
    result = refused(strategy, alice)
    assert failed_only(result) == ["pairs_tradable"]
    assert result["pairs_tradable"].detail == "Symbol list not yet available — try again shortly."
    symbol_list("kucoin", "spot", ["BTC/USDT", "ETH/USDT"])
    enabled(strategy, alice)


def test_failed_fetch_without_any_list_still_counts_as_not_available(alice):
    kucoin = online(make_connection(alice, exchange="kucoin"))
    strategy = make_strategy(alice, kucoin)
    SymbolList.objects.create(exchange="kucoin", market="spot", last_error="HTTP 503")
    assert failed_only(refused(strategy, alice)) == ["pairs_tradable"]


def test_pair_no_longer_tradable_blocks_and_names_it(alice):
    kucoin = online(make_connection(alice, exchange="kucoin"))
    symbol_list("kucoin", "spot", ["BTC/USDT", "ETH/USDT"])
    strategy = make_strategy(alice, kucoin, pairs=["BTC/USDT", "ETH/USDT"])
    symbol_list("kucoin", "spot", ["BTC/USDT"])  # ETH/USDT delisted from the API
    result = refused(strategy, alice)
    assert failed_only(result) == ["pairs_tradable"]
    assert "ETH/USDT" in result["pairs_tradable"].detail
    assert "BTC/USDT" not in result["pairs_tradable"].detail
    symbol_list("kucoin", "spot", ["BTC/USDT", "ETH/USDT"])
    enabled(strategy, alice)


def test_pair_outside_the_keys_pair_whitelist_blocks_and_names_it(alice):
    # Gate keys can be limited to some pairs; the last test reported them (key_pairs).
    gate_conn = online(
        make_connection(
            alice,
            exchange="gate",
            api_key="0123456789abcdef0123456789abcdef",
            api_secret="ab" * 32,
            withdrawal_off_confirmed=True,
        )
    )
    data = gate_conn.last_report
    data["key_pairs"] = ["BTC/USDT"]
    Connection.objects.filter(pk=gate_conn.pk).update(last_report=data)
    symbol_list("gate", "spot", ["BTC/USDT", "ETH/USDT"])
    strategy = make_strategy(alice, gate_conn, pairs=["BTC/USDT", "ETH/USDT"])
    result = refused(strategy, alice)
    assert failed_only(result) == ["pairs_tradable"]
    detail = result["pairs_tradable"].detail
    assert "may only trade BTC/USDT" in detail and "ETH/USDT are outside" in detail
    # The key's whitelist widened (or no limit reported): the pair check passes again.
    data["key_pairs"] = []
    Connection.objects.filter(pk=gate_conn.pk).update(last_report=data)
    enabled(strategy, alice)


# --- capital -----------------------------------------------------------------------------------


def test_worst_case_above_margin_limit_blocks_and_says_by_how_much(alice, strategy):
    # Stored settings can only get here past the form and service, e.g. from older rules.
    Strategy.objects.filter(pk=strategy.pk).update(margin_limit=Decimal("150"))
    result = refused(strategy, alice)
    assert failed_only(result) == ["worst_case_within_margin"]
    assert (
        "exceeds the margin limit of 150.00 USDT by 50.00 USDT"
        in result["worst_case_within_margin"].detail
    )
    Strategy.objects.filter(pk=strategy.pk).update(margin_limit=Decimal("200"))
    enabled(strategy, alice)


def test_margin_limit_above_free_balance_blocks(alice, conn, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(margin_limit=Decimal("20000"))
    result = refused(strategy, alice)
    assert failed_only(result) == ["margin_within_balance"]
    detail = result["margin_within_balance"].detail
    assert "20,000.00 USDT" in detail and "10,000.00 USDT" in detail
    Strategy.objects.filter(pk=strategy.pk).update(margin_limit=Decimal("10000"))
    enabled(strategy, alice)


def test_unknown_balance_does_not_block(alice):
    kucoin = online(make_connection(alice, exchange="kucoin"), balances=[])
    symbol_list("kucoin", "spot", ["BTC/USDT"])
    strategy = make_strategy(alice, kucoin, margin_limit=Decimal("1000000"))
    result = selectors.strategy_gate(strategy=strategy)
    assert result["margin_within_balance"].passed
    assert "did not report" in result["margin_within_balance"].detail


def test_unknown_balance_is_its_own_state_never_a_tick(alice, conn, strategy):
    kucoin = online(make_connection(alice, exchange="kucoin"), balances=[])
    symbol_list("kucoin", "spot", ["BTC/USDT"])
    unknown = selectors.strategy_gate(strategy=make_strategy(alice, kucoin, name="Unknown"))
    assert unknown["margin_within_balance"].state == "unknown"
    known = selectors.strategy_gate(strategy=strategy)
    assert known["margin_within_balance"].state == "ok"


def test_futures_balance_is_the_available_margin(alice):
    kucoin = online(
        make_connection(alice, exchange="kucoin", market="futures"),
        balances=[{"asset": "USDT", "equity": "9000", "available": "300"}],
    )
    symbol_list("kucoin", "futures", ["BTC/USDT"])
    strategy = make_strategy(alice, kucoin, margin_limit=Decimal("500"))
    assert failed_only(refused(strategy, alice)) == ["margin_within_balance"]


# --- settings and PRO connection ---------------------------------------------------------------


def test_inconsistent_stored_settings_block(alice, strategy):
    Strategy.objects.filter(pk=strategy.pk).update(direction="short")  # short on Spot
    result = refused(strategy, alice)
    assert failed_only(result) == ["settings_valid"]
    assert "Futures connection" in result["settings_valid"].detail
    Strategy.objects.filter(pk=strategy.pk).update(direction="long")
    enabled(strategy, alice)


def test_new_groups_connection_must_be_online(alice, strategy):
    other = make_connection(alice, exchange="demo", name="BTC ETH New Groups")
    Strategy.objects.filter(pk=strategy.pk).update(new_groups_connection=other)
    result = refused(strategy, alice)
    assert failed_only(result) == ["new_groups_connection"]
    assert "is not Online" in result["new_groups_connection"].detail
    retest(other)
    enabled(strategy, alice)


def test_new_groups_connection_of_another_user_blocks(alice, bob, strategy):
    foreign = online_connection(bob)
    Strategy.objects.filter(pk=strategy.pk).update(new_groups_connection=foreign)
    result = refused(strategy, alice)
    assert "new_groups_connection" in failed_only(result)
    assert "settings_valid" in failed_only(result)


# --- race safety -------------------------------------------------------------------------------


def test_gate_is_evaluated_on_fresh_rows_not_on_what_the_page_showed(alice, conn, strategy):
    page = selectors.strategy_gate(strategy=strategy)
    assert page.passed  # the page showed ✓ everywhere
    # Meanwhile a re-check fails the connection (another process, another request).
    check = connection_services.connection_request_check(
        connection=conn, trigger="schedule", enqueue=False
    )
    connection_services.connection_record_report(
        check_id=check.pk,
        report=failed_report(
            "demo", Market.SPOT, PermanentExchangeError(Category.INVALID_KEY, "x")
        ),
    )
    # `strategy` still holds the connection the page saw, online.
    assert strategy.connection.status == "online"
    result = refused(strategy, alice)
    assert "connection_online" in failed_only(result)


def test_enable_locks_connection_then_strategy(alice, conn, strategy):
    with CaptureQueriesContext(db_connection) as queries:
        enabled(strategy, alice)
    sql = [q["sql"] for q in queries.captured_queries]
    conn_lock = next(i for i, s in enumerate(sql) if 'FROM "connections_connection"' in s)
    strategy_lock = next(
        i for i, s in enumerate(sql) if 'FROM "strategies_strategy"' in s and i > conn_lock
    )
    assert conn_lock < strategy_lock
    if db_connection.features.has_select_for_update:
        assert "FOR UPDATE" in sql[conn_lock] and "FOR UPDATE" in sql[strategy_lock]


def test_enabling_twice_is_harmless(alice, strategy):
    enabled(strategy, alice)
    enabled(strategy, alice)
    assert AuditEvent.objects.filter(action="strategy_enabled").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_enable_and_failing_test_never_leave_an_enabled_strategy_on_a_failed_connection(
    alice,
):
    """Real threads on PostgreSQL: the failing test and the enable serialise on the rows."""
    if db_connection.vendor != "postgresql":
        from tests.conftest import services_required

        if services_required():
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("row locks need PostgreSQL")
    conn = online_connection(alice)
    strategy = make_strategy(alice, conn)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def enable():
        try:
            barrier.wait()
            services.strategy_enable(strategy=Strategy.objects.get(pk=strategy.pk), actor=alice)
        except services.GateRefused:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db_connection.close()

    def fail_connection():
        try:
            check = connection_services.connection_request_check(
                connection=conn, trigger="schedule", enqueue=False
            )
            barrier.wait()
            connection_services.connection_record_report(
                check_id=check.pk,
                report=failed_report(
                    "demo", Market.SPOT, PermanentExchangeError(Category.INVALID_KEY, "x")
                ),
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=enable), threading.Thread(target=fail_connection)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    strategy.refresh_from_db()
    conn.refresh_from_db()
    assert conn.status == "failed"
    # Either the enable lost (refused: connection testing/failed) or it won and the failure
    # paused it; never enabled on a failed connection.
    assert strategy.status != "enabled"


# --- automatic pauses ----------------------------------------------------------------------------


def test_connection_failure_pauses_with_reason_and_a_passing_test_does_not_re_enable(
    alice, conn, strategy
):
    enabled(strategy, alice)
    check = connection_services.connection_request_check(
        connection=conn, trigger="schedule", enqueue=False
    )
    connection_services.connection_record_report(
        check_id=check.pk,
        report=failed_report(
            "demo", Market.SPOT, PermanentExchangeError(Category.INVALID_KEY, "x")
        ),
    )
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "connection_failed"
    assert strategy.get_pause_reason_display() == "Its connection failed its test"
    assert "connection_online" in failed_only(refused(strategy, alice))
    retest(conn)
    strategy.refresh_from_db()
    assert strategy.status == "paused"  # a passing test alone never re-enables it
    enabled(strategy, alice)


def test_key_replacement_pauses_with_reason_and_re_enable_needs_a_new_test(alice, conn, strategy):
    enabled(strategy, alice)
    connection_services.connection_replace_key(
        connection=conn, api_key="demo-replaced-key", api_secret="s", actor=alice
    )
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "key_replaced"
    result = refused(strategy, alice)
    # The stored report describes the old key, so nothing it says counts any more.
    assert {"connection_online", "test_recent", "trade_permission", "withdrawal_disabled"} <= set(
        failed_only(result)
    )
    assert "replaced after the last test" in result["test_recent"].detail
    retest(conn)
    enabled(strategy, alice)


def test_new_groups_connection_failure_pauses_too(alice, conn, strategy):
    other = online_connection(alice, name="Recovery PRO Connection")
    Strategy.objects.filter(pk=strategy.pk).update(new_groups_connection=other)
    enabled(strategy, alice)
    connection_services.connection_replace_key(
        connection=other, api_key="demo-other-key", api_secret="s", actor=alice
    )
    strategy.refresh_from_db()
    assert strategy.status == "paused" and strategy.pause_reason == "key_replaced"
    assert failed_only(refused(strategy, alice)) == ["new_groups_connection"]
