"""Celery tasks: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task

from strategies import services


# Four public calls with (connect, read) timeouts of a few seconds each: well inside the limits.
@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def refresh_symbol_lists(exchange: str | None = None, market: str | None = None) -> dict:
    """Refresh the exchanges' API symbol lists (all of them, or one exchange/market).

    Not retried: a failed list keeps its previous pairs, the next periodic run tries again,
    and a page that needs a missing list asks again (at most once a minute).
    """
    return services.symbol_lists_refresh(exchange=exchange, market=market)
