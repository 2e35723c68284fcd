"""How the apps above `connections` hear that a connection changed, without `connections`
importing them (dependencies point one way: backfuture ← connections ← strategies).

A higher app registers a listener once, in its `AppConfig.ready()`; a service in
`connections` calls `announce(...)` inside its transaction, so what a listener writes commits or
rolls back with the change it reacts to. Listeners return a number of objects they changed
(strategies paused, say), which `announce` sums for the caller's message.

Events (`ConnectionEvent.kind`):

| kind | when | `reason` |
|---|---|---|
| `failed` | a test ended failed, or the reaper failed a test whose worker died | `connection_failed` |
| `key_replaced` | the person replaced the key (the connection is untested again) | `key_replaced` |
| `pause_requested` | support asked to pause everything on the connection (admin action) | `support` |

`strategies` pauses the strategies on the connection for each of them
(`strategies.services.strategies_on_connection_event`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FAILED = "failed"
KEY_REPLACED = "key_replaced"
PAUSE_REQUESTED = "pause_requested"


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
