"""Writes and state transitions of strategies."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from strategies.models import Strategy, StrategyStatus


def strategies_pause_for_connection(*, connection, reason: str, actor=None) -> int:
    """Pause every enabled strategy that trades through `connection`, recording why.

    Strategies that route new groups through it are paused too: they would trade on it.
    Returns how many were paused.
    """
    from connections import audit

    now = timezone.now()
    with transaction.atomic():
        strategies = list(
            Strategy.objects.select_for_update().filter(
                Q(connection=connection) | Q(new_groups_connection=connection),
                status=StrategyStatus.ENABLED,
            )
        )
        for strategy in strategies:
            strategy.status = StrategyStatus.PAUSED
            strategy.pause_reason = reason
            strategy.paused_at = now
            strategy.save(update_fields=["status", "pause_reason", "paused_at", "updated_at"])
            audit.record(strategy, "strategy_paused", actor=actor, data={"reason": reason})
    return len(strategies)
