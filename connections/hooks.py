"""How the apps above `connections` hear that a connection changed, without `connections`
importing them (dependencies point one way: backfuture ← connections ← strategies).

A higher app registers a listener once, in its `AppConfig.ready()`; a service in
`connections` calls `announce(...)` inside its transaction, so what a listener writes commits or
rolls back with the change it reacts to. Listeners return a number of objects they changed
(strategies paused, say), which `announce` sums for the caller's message.

Events (`ConnectionEvent.kind`):

| kind | when | `reason` |
|---|---|---|
| `failed` | a test ended failed (a permanent category, or any category when a person or support started it), or the reaper failed a test whose worker died | `connection_failed` |
| `failed` | a temporary failure outlasted the grace period (re-checks, or the exchange's incident escalated) | `exchange_unavailable` |
| `unreachable` | a re-check could not reach the exchange; the connection stays Online within the grace period | `exchange_unavailable` |
| `back_online` | a test passed on a connection that had failed or could not reach its exchange | `online` |
| `key_replaced` | the person replaced the key (the connection is untested again) | `key_replaced` |
| `pause_requested` | support asked to pause everything on the connection (admin action) | `support` |
| `key_expiring` | a reminder about the key's expiry went out (14, 3 or 1 days before) | `key_expiring` |
| `key_expired` | the key's expiry day has come | `key_expired` |

`strategies` listens (`strategies.services.strategies_on_connection_event`): it pauses the
strategies on the connection for `failed`, `key_replaced`, `pause_requested` and `key_expired`
(the pause reason is the event's `reason`), resumes those paused for `exchange_unavailable` that
allow it on `back_online`, and ignores `unreachable` and `key_expiring`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAILED = "failed"
UNREACHABLE = "unreachable"
BACK_ONLINE = "back_online"
KEY_REPLACED = "key_replaced"
PAUSE_REQUESTED = "pause_requested"
KEY_EXPIRING = "key_expiring"
KEY_EXPIRED = "key_expired"

# Reasons (`ConnectionEvent.reason`), also the strategies' pause reasons.
REASON_FAILED = "connection_failed"
REASON_UNAVAILABLE = "exchange_unavailable"
REASON_KEY_EXPIRED = "key_expired"


@dataclass(frozen=True)
class ConnectionEvent:
    connection: Any  # a connections.models.Connection, locked by the caller where it matters
    kind: str
    reason: str
    actor: Any = None  # the user who caused it; None for the system


Listener = Callable[[ConnectionEvent], int]

_listeners: list[Listener] = []


def listen(listener: Listener) -> Listener:
    """Register `listener` for every event (idempotent: a listener is kept once)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def announce(event: ConnectionEvent) -> int:
    """Tell every listener; the sum of what they changed."""
    return sum(listener(event) or 0 for listener in list(_listeners))
