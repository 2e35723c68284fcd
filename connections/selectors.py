"""Reads of connections. Every read that depends on who is asking is scoped here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from connections.models import AuditEvent, Connection, ConnectionCheck


def connection_list(*, user) -> QuerySet[Connection]:
    # Encrypted columns are never needed to list or show a connection.
    return Connection.objects.filter(owner=user).defer("api_key", "api_secret", "passphrase")


def connection_get(*, user, pk: int) -> Connection:
    """The user's connection, or 404 (also for another user's connection: no existence leak)."""
    return get_object_or_404(connection_list(user=user), pk=pk)


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
