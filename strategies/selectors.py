"""Reads of strategies. Every read that depends on who is asking is scoped by owner here."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.db.models import BooleanField, Case, F, Prefetch, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from connections import selectors as connection_selectors
from connections.exchanges import symbols
from connections.models import Connection
from strategies import gate
from strategies.models import Strategy, SymbolList

# Never needed to list or show a strategy or its connections.
_SECRETS = ("api_key", "api_secret", "passphrase")
_RELATED_SECRETS = tuple(
    f"{relation}__{name}"
    for relation in ("connection", "new_groups_connection")
    for name in _SECRETS
)


def strategy_list(*, user) -> QuerySet[Strategy]:
    return (
        Strategy.objects.filter(owner=user)
        .select_related("connection", "new_groups_connection")
        .defer(*_RELATED_SECRETS)
    )


def strategy_get(*, user, pk: int) -> Strategy:
    """The user's strategy, or 404 (also for another user's: no existence leak)."""
    return get_object_or_404(strategy_list(user=user), pk=pk)


def strategies_sharing_connection(*, user, connection, exclude_pk: int | None = None) -> list[str]:
    """Names of the user's other strategies that trade through `connection` (main or PRO).

    The connection guide recommends one API key per strategy; the form and the checklist
    recommend a separate connection when this is not empty.
    """
    if connection is None:
        return []
    others = strategy_list(user=user).filter(
        Q(connection=connection) | Q(new_groups_connection=connection)
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return list(others.order_by("name").values_list("name", flat=True))


def connection_choices(*, user) -> QuerySet[Connection]:
    """The connections a user may point a strategy at: their own, never anyone else's."""
    return connection_selectors.connection_list(user=user).order_by("name")


def connection_for_new_strategy(*, user, pk: object) -> Connection | None:
    """`?connection=<id>` of the create page, if it is one of the user's connections."""
    try:
        pk = int(str(pk))
    except (TypeError, ValueError):
        return None
    return connection_choices(user=user).filter(pk=pk).first()


def tradable_pairs(*, exchange: str, market: str) -> frozenset[str] | None:
    """The pairs `exchange` lets us trade over its API on `market`; None if never fetched."""
    if exchange == "demo":
        return frozenset(symbols.DEMO_PAIRS)
    row = (
        SymbolList.objects.filter(exchange=exchange, market=market, fetched_at__isnull=False)
        .only("pairs")
        .first()
    )
    return frozenset(row.pairs) if row else None


def symbol_list_is_stale(*, exchange: str, market: str) -> bool:
    """Never fetched, or not refreshed for two intervals (the periodic task is failing)."""
    if exchange == "demo":
        return False
    cutoff = timezone.now() - timedelta(seconds=2 * settings.SYMBOL_LIST_REFRESH_INTERVAL)
    return not SymbolList.objects.filter(
        exchange=exchange, market=market, fetched_at__gte=cutoff
    ).exists()


def strategy_gate(*, strategy: Strategy) -> gate.GateResult:
    """The enable checklist as the detail page shows it (unlocked: the service re-checks)."""
    connection = strategy.connection
    return gate.evaluate(
        strategy,
        connection=connection,
        new_groups_connection=strategy.new_groups_connection,
        tradable=tradable_pairs(exchange=connection.exchange, market=connection.market),
        now=timezone.now(),
        max_test_age=timedelta(seconds=settings.STRATEGY_GATE_MAX_TEST_AGE),
    )


# The dashboard lists keys that expire within this many days first (the first reminder's).
EXPIRING_SOON_DAYS = 14


def dashboard_connections(*, user, now=None) -> QuerySet[Connection]:
    """The user's connections, each with its strategies, in a fixed number of queries; keys
    that expire within 14 days first (soonest first, `expiring_soon` set), then by name."""
    now = now or timezone.now()
    soon = now + timedelta(days=EXPIRING_SOON_DAYS)
    strategies = Strategy.objects.filter(owner=user).order_by("name")
    return (
        connection_choices(user=user)
        .annotate(
            expiring_soon=Case(
                When(key_expires_at__lte=soon, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            soon_expires_at=Case(When(key_expires_at__lte=soon, then=F("key_expires_at"))),
        )
        .order_by("-expiring_soon", F("soon_expires_at").asc(nulls_last=True), "name")
        .prefetch_related(Prefetch("strategies", queryset=strategies, to_attr="strategy_list"))
    )


# Every row's `updated_at` as a number, summed per table (see dashboard_version). PostgreSQL's
# EXTRACT(EPOCH ...) is an exact numeric (microseconds); SQLite, the development default, has
# julianday() (milliseconds), which is enough for one person's development server.
_EPOCH_SQL = {
    "postgresql": "EXTRACT(EPOCH FROM updated_at)",
    "sqlite": "julianday(updated_at)",
}


def dashboard_version(*, user) -> tuple:
    """Changes whenever anything the dashboard shows changes: every write to a connection or a
    strategy sets its `updated_at`, and adding or deleting one changes a count.

    The timestamps are summed, not maxed: two transactions can take their timestamps in one
    order and commit in the other, and a commit carrying an older timestamp than the newest
    row does not move MAX(updated_at), so the cached cards stayed stale (issue 14). A sum moves
    whenever any row's timestamp does.

    It runs on every dashboard view, cached or not, so it is one plain statement: building the
    same query through the ORM cost more than running it (measured with benchmarks.dashboard).
    """
    connections, strategies = Connection._meta.db_table, Strategy._meta.db_table
    epoch = _EPOCH_SQL[db_connection.vendor]
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {connections} WHERE owner_id = %s),"  # noqa: S608
        f" (SELECT SUM({epoch}) FROM {connections} WHERE owner_id = %s),"
        f" (SELECT COUNT(*) FROM {strategies} WHERE owner_id = %s),"
        f" (SELECT SUM({epoch}) FROM {strategies} WHERE owner_id = %s)"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [user.pk] * 4)
        return tuple(cursor.fetchone())
