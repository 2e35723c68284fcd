"""Writes and state transitions of strategies."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from backfuture.cache import CacheUnavailable
from connections import hooks
from connections.exchanges import registry, symbols
from connections.models import Connection
from strategies import gate, selectors
from strategies.models import PauseReason, Strategy, StrategyStatus, SymbolList

logger = logging.getLogger(__name__)

# Changing only these leaves an enabled strategy's trading untouched.
_COSMETIC_FIELDS = frozenset({"name", "auto_resume"})


class GateRefused(Exception):
    """`strategy_enable` refused: `result` lists every condition and why it failed."""

    def __init__(self, result: gate.GateResult) -> None:
        super().__init__(", ".join(c.code for c in result.failed))
        self.result = result


def _settings(values: Mapping[str, Any], *, auto_resume: bool = True) -> dict[str, Any]:
    """Exactly the settings fields: status and ownership never come in through `values`."""
    unknown = set(values) - set(gate.SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not strategy settings: {sorted(unknown)}")
    settings_values = {name: values.get(name) for name in gate.SETTINGS_FIELDS}
    # A choice with a default: a caller that does not mention it keeps the current one (on for
    # a new strategy).
    if values.get("auto_resume") is None:
        settings_values["auto_resume"] = auto_resume
    return settings_values


def _check_settings(*, owner_id: int, values: Mapping[str, Any]) -> None:
    """The form's rules again, for every caller: raise a ValidationError per field."""
    connection = values["connection"]
    tradable = selectors.tradable_pairs(exchange=connection.exchange, market=connection.market)
    problems = gate.settings_problems(owner_id=owner_id, values=values, tradable=tradable)
    if problems:
        errors: dict[str, list[ValidationError]] = {}
        for problem in problems:
            errors.setdefault(problem.field or "__all__", []).append(
                ValidationError(problem.message, code=problem.code)
            )
        raise ValidationError(errors)


def _duplicate_name() -> ValidationError:
    message = _("You already have a strategy with this name.")
    return ValidationError({"name": ValidationError(message, code="duplicate_name")})


def _name_taken(*, owner_id: int, name: str, exclude_pk: int | None = None) -> bool:
    return (
        Strategy.objects.filter(owner_id=owner_id, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    )


def strategy_create(*, owner, values: Mapping[str, Any]) -> Strategy:
    """A new draft strategy. `values` are the settings under their field names."""
    from connections import audit

    values = _settings(values)
    _check_settings(owner_id=owner.pk, values=values)
    if _name_taken(owner_id=owner.pk, name=values["name"]):
        raise _duplicate_name()
    strategy = Strategy(owner=owner, status=StrategyStatus.DRAFT, **values)
    try:
        with transaction.atomic():
            strategy.save()
            audit.record(
                strategy,
                "strategy_created",
                actor=owner,
                data={"connection": strategy.connection_id, "pairs": strategy.pairs},
            )
    except IntegrityError:
        # Two requests with the same name can both pass the check above; the constraint decides.
        if _name_taken(owner_id=owner.pk, name=values["name"]):
            raise _duplicate_name() from None
        raise
    symbol_list_request_refresh(
        exchange=strategy.connection.exchange, market=strategy.connection.market
    )
    return strategy


def strategy_update(*, strategy: Strategy, values: Mapping[str, Any], actor) -> Strategy:
    """Save new settings. An enabled strategy whose trading settings change is paused.

    Why pause rather than re-check and stay enabled: new settings change the risk of groups that
    may already be open (another ladder, margin or connection). Pausing means nothing trades on
    settings the user has not explicitly switched on, and switching on goes through the full
    gate again with the new values. A rename only changes a label and keeps it running.
    """
    from connections import audit

    values = _settings(values, auto_resume=strategy.auto_resume)
    _check_settings(owner_id=strategy.owner_id, values=values)
    if _name_taken(owner_id=strategy.owner_id, name=values["name"], exclude_pk=strategy.pk):
        raise _duplicate_name()
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = Strategy.objects.select_for_update().get(pk=strategy.pk)
            changed = sorted(
                name
                for name in gate.SETTINGS_FIELDS
                if _value(locked, name) != _value_of(values[name])
            )
            if not changed:
                return locked
            for name in changed:
                setattr(locked, name, values[name])
            paused = locked.status == StrategyStatus.ENABLED and bool(
                set(changed) - _COSMETIC_FIELDS
            )
            columns = [*changed, "updated_at"]
            if paused:
                locked.status = StrategyStatus.PAUSED
                locked.pause_reason = PauseReason.SETTINGS_CHANGED
                locked.paused_at = now
                columns += ["status", "pause_reason", "paused_at"]
            locked.save(update_fields=columns)
            audit.record(locked, "strategy_settings_changed", actor=actor, data={"fields": changed})
            if paused:
                audit.record(
                    locked,
                    "strategy_paused",
                    actor=actor,
                    data={"reason": PauseReason.SETTINGS_CHANGED},
                )
    except IntegrityError:
        if _name_taken(owner_id=strategy.owner_id, name=values["name"], exclude_pk=strategy.pk):
            raise _duplicate_name() from None
        raise
    symbol_list_request_refresh(
        exchange=locked.connection.exchange, market=locked.connection.market
    )
    return locked


def _value_of(value: Any) -> Any:
    # Connections compare by id; everything else by value (Decimal("1.0") == Decimal("1")).
    return value.pk if isinstance(value, Connection) else value


def _value(strategy: Strategy, name: str) -> Any:
    if name in ("connection", "new_groups_connection"):
        return getattr(strategy, f"{name}_id")
    return getattr(strategy, name)


def strategy_enable(*, strategy: Strategy, actor) -> Strategy:
    """Enable `strategy` if, and only if, every gate condition holds. Raises `GateRefused`.

    Race-safe: the connection rows and then the strategy row are locked and the gate is
    evaluated on those locked rows inside the transaction. A test that fails the connection
    meanwhile, a key replacement or a second enable request either waits for us or sees our
    result, so a page that showed ✓ earlier never enables a strategy whose gate now fails.
    Connections are locked before the strategy, in id order: the order the connection
    services use (they lock the connection, then pause its strategies), so the two never
    deadlock.
    """
    from connections import audit

    for _attempt in range(3):
        with transaction.atomic():
            ids = (
                Strategy.objects.filter(pk=strategy.pk)
                .values_list("connection_id", "new_groups_connection_id")
                .get()
            )
            connections = {
                c.pk: c
                for c in Connection.objects.select_for_update()
                .filter(pk__in=[pk for pk in ids if pk is not None])
                .order_by("pk")
                .defer("api_key", "api_secret", "passphrase")
            }
            locked = Strategy.objects.select_for_update().get(pk=strategy.pk)
            if (locked.connection_id, locked.new_groups_connection_id) != ids:
                continue  # its settings changed between the two reads: lock the new rows
            if locked.status == StrategyStatus.ENABLED:
                return locked
            connection = connections[locked.connection_id]
            now = timezone.now()
            result = gate.evaluate(
                locked,
                connection=connection,
                new_groups_connection=connections.get(locked.new_groups_connection_id),
                tradable=selectors.tradable_pairs(
                    exchange=connection.exchange, market=connection.market
                ),
                now=now,
                max_test_age=timedelta(seconds=settings.STRATEGY_GATE_MAX_TEST_AGE),
            )
            if not result.passed:
                raise GateRefused(result)
            locked.status = StrategyStatus.ENABLED
            locked.pause_reason = ""
            locked.enabled_at = now
            locked.save(update_fields=["status", "pause_reason", "enabled_at", "updated_at"])
            audit.record(
                locked,
                "strategy_enabled",
                actor=actor,
                data={"conditions": [str(c.code) for c in result.conditions]},
            )
            return locked
    raise RuntimeError("the strategy's connections kept changing while it was being enabled")


def strategy_pause(*, strategy: Strategy, actor, reason: str = PauseReason.USER) -> Strategy:
    """Pause an enabled strategy (a no-op for a draft or an already paused one)."""
    from connections import audit

    with transaction.atomic():
        locked = Strategy.objects.select_for_update().get(pk=strategy.pk)
        if locked.status != StrategyStatus.ENABLED:
            return locked
        locked.status = StrategyStatus.PAUSED
        locked.pause_reason = reason
        locked.paused_at = timezone.now()
        locked.save(update_fields=["status", "pause_reason", "paused_at", "updated_at"])
        audit.record(locked, "strategy_paused", actor=actor, data={"reason": str(reason)})
    return locked


def strategy_delete(*, strategy: Strategy, actor) -> None:
    from connections import audit

    with transaction.atomic():
        locked = Strategy.objects.select_for_update().get(pk=strategy.pk)
        audit.record(
            locked,
            "strategy_deleted",
            actor=actor,
            data={"name": locked.name, "status": locked.status},
        )
        locked.delete()


# The connection events that stop trading on the connection; the event's reason is the pause's.
_PAUSING_EVENTS = frozenset(
    {hooks.FAILED, hooks.KEY_REPLACED, hooks.PAUSE_REQUESTED, hooks.KEY_EXPIRED}
)


def strategies_on_connection_event(event: hooks.ConnectionEvent) -> int:
    """The strategies' listener for what happens to a connection (`connections.hooks`):
    failures, a replaced key, support's pause and an expired key pause its strategies; a test
    passing again resumes those paused because the exchange did not answer, where allowed.
    `unreachable` (still within the grace period) and `key_expiring` change nothing."""
    if event.kind in _PAUSING_EVENTS:
        return strategies_pause_for_connection(
            connection=event.connection, reason=event.reason, actor=event.actor
        )
    if event.kind == hooks.BACK_ONLINE:
        return strategies_resume_for_connection(connection=event.connection)
    return 0


def strategies_resume_for_connection(*, connection) -> int:
    """Resume the strategies the system paused because `connection`'s exchange did not answer,
    now that it passed a test again, if their owner allowed it (`auto_resume`).

    Only that temporary reason: a strategy paused by its owner, by support, for a permanent
    failure, a replaced or expired key stays paused until its owner enables it. A strategy that
    also routes new groups through another connection resumes only while that one is Online
    too. Called inside the connection's transaction, with `connection` locked: connection
    first, then strategies, the order every service locks in. Returns how many resumed.
    """
    from connections import audit

    now = timezone.now()
    strategies = list(
        # Only the strategy rows: the connections are read, not locked (one is ours already).
        Strategy.objects.select_for_update(of=("self",))
        .filter(
            Q(connection=connection) | Q(new_groups_connection=connection),
            status=StrategyStatus.PAUSED,
            pause_reason=PauseReason.EXCHANGE_UNAVAILABLE,
            auto_resume=True,
        )
        .select_related("connection", "new_groups_connection")
        .order_by("pk")
    )
    resumed = 0
    for strategy in strategies:
        used = [strategy.connection, strategy.new_groups_connection]
        if any(
            other is not None and other.pk != connection.pk and other.status != "online"
            for other in used
        ):
            continue
        strategy.status = StrategyStatus.ENABLED
        strategy.pause_reason = ""
        strategy.enabled_at = now
        strategy.save(update_fields=["status", "pause_reason", "enabled_at", "updated_at"])
        audit.record(
            strategy,
            "strategy_resumed",
            data={"reason": PauseReason.EXCHANGE_UNAVAILABLE, "connection": connection.pk},
        )
        resumed += 1
    return resumed


def strategies_pause_for_connection(*, connection, reason: str, actor=None) -> int:
    """Pause every enabled strategy that trades through `connection`, recording why.

    Strategies that route new groups through it are paused too: they would trade on it.
    Returns how many were paused.

    Strategies already paused because the exchange did not answer take the new reason when it
    is any other (a permanent failure, a replaced or expired key, support): they must then wait
    for their owner instead of resuming by themselves.
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
        if reason != PauseReason.EXCHANGE_UNAVAILABLE:
            waiting = Strategy.objects.select_for_update().filter(
                Q(connection=connection) | Q(new_groups_connection=connection),
                status=StrategyStatus.PAUSED,
                pause_reason=PauseReason.EXCHANGE_UNAVAILABLE,
            )
            for strategy in waiting:
                strategy.pause_reason = reason
                strategy.save(update_fields=["pause_reason", "updated_at"])
                audit.record(
                    strategy,
                    "strategy_paused",
                    actor=actor,
                    data={"reason": reason, "was": PauseReason.EXCHANGE_UNAVAILABLE},
                )
    return len(strategies)


# --- Symbol lists ------------------------------------------------------------------------------


def symbol_lists_refresh(*, exchange: str | None = None, market: str | None = None) -> dict:
    """Fetch the API-tradable pairs of every real exchange and market and store them.

    The network calls happen outside any transaction. A failed fetch keeps the previous list
    (an exchange hiccup must not make every pair look untradable) and records why.
    Returns {"exchange/market": "ok" | error text}.
    """
    results: dict[str, str] = {}
    for spec in registry.all_specs(include_demo=False):
        if exchange and spec.slug != exchange:
            continue
        for spec_market in spec.markets:
            if market and spec_market != market:
                continue
            key = f"{spec.slug}/{spec_market}"
            now = timezone.now()
            try:
                pairs = symbols.fetch_symbols(
                    spec.slug,
                    spec_market,
                    settings.EXCHANGE_URLS,
                    connect_timeout=settings.EXCHANGE_CONNECT_TIMEOUT,
                    read_timeout=settings.EXCHANGE_READ_TIMEOUT,
                )
            except symbols.SymbolListUnavailable as error:
                logger.warning("symbol list %s not refreshed: %s", key, error)
                SymbolList.objects.update_or_create(
                    exchange=spec.slug,
                    market=str(spec_market),
                    defaults={"attempted_at": now, "last_error": str(error)[:300]},
                )
                results[key] = str(error)
                continue
            SymbolList.objects.update_or_create(
                exchange=spec.slug,
                market=str(spec_market),
                defaults={
                    "pairs": list(pairs),
                    "fetched_at": now,
                    "attempted_at": now,
                    "last_error": "",
                },
            )
            results[key] = "ok"
    return results


def symbol_list_request_refresh(*, exchange: str, market: str) -> bool:
    """Queue a refresh of one list if it is missing or stale (the lazy path, on first need).

    At most one request per list and minute, however many pages ask. Returns whether one was
    queued.
    """
    if not selectors.symbol_list_is_stale(exchange=exchange, market=market):
        return False
    try:
        if not cache.add(f"symbol-refresh:{exchange}:{market}", 1, timeout=60):
            return False
    except CacheUnavailable:
        # Without the once-a-minute marker every page view would queue a refresh: skip it; the
        # periodic refresh still runs (docs/security.md, "Cache outage").
        return False
    from strategies.tasks import refresh_symbol_lists

    try:
        refresh_symbol_lists.delay_on_commit(exchange=exchange, market=market)
    except Exception:
        # Only an optimisation: a broker outage must not turn a page view or a save into a
        # 500. Forget the marker so a later request tries again.
        logger.warning("could not queue a symbol-list refresh", exc_info=True)
        cache.delete(f"symbol-refresh:{exchange}:{market}")
        return False
    return True
