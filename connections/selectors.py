"""Reads of connections. Every read that depends on who is asking is scoped here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from backfuture.cache import CacheUnavailable
from connections.models import AuditEvent, Connection, ConnectionCheck


def connection_list(*, user) -> QuerySet[Connection]:
    # Encrypted columns are never needed to list or show a connection.
    return Connection.objects.filter(owner=user).defer("api_key", "api_secret", "passphrase")


def connection_get(*, user, pk: int, for_update: bool = False) -> Connection:
    """The user's connection, or 404 (also for another user's connection: no existence leak).

    `for_update`: its row locked until the caller's transaction ends (called inside one).
    """
    connections = connection_list(user=user)
    if for_update:
        connections = connections.select_for_update()
    return get_object_or_404(connections, pk=pk)


def connection_checks(*, connection: Connection, limit: int = 20) -> QuerySet[ConnectionCheck]:
    return connection.checks.select_related("requested_by").defer("report")[:limit]


def connection_current_check(*, connection: Connection) -> ConnectionCheck | None:
    """The test in flight (for the live status: its attempt and what it retries), if any."""
    if connection.status != "testing" or connection.current_check_id is None:
        return None
    return ConnectionCheck.objects.filter(pk=connection.current_check_id).defer("report").first()


def audit_events_for(*, user, connection_id: int, limit: int = 20) -> QuerySet[AuditEvent]:
    """The user's own events about one connection (and its strategies), newest first."""
    return AuditEvent.objects.filter(owner=user, connection_id_ref=connection_id).select_related(
        "actor"
    )[:limit]


def audit_events_for_strategy(*, user, strategy_id: int, limit: int = 20) -> QuerySet[AuditEvent]:
    """The user's own events about one strategy, newest first."""
    return AuditEvent.objects.filter(
        owner=user, object_type="strategy", object_id=strategy_id
    ).select_related("actor")[:limit]


# The open incidents, for every page's banner. Published to the cache by the incident services
# on every change and by each re-check scheduler run (connections_update_incidents), so a page
# never queries for them; a lost cache key only hides the banner until the next run.
INCIDENTS_CACHE_KEY = "exchange-incidents:open"


@dataclass(frozen=True)
class IncidentBanner:
    pk: int
    exchange: str
    started_at: datetime
    escalated: bool


def open_incidents() -> list[IncidentBanner]:
    """Every open exchange incident, as last published."""
    try:
        cached = cache.get(INCIDENTS_CACHE_KEY) or []
    except CacheUnavailable:
        cached = []
    return [
        IncidentBanner(pk, exchange, datetime.fromisoformat(started), escalated)
        for pk, exchange, started, escalated in cached
    ]


def open_incidents_for(*, user) -> list[IncidentBanner]:
    """The open incidents on exchanges where `user` has a (non-demo) connection, for the banner
    every signed-in page carries. No query while no incident is open; one while one is."""
    if not getattr(user, "is_authenticated", False):
        return []
    incidents = open_incidents()
    if not incidents:
        return []
    mine = set(
        Connection.objects.filter(
            owner=user, demo=False, exchange__in=[i.exchange for i in incidents]
        ).values_list("exchange", flat=True)
    )
    return [incident for incident in incidents if incident.exchange in mine]
