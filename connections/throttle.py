"""One request budget per exchange, shared by every worker: connection tests never send more
than the exchange's documented rate limits allow from our IP.

Each IP-scoped limit in the exchange's `ExchangeSpec.rate_limits` is a bucket; a test makes
one call of each listed endpoint (the model `ExchangeSpec.tests_per_second` uses). A test
whose signed calls must go out a second time (signed with a clock skew that the server-time
call sent alongside proved wrong, connections/exchanges/flow.py: after our clock moved by more
than half a second against the exchange's, or on a worker's cold start with a clock that far
off) takes a second slot before resending them (`Slot.resend`, the client's pacing given by
`services.connection_run_check`), so those calls are paced like any test's; the slot also
counts the server-time call, which is not sent again: on the safe side. Buckets
are paced strictly (GCRA without burst): the bucket's next free start time moves one
interval forward per test, so any window of the documented length holds at most the
documented number of calls (`CONNECTION_THROTTLE_HEADROOM` of each limit stays unused for
the jitter between a slot and the call's arrival). That holds only while calls leave close to
their slots: a test's call that would leave later than `max_lateness` after its slot (a busy
worker held it up) takes another slot first (`Slot.call`, run by the transport in the
call's thread right before it goes out). Scheduled re-checks also take a slot in a
bucket of their own, paced at `CONNECTION_RECHECK_RATE_SHARE` of the budget, so tests people
start keep the rest; and a re-check never books a slot ahead of time: it takes one only when it
is free, so a test a person starts waits for at most the slot in use, never behind a line of
re-checks (issue 20).

The state lives in the Django cache (Redis in production, so all workers on all machines
share it; the database cache in the embedded default), guarded by a short lock per exchange
taken with `cache.add`, which is atomic on every backend (with Redis, taken together with
the state's read and released together with its write: two round trips, `_Lock`). A caller
that would have to wait longer than it may is told when to come back instead (`Throttled`),
so a worker is never blocked for long. Slots are wall-clock times: workers on several
machines need their clocks synchronised (NTP's milliseconds are well inside the headroom).

UID-scoped limits belong to one account and a test calls each endpoint once, so they never
bind for our fleet and are left to the exchange.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from backfuture.cache import CacheUnavailable
from connections.exchanges import registry
from connections.exchanges.base import Category, TemporaryExchangeError

logger = logging.getLogger(__name__)

_KEY = "throttle:v1:{slug}"
_LOCK = "throttle:v1:{slug}:lock"
RECHECK_BUCKET = "recheck"
# Re-checks that reached a worker late (all processes busy) may make up for it within this many
# seconds, so late arrivals do not lower their long-run rate; the exchange's own buckets, paced
# strictly, still hold every burst under the documented limits.
RECHECK_CATCH_UP = 2.0
# The critical section is a few milliseconds (with Redis, one pipeline in and one script out);
# a lock older than this was left by a dead process.
_LOCK_TTL = 5
# How long to spin for the lock before telling the caller to come back later.
_LOCK_WAIT = 1.0


class Throttled(Exception):
    """The exchange's request budget has no slot within the allowed wait."""

    def __init__(self, slug: str, retry_in: float) -> None:
        super().__init__(f"{slug}: request budget in use, retry in {retry_in:.2f} s")
        self.slug = slug
        self.retry_in = retry_in


@dataclass(frozen=True)
class Bucket:
    name: str
    interval: float  # seconds between two tests' slots
    # How far behind its pace the bucket may catch up (GCRA's burst tolerance). Zero for an
    # exchange's limits: strict spacing is what keeps every window under the limit.
    tolerance: float = 0.0


def scale(slug: str) -> float:
    return float(settings.CONNECTION_RATE_LIMIT_SCALE.get(slug, 1.0))


def calls_per_window(limit: registry.RateLimit) -> int:
    """Whole calls of the endpoint one window allows, as the exchange counts them (2,000
    weight at weight 3 allows 666 calls, not 666.7)."""
    return max(1, limit.limit // limit.weight)


def window(limit: registry.RateLimit, slug: str) -> float:
    """The limit's window in seconds, scaled: `CONNECTION_RATE_LIMIT_SCALE` multiplies the
    rate, as the same calls over a shorter (above 1) or longer (below 1) window."""
    return limit.per_seconds / scale(slug)


def buckets(spec: registry.ExchangeSpec) -> list[Bucket]:
    """The IP-scoped limits of an exchange as paced buckets, with the configured headroom."""
    usable = 1 - settings.CONNECTION_THROTTLE_HEADROOM
    return [
        Bucket(
            f"{limit.endpoint} {limit.limit}/{limit.per_seconds:g}s w{limit.weight}",
            window(limit, spec.slug) / (calls_per_window(limit) * usable),
        )
        for limit in spec.rate_limits
        if limit.scope == "ip"
    ]


def tests_per_second(spec: registry.ExchangeSpec) -> float:
    """Tests per second all our workers together may start (inf: nothing to protect)."""
    return min((1 / b.interval for b in buckets(spec)), default=math.inf)


def recheck_rate(spec: registry.ExchangeSpec) -> float:
    """Scheduled re-checks per second: their share of the budget, within the configured cap."""
    allowed = min(tests_per_second(spec), settings.CONNECTION_RECHECK_MAX_RATE)
    return allowed * settings.CONNECTION_RECHECK_RATE_SHARE


def take_slot(
    slug: str,
    *,
    recheck: bool,
    max_wait: float | None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[float, float]:
    """Reserve a start time for one test on `slug` and sleep until then; return the wait and
    the slot's start time ((0, now) where nothing is paced).

    A re-check reserves only a slot that is free when it asks, waiting and asking again
    otherwise, so it never holds a slot a person's test could have. Raises `Throttled` when
    the slot would be more than `max_wait` seconds away (None: wait as long as it takes);
    nothing is reserved then. Raises `TemporaryExchangeError` when the cache holding the
    budget is unreachable.
    """
    spec = registry.get(slug)
    paced = buckets(spec)
    if not paced:
        return 0.0, clock()
    if recheck:
        paced.append(Bucket(RECHECK_BUCKET, 1 / recheck_rate(spec), RECHECK_CATCH_UP))
    waited = 0.0
    while True:
        try:
            # A test a person started books the next free slot, however far; a re-check only
            # takes a slot that is free now, and otherwise waits without booking one, so a
            # person who presses Test meanwhile goes first (issue 20).
            wait, booked, start = _reserve(
                slug,
                paced,
                max_wait=None if max_wait is None else max_wait - waited,
                clock=clock,
                book_ahead=not recheck,
            )
        except CacheUnavailable:
            # Fail closed: unpaced tests from every worker could exceed the exchange's limits
            # and get our IP banned for all users. The task retries this like an exchange
            # outage; after its last retry the test fails as exchange_unavailable
            # (docs/security.md).
            raise TemporaryExchangeError(
                Category.EXCHANGE_UNAVAILABLE, "request budget unavailable: cache unreachable"
            ) from None
        if wait > 0:
            sleep(wait)
            waited += wait
        if booked:
            return waited, start


# The finest lateness a worker can keep to: taking a slot is two Redis round trips and the
# check follows it, so a bound below this would count even a call sent right after its new
# slot as late. Documented limits leave far more (26 ms at MEXC's 2 calls a second, the
# finest); only limits scaled up by orders of magnitude (the benchmarks' 10,000x, which stands
# for "unlimited") come below it.
MIN_LATENESS = 0.005


def max_lateness(spec: registry.ExchangeSpec) -> float:
    """How long after its slot a test's call may still go out, in seconds.

    Strict pacing keeps every window under its limit only while calls leave when their slots
    say. With tests spaced by `interval`, a limit of N calls per W seconds has a slack of
    N * interval - W: calls that leave up to that much after their slots still never put
    N + 1 into one window, whichever of them are late; later ones can. Half of the smallest
    slack over the exchange's IP-scoped limits is for our side (a busy worker between the
    slot and the send); the other half stays for what follows the send (the request's way
    out of the process, the network, the exchange's front end). For the limit that sets the
    pace the slack is W * headroom / (1 - headroom): 26 ms for MEXC's 2 calls a second at
    5 % headroom. Never below `MIN_LATENESS`; without headroom there is no slack to keep
    (inf: not checked).
    """
    rate = tests_per_second(spec)
    if math.isinf(rate):
        return math.inf
    interval = 1 / rate
    slack = min(
        calls_per_window(limit) * interval - window(limit, spec.slug)
        for limit in spec.rate_limits
        if limit.scope == "ip"
    )
    # The slack is W * headroom / (1 - headroom) or more (W the scaled window): zero only
    # without headroom, where every call would count as late.
    return max(slack / 2, MIN_LATENESS) if slack > 1e-9 else math.inf


# How many more slots a call takes, at most, to leave on time before its test goes back to
# the queue (`Throttled`): only a machine too busy to send within `max_lateness` of a slot it
# has just slept until gets that far.
_ON_TIME_TRIES = 3
# How long after its set was signed a late call may still wait for another slot. The
# strictest exchanges accept a timestamp at most 5 s behind their clock (recvWindow 5000 on
# Binance, BingX, Bybit and MEXC spot; KuCoin +-5 s: connections/exchanges/flow.py,
# SKEW_TOLERANCE_MS); beyond this the test goes back to the queue, to be signed afresh.
_LATE_MAX_WAIT = 2.0
# When a test that could not send on time comes back: a busy machine needs a moment.
_LATE_RETRY_IN = 1.0


class Slot:
    """A test's place in its exchange's request budget, from the slot to its calls.

    `take` reserves the slot (`take_slot`); the set of calls sent next is the one it paces.
    Each of those calls, in its own thread right before it goes out (`call`, the transport's
    `Pacing`), must leave within `max_lateness` of the slot. A call held up longer (the
    statement that marks the check running, building the client, starting the call's thread
    and waiting for the interpreter, on a busy machine tens of milliseconds) could put more
    calls into one of the exchange's windows than it allows: another slot is taken for it,
    as the test's first was (a person's test books ahead; a re-check takes only a slot free
    now, through its own share, so it never goes ahead of a person's test), and it waits for
    that one, within `_LATE_MAX_WAIT` of the set's signing. The late slot is left unused, on
    the safe side. A call that cannot leave on time ends the test's turn: it and the calls of
    its set not yet sent raise `Throttled`, and the test goes back to the queue. `resend`
    takes a slot for signed calls sent again. Calls after the paced set
    (HTX's dependent round) are not checked: they follow the exchange's answers, not our slot.
    """

    def __init__(
        self,
        slug: str,
        *,
        recheck: bool,
        max_wait: float | None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.slug = slug
        self.recheck = recheck
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.max_late = max_lateness(registry.get(slug))
        self.taken = 0  # slots taken for this test
        self._start = 0.0  # the last slot's start
        self._next_round_paced = False  # the next set of calls is the last slot's
        self._round_paced = False  # the calls going out now are
        self._round_deadline = 0.0  # a late call of the set waits for a slot until then
        self._gave_up = False  # a call of the set could not leave on time
        # The calls of one set go out from threads of their own.
        self._lock = threading.Lock()

    def take(self) -> float:
        """The test's slot (`take_slot`); returns the wait."""
        return self._take(recheck=self.recheck)

    def resend(self) -> float:
        """Another slot for signed calls sent again (booked ahead: the test is under way)."""
        return self._take(recheck=False)

    def _take(self, *, recheck: bool, max_wait: float | None = None) -> float:
        wait, self._start = take_slot(
            self.slug,
            recheck=recheck,
            max_wait=self.max_wait if max_wait is None else max_wait,
            clock=self.clock,
            sleep=self.sleep,
        )
        self.taken += 1
        self._next_round_paced = True
        return wait

    def round(self) -> None:
        """A set of calls, signed just now, is about to go out: the first after a slot is
        the one it paces."""
        self._round_paced, self._next_round_paced = self._next_round_paced, False
        self._round_deadline = self.clock() + _LATE_MAX_WAIT
        self._gave_up = False

    def call(self) -> None:
        """In a call's thread, right before it goes out: late, it waits for another slot.
        Raises `Throttled` (the test goes back to the queue) when no slot lets it leave on
        time: `_ON_TIME_TRIES` slots taken in vain, or none within `_LATE_MAX_WAIT` of the
        set's signing; the set's other calls not sent yet raise it too."""
        if not self._round_paced:
            return
        with self._lock:
            tries = 0
            while not self._gave_up:
                late = self.clock() - self._start
                if late <= self.max_late:
                    return
                left = self._round_deadline - self.clock()
                if tries == _ON_TIME_TRIES or left <= 0:
                    break
                logger.info(
                    "%s: a test's call %.0f ms after its slot (at most %.0f ms): another slot",
                    self.slug,
                    late * 1000,
                    self.max_late * 1000,
                )
                tries += 1
                try:
                    self._take(recheck=self.recheck, max_wait=left)
                except Throttled:
                    break
                finally:
                    self._next_round_paced = False
            self._gave_up = True
            raise Throttled(self.slug, _LATE_RETRY_IN)


# A re-check takes a slot this close to now (the time the lock and the cache take anyway).
_NOW = 0.002


def _reserve(
    slug: str,
    paced: list[Bucket],
    *,
    max_wait: float | None,
    clock: Callable[[], float],
    book_ahead: bool = True,
) -> tuple[float, bool, float]:
    """The wait until the caller's slot, whether it is booked, and the slot's start time: a
    caller that may not book ahead gets (wait, False, start) when its slot is not free now,
    and asks again after the wait."""
    with _Lock(slug) as lock:
        state: dict[str, float] = lock.value or {}
        now = clock()
        # Each bucket's value is its theoretical next slot; a start is allowed from that slot
        # minus the bucket's tolerance.
        start = max([now, *(state.get(b.name, 0.0) - b.tolerance for b in paced)])
        wait = start - now
        if max_wait is not None and wait > max_wait:
            raise Throttled(slug, wait)
        if not book_ahead and wait > _NOW:
            return wait, False, start
        for bucket in paced:
            state[bucket.name] = max(state.get(bucket.name, 0.0), start) + bucket.interval
        # Slots in the past mean nothing, so the state may expire once all are.
        horizon = max(state.values()) - now
        lock.write(state, timeout=max(60, math.ceil(horizon) + 60))
    return wait, True, start


class _Lock:
    """A short mutual exclusion over one exchange's state, across processes and machines.

    Entered, it holds the lock and the state as read under it (`value`); `write` stores the
    new state, written as the lock is released. With the Redis cache, taking the lock and
    reading the state is one round trip, and writing it and releasing the lock another
    (backfuture/cache.py), where the generic cache calls take five.
    """

    def __init__(self, slug: str) -> None:
        self.key = _LOCK.format(slug=slug)
        self.state_key = _KEY.format(slug=slug)
        self.slug = slug
        self.token = uuid.uuid4().hex
        self.value: dict[str, float] | None = None
        self._new: tuple[dict[str, float], int] | None = None
        self._fast = hasattr(cache, "lock_and_get") and hasattr(cache, "write_and_unlock")

    def _take(self) -> bool:
        if self._fast:
            added, self.value = cache.lock_and_get(self.key, self.token, _LOCK_TTL, self.state_key)
            return added
        if not cache.add(self.key, self.token, timeout=_LOCK_TTL):
            return False
        self.value = cache.get(self.state_key)
        return True

    def __enter__(self) -> _Lock:
        deadline = time.monotonic() + _LOCK_WAIT
        pause = 0.001
        while not self._take():
            if time.monotonic() > deadline:
                raise Throttled(self.slug, _LOCK_WAIT)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        return self

    def write(self, value: dict[str, float], *, timeout: int) -> None:
        """The state to store (with its cache timeout) when the lock is released."""
        self._new = (value, timeout)

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        # Nothing is written when the section raised (Throttled: nothing was reserved).
        new = self._new if exc_type is None else None
        if self._fast:
            value, timeout = new or (None, 0)
            cache.write_and_unlock(self.key, self.token, self.state_key, value, timeout)
            return
        if new is not None:
            cache.set(self.state_key, new[0], timeout=new[1])
        # Only our own lock: if we overran its TTL, another process holds a new one now.
        if cache.get(self.key) == self.token:
            cache.delete(self.key)
