"""The shared per-exchange request budget of connection tests (issue 11, connections/throttle)."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest
from django.core.cache import cache
from django.utils import timezone

from benchmarks.fleet import max_in_window
from connections import services, tasks, throttle
from connections.exchanges import registry
from connections.models import Connection, ConnectionCheck
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def acquire(clock: FakeTime, slug: str = "mexc", *, recheck: bool = False, max_wait=None):
    return throttle.take_slot(
        slug, recheck=recheck, max_wait=max_wait, clock=clock, sleep=clock.sleep
    )[0]


def test_only_ip_scoped_limits_are_paced_with_headroom_and_scale(settings):
    settings.CONNECTION_THROTTLE_HEADROOM = 0.1
    settings.CONNECTION_RATE_LIMIT_SCALE = {"kucoin": 2.0}
    kucoin = registry.get("kucoin")
    (bucket,) = throttle.buckets(kucoin)  # the three UID-scoped pools are not ours to pace
    assert bucket.name.startswith("GET /api/v1/timestamp")
    # 2,000 weight per 30 s at weight 3: 666 whole calls, as KuCoin counts them; scaled x 2.
    assert 1 / bucket.interval == pytest.approx(666 / 30 * 2 * 0.9)
    mexc = registry.get("mexc")
    assert len(throttle.buckets(mexc)) == len([r for r in mexc.rate_limits if r.scope == "ip"])
    # The strictest IP limit decides: MEXC's "2 times/s" on /api/v3/account.
    assert throttle.tests_per_second(mexc) == pytest.approx(2 * 0.9)
    assert throttle.buckets(registry.get("demo")) == []


def test_recheck_rate_is_the_share_of_the_budget_within_the_cap(settings):
    settings.CONNECTION_THROTTLE_HEADROOM = 0.0
    settings.CONNECTION_RECHECK_RATE_SHARE = 0.5
    settings.CONNECTION_RECHECK_MAX_RATE = 100
    assert throttle.recheck_rate(registry.get("mexc")) == pytest.approx(1.0)
    assert throttle.recheck_rate(registry.get("kucoin")) == pytest.approx(666 / 30 * 0.5)
    settings.CONNECTION_RECHECK_MAX_RATE = 10
    assert throttle.recheck_rate(registry.get("kucoin")) == pytest.approx(5.0)
    assert throttle.recheck_rate(registry.get("demo")) == pytest.approx(5.0)


@pytest.mark.parametrize("slug", ["mexc", "kucoin"])
def test_no_window_ever_holds_more_than_a_documented_limit(slug, settings):
    settings.CONNECTION_THROTTLE_HEADROOM = 0.0
    clock = FakeTime()
    starts = []
    for n in range(300):
        acquire(clock, slug, recheck=n % 3 == 0)
        starts.append(clock())
    for limit in registry.get(slug).rate_limits:
        if limit.scope == "ip":
            assert max_in_window(starts, limit.per_seconds) <= limit.limit // limit.weight
    # ... while using it fully: back-to-back tests are spaced by exactly one interval.
    rate = throttle.tests_per_second(registry.get(slug))
    assert (starts[-1] - starts[0]) == pytest.approx(299 / rate)


def test_rechecks_keep_to_their_share_and_people_get_the_rest(settings):
    settings.CONNECTION_THROTTLE_HEADROOM = 0.0
    settings.CONNECTION_RECHECK_RATE_SHARE = 0.5
    clock = FakeTime()
    rechecks = []
    for _ in range(40):
        acquire(clock, recheck=True)
        rechecks.append(clock())
    # MEXC allows 2 tests/s from our IP; re-checks get 1/s in the long run (after using the
    # few seconds of catch-up they may borrow, at the exchange's own pace of 0.5 s).
    gaps = [b - a for a, b in pairwise(rechecks)]
    assert min(gaps) == pytest.approx(0.5)
    assert gaps[-20:] == pytest.approx([1.0] * 20)
    assert rechecks[-1] - rechecks[0] >= 39 * 1.0 - throttle.RECHECK_CATCH_UP
    # A test a person starts right after a re-check only waits for the shared slot (0.5 s),
    # not for the re-checks' own pace (1 s).
    waited = acquire(clock, recheck=False)
    assert waited == pytest.approx(0.5)


def test_a_waiting_recheck_books_no_slot_so_a_person_goes_first(settings):
    """Issue 20: a re-check waiting for the exchange's next slot does not hold it."""
    settings.CONNECTION_THROTTLE_HEADROOM = 0.0
    clock = FakeTime()
    start = clock()
    acquire(clock, recheck=True)  # MEXC's next slot: 0.5 s from now
    person = []

    def sleep(seconds: float) -> None:
        if not person:
            # A person presses Test while the re-check waits for that slot.
            person.append(
                throttle.take_slot(
                    "mexc", recheck=False, max_wait=None, clock=clock, sleep=lambda s: None
                )[0]
            )
        clock.sleep(seconds)

    waited, _ = throttle.take_slot("mexc", recheck=True, max_wait=2.0, clock=clock, sleep=sleep)
    assert person == [pytest.approx(0.5)]  # the slot the re-check was waiting for
    assert waited == pytest.approx(1.0) and clock() == pytest.approx(start + 1.0)  # the next
    # Every call still one interval apart: 0, 0.5 (the person), 1.0.
    state = cache.get("throttle:v1:mexc")
    assert max(state.values()) == pytest.approx(start + 1.5)


def test_a_recheck_that_would_wait_too_long_books_nothing_and_is_told_when_to_return():
    clock = FakeTime()
    acquire(clock)  # a person's test; the next slot in about 0.53 s
    acquire(clock, max_wait=None)  # another, booked ahead: the next about 1.05 s away
    state = cache.get("throttle:v1:mexc")
    with pytest.raises(throttle.Throttled) as busy:
        acquire(clock, recheck=True, max_wait=0.5)
    assert busy.value.retry_in > 0.5
    assert cache.get("throttle:v1:mexc") == state and clock.slept == [
        pytest.approx(0.526, abs=0.01)
    ]


def test_a_slot_too_far_away_raises_and_reserves_nothing():
    clock = FakeTime()
    acquire(clock)
    state = cache.get("throttle:v1:mexc")
    with pytest.raises(throttle.Throttled) as busy:
        acquire(clock, max_wait=0.1)
    assert busy.value.retry_in == pytest.approx(1 / throttle.tests_per_second(registry.get("mexc")))
    assert cache.get("throttle:v1:mexc") == state
    assert clock.slept == []


def test_an_exchange_without_ip_limits_is_not_throttled():
    clock = FakeTime()
    for _ in range(5):
        assert acquire(clock, "demo", recheck=True) == 0
    assert clock.slept == [] and cache.get("throttle:v1:demo") is None


def test_a_held_lock_makes_the_caller_come_back_later(monkeypatch):
    monkeypatch.setattr(throttle, "_LOCK_WAIT", 0.05)
    cache.add("throttle:v1:mexc:lock", "someone else", timeout=5)
    with pytest.raises(throttle.Throttled):
        acquire(FakeTime())
    assert cache.get("throttle:v1:mexc:lock") == "someone else"  # not ours to release


def test_a_slot_costs_two_redis_round_trips(settings, monkeypatch):
    """The lock is taken with the state's read and released with its write (one pipeline,
    one script); a slot that is not booked (a re-check too early) writes nothing."""
    import redis.connection

    if not hasattr(cache, "lock_and_get"):
        pytest.skip("the Redis cache's round trips (CI runs the tests with Redis)")
    sent = []
    real = redis.connection.Connection.send_packed_command

    def count(self, command, check_health=True):
        sent.append(command)
        return real(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", count)
    clock = FakeTime()
    acquire(clock)
    assert len(sent) == 2
    assert cache.get("throttle:v1:mexc:lock") is None
    state = cache.get("throttle:v1:mexc")
    sent.clear()
    with pytest.raises(throttle.Throttled):
        acquire(clock, recheck=True, max_wait=0.1)
    assert len(sent) == 2 and cache.get("throttle:v1:mexc") == state
    assert cache.get("throttle:v1:mexc:lock") is None


def test_the_lock_after_its_timeout_is_not_released_by_its_late_owner():
    """A section that outlived its lock's timeout still writes its state (as before), but
    leaves the lock another caller took meanwhile."""
    lock = throttle._Lock("mexc")
    with lock:
        cache.set("throttle:v1:mexc:lock", "someone else", timeout=5)  # ours expired, taken
        lock.write({"a": 1.0}, timeout=60)
    assert cache.get("throttle:v1:mexc:lock") == "someone else"
    assert cache.get("throttle:v1:mexc") == {"a": 1.0}


def test_caches_without_the_redis_extras_pace_the_same(settings, monkeypatch):
    """The generic path (add, get, set, get, delete) on any other cache backend."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not hasattr(cache, "lock_and_get")
    settings.CONNECTION_THROTTLE_HEADROOM = 0.0
    clock = FakeTime()
    start = clock()
    assert acquire(clock) == 0
    assert acquire(clock) == pytest.approx(0.5)  # MEXC's 2 tests/s
    assert max(cache.get("throttle:v1:mexc").values()) == pytest.approx(start + 1.0)
    assert cache.get("throttle:v1:mexc:lock") is None
    monkeypatch.setattr(throttle, "_LOCK_WAIT", 0.05)
    cache.add("throttle:v1:mexc:lock", "someone else", timeout=5)
    with pytest.raises(throttle.Throttled):
        acquire(clock)
    assert cache.get("throttle:v1:mexc:lock") == "someone else"


def _scheduled_check(alice) -> ConnectionCheck:
    conn = make_connection(alice)
    return services.connection_request_check(connection=conn, trigger="schedule", enqueue=False)


def test_run_check_takes_a_slot_before_calling_the_exchange(alice, monkeypatch):
    check = _scheduled_check(alice)
    monkeypatch.setattr(
        registry, "build_client", lambda *a, **k: pytest.fail("called the exchange")
    )
    cache.set("throttle:v1:mexc", {"recheck": 10**12}, timeout=60)  # no slot for ages
    with pytest.raises(throttle.Throttled):
        services.connection_run_check(check_id=check.pk, max_wait=1.0)
    check.refresh_from_db()
    assert check.state == "queued" and check.attempts == 0  # untouched: it runs later


def test_signed_calls_sent_again_take_another_slot(alice, monkeypatch, no_internet):
    # MEXC's clock is 30 s ahead of ours and nothing is remembered: the signed calls that
    # went out with the time call are dropped and sent again, which costs a slot of their own.
    import json
    import time

    import responses

    from tests.exchanges.conftest import load

    def server_time(request):
        return 200, {}, json.dumps({"serverTime": int(time.time() * 1000) + 30_000})

    no_internet.add_callback(responses.GET, "https://api.mexc.com/api/v3/time", server_time)
    no_internet.add(responses.GET, "https://api.mexc.com/api/v3/account", json=load("mexc_account"))
    no_internet.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})
    taken = []

    def take_slot(*args, **kwargs):
        taken.append((args, {k: kwargs[k] for k in ("recheck", "max_wait")}))
        return 0.0, time.time()

    monkeypatch.setattr(throttle, "take_slot", take_slot)
    check = services.connection_request_check(
        connection=make_connection(alice), trigger="user", enqueue=False
    )

    services.connection_run_check(check_id=check.pk, max_wait=2.0)

    signed = [c for c in no_internet.calls if "signature=" in c.request.url]
    assert len(signed) == 4  # account and order/test, twice
    assert taken == [
        (("mexc",), {"recheck": False, "max_wait": 2.0}),  # the test's slot
        (("mexc",), {"recheck": False, "max_wait": 2.0}),  # the signed calls sent again
    ]


def test_a_call_that_cannot_leave_on_time_puts_the_test_back_as_not_started(
    alice, monkeypatch, no_internet
):
    # The check was marked running; our own pacing sends it back: queued again, and the turn
    # is not counted as an attempt. Nothing reached the exchange.
    def late(self):
        raise throttle.Throttled("mexc", 1.0)

    monkeypatch.setattr(throttle.Slot, "call", late)
    check = services.connection_request_check(
        connection=make_connection(alice), trigger="user", enqueue=False
    )
    with pytest.raises(throttle.Throttled):
        services.connection_run_check(check_id=check.pk, max_wait=2.0)
    check.refresh_from_db()
    assert check.state == "queued" and check.attempts == 0
    assert len(no_internet.calls) == 0
    check.connection.refresh_from_db()
    assert check.connection.status == "testing" and check.connection.current_check_id == check.pk


def test_a_persons_test_takes_its_slot_once_marked_running(alice, monkeypatch):
    # So the statement is not between its slot and its calls; a re-check (above) takes its
    # slot first, and without one goes back untouched.
    check = services.connection_request_check(
        connection=make_connection(alice), trigger="user", enqueue=False
    )
    states = []
    original = throttle.take_slot

    def take_slot(slug, **kwargs):
        states.append(ConnectionCheck.objects.get(pk=check.pk).state)
        return original(slug, **kwargs)

    monkeypatch.setattr(throttle, "take_slot", take_slot)
    monkeypatch.setattr(
        registry, "build_client", lambda *a, **k: pytest.fail("called the exchange")
    )
    mexc = registry.get("mexc")
    cache.set("throttle:v1:mexc", {b.name: 10**12 for b in throttle.buckets(mexc)}, timeout=60)
    with pytest.raises(throttle.Throttled):
        services.connection_run_check(check_id=check.pk, max_wait=1.0)
    assert states == ["running"]
    check.refresh_from_db()
    assert check.state == "queued" and check.attempts == 0  # back, and not an attempt


def test_stale_check_spends_no_budget(alice, monkeypatch):
    check = _scheduled_check(alice)
    ConnectionCheck.objects.filter(pk=check.pk).update(state="finished")
    monkeypatch.setattr(throttle, "take_slot", lambda *a, **k: pytest.fail("took a slot"))
    assert services.connection_run_check(check_id=check.pk) == "stale"


def test_throttled_task_is_requeued_without_using_a_retry(alice, monkeypatch):
    check = _scheduled_check(alice)

    def busy(**kwargs):
        assert kwargs["max_wait"] == 2.0
        raise throttle.Throttled("mexc", 1.5)

    sent = []
    monkeypatch.setattr(services, "connection_run_check", busy)
    monkeypatch.setattr(tasks.connection_check, "apply_async", lambda **kwargs: sent.append(kwargs))
    tasks.connection_check.push_request(retries=1, is_eager=False)
    try:
        assert tasks.connection_check.run(check.pk) == "throttled"
    finally:
        tasks.connection_check.pop_request()
    (requeued,) = sent
    assert requeued["args"] == [check.pk] and requeued["retries"] == 1
    assert 1.5 <= requeued["countdown"] <= 1.6


def test_scheduler_spreads_rechecks_at_the_throttles_rate(
    alice, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTION_RECHECK_SCHEDULE_PERIOD = 10
    sent = []
    monkeypatch.setattr(
        tasks.connection_check, "apply_async", lambda args=None, **kw: sent.append(kw)
    )
    old = timezone.now() - timedelta(hours=2)
    for _ in range(30):
        conn = make_connection(alice, exchange="kucoin")
        Connection.objects.filter(pk=conn.pk).update(status="online", last_tested_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = services.connections_schedule_rechecks()
    rate = throttle.recheck_rate(registry.get("kucoin"))
    assert scheduled == 30 == len(sent)  # KuCoin allows far more than 30 in 10 s
    # A test whose slot has already passed (a slow machine) is sent at once, without countdown.
    countdowns = sorted(kw.get("countdown", 0.0) for kw in sent)
    # One slot per test at the re-check rate: done in 30 slots, not stretched over 10 s.
    assert countdowns[-1] <= 30 / rate < 10
    assert all(b - a < 2 / rate for a, b in pairwise(countdowns))


def test_scheduler_budget_follows_the_ip_limits_not_the_per_account_ones(alice, settings):
    """KuCoin's per-account key-info pool (3.3 tests/s) must not cap the whole fleet."""
    settings.CONNECTION_RECHECK_SCHEDULE_PERIOD = 10
    old = timezone.now() - timedelta(hours=2)
    for _ in range(60):
        conn = make_connection(alice, exchange="kucoin")
        Connection.objects.filter(pk=conn.pk).update(status="online", last_tested_at=old)
    assert registry.get("kucoin").tests_per_second() * 10 < 60
    assert services.connections_schedule_rechecks() == 60


def test_a_recheck_due_at_once_keeps_its_countdown_of_zero(
    alice, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Issue 19 #22: a countdown of exactly 0.0 is a countdown, not "no countdown"."""
    settings.CONNECTION_RECHECK_SCHEDULE_PERIOD = 10
    # No jitter: the first slot starts at 0, so its countdown is max(0.0, 0 - elapsed) = 0.0.
    monkeypatch.setattr(services.random, "uniform", lambda low, high: low)
    sent = []
    monkeypatch.setattr(
        tasks.connection_check, "apply_async", lambda args=None, **kw: sent.append(kw)
    )
    old = timezone.now() - timedelta(hours=2)
    for _ in range(3):
        conn = make_connection(alice, exchange="kucoin")
        Connection.objects.filter(pk=conn.pk).update(status="online", last_tested_at=old)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connections_schedule_rechecks() == 3
    assert sent[0].get("countdown") == 0.0
    assert all(kw.get("countdown") is not None for kw in sent)


# --- A slot's first call leaves on time (throttle.Slot) -----------------------------------------


def slot(clock: FakeTime, slug: str = "mexc", *, recheck: bool = False, max_wait=None):
    return throttle.Slot(slug, recheck=recheck, max_wait=max_wait, clock=clock, sleep=clock.sleep)


def book(clock: FakeTime, slug: str = "mexc") -> None:
    """Another worker's test books the next slot (its wait is its own: our clock stays)."""
    throttle.take_slot(slug, recheck=False, max_wait=None, clock=clock, sleep=lambda s: None)


def test_max_lateness_is_half_the_slack_of_the_limit_that_sets_the_pace(settings):
    settings.CONNECTION_THROTTLE_HEADROOM = 0.05
    # MEXC's pace is set by "2 times/s" on the account: 1 s * 0.05 / 0.95, halved.
    assert throttle.max_lateness(registry.get("mexc")) == pytest.approx(0.05 / 0.95 / 2)
    # KuCoin's only IP limit: 2,000 weight per 30 s at weight 3, so 666 whole calls.
    interval = 1 / throttle.tests_per_second(registry.get("kucoin"))
    assert throttle.max_lateness(registry.get("kucoin")) == pytest.approx((666 * interval - 30) / 2)
    assert throttle.max_lateness(registry.get("demo")) == float("inf")  # nothing to pace


def test_max_lateness_stays_positive_with_scaled_limits_and_is_off_without_headroom(settings):
    # A scale multiplies the rate as the same calls in a shorter or longer window (the fleet
    # benchmark's simulator lengthens its windows alike): the slack scales with the window.
    for factor in (1.25, 0.3, 0.12):  # MEXC's bound stays above MIN_LATENESS
        settings.CONNECTION_RATE_LIMIT_SCALE = {"mexc": factor}
        late = throttle.max_lateness(registry.get("mexc"))
        assert late == pytest.approx(0.05 / 0.95 / 2 / factor)
        assert throttle.tests_per_second(registry.get("mexc")) == pytest.approx(2 * factor * 0.95)
    # Limits scaled up by orders of magnitude ("unlimited" in the benchmarks): a worker's own
    # precision, not microseconds no call could keep to.
    settings.CONNECTION_RATE_LIMIT_SCALE = {"mexc": 10_000.0}
    assert throttle.max_lateness(registry.get("mexc")) == throttle.MIN_LATENESS
    settings.CONNECTION_THROTTLE_HEADROOM = 0.0  # no slack to keep: every call would be late
    assert throttle.max_lateness(registry.get("mexc")) == float("inf")


@pytest.mark.parametrize("slug", [s.slug for s in registry.all_specs() if s.rate_limits])
def test_calls_within_twice_the_lateness_of_their_slots_keep_every_window(slug, settings):
    """The bound `max_lateness` rests on: calls that leave up to 2 x max_lateness after their
    slots (our half and the network's) never bring a window over its limit, whichever are
    late; a little more does, so the bound is not loose."""
    settings.CONNECTION_THROTTLE_HEADROOM = 0.05
    spec = registry.get(slug)
    limits = [limit for limit in spec.rate_limits if limit.scope == "ip"]
    interval = 1 / throttle.tests_per_second(spec)  # back to back, as the throttle spaces them
    block = max(limit.limit // limit.weight for limit in limits) + 2
    starts = [n * interval for n in range(3 * block)]
    late = 2 * throttle.max_lateness(spec)

    def worst(jitter: float) -> float:
        # A block of late calls, then a block on time: the window over the change holds the
        # late calls' ends and the on-time calls' beginnings, the worst any jitter can do.
        arrivals = [at + (jitter if (n // block) % 2 == 0 else 0.0) for n, at in enumerate(starts)]
        return max(
            max_in_window(arrivals, limit.per_seconds) / (limit.limit // limit.weight)
            for limit in limits
        )

    assert worst(0.99 * late) <= 1.0
    assert worst(1.01 * late) > 1.0


def test_calls_on_time_keep_their_slot():
    clock = FakeTime()
    test = slot(clock)
    test.take()
    test.round()
    clock.now += 0.02  # the test's statements and signing: within MEXC's 26 ms
    test.call()
    test.call()  # the set's other call
    assert test.taken == 1 and clock.slept == []
    # The next set of the same test (HTX's api-key after its uid) follows the exchange's
    # answers, not the slot: not checked.
    clock.now += 0.3
    test.round()
    test.call()
    assert test.taken == 1


def test_a_late_call_takes_another_slot_and_waits_for_it():
    clock = FakeTime()
    test = slot(clock, recheck=True)
    test.take()
    first = clock()
    book(clock)  # another worker's test right after: the next slot, 0.53 s after ours
    test.round()
    test.call()  # the set's first call left on time
    clock.now += 0.2  # the second call's thread was held up on a busy machine
    test.call()
    # A second slot, booked ahead (the test is under way), after the other test's: the late
    # call waited for it, so no window holds it with the slots around it.
    assert test.taken == 2
    interval = 1 / throttle.tests_per_second(registry.get("mexc"))
    assert clock() == pytest.approx(first + 2 * interval)
    test.call()  # a third call of the set, now on time for the new slot
    assert test.taken == 2


def test_a_resend_takes_a_slot_whose_calls_are_checked():
    clock = FakeTime()
    test = slot(clock)
    test.take()
    test.round()
    test.call()
    clock.now += 1.0  # the answers came back: signed with a wrong skew
    test.resend()
    assert test.taken == 2
    test.round()
    clock.now += 0.2  # held up before the resend went out
    test.call()
    assert test.taken == 3


def test_a_machine_too_busy_to_send_on_time_puts_the_test_back_in_the_queue():
    clock = FakeTime()

    def slow_sleep(seconds: float) -> None:  # every wait overshoots by 100 ms
        clock.sleep(seconds + 0.1)

    test = throttle.Slot("mexc", recheck=False, max_wait=None, clock=clock, sleep=slow_sleep)
    test.take()
    book(clock)  # the next slot is someone else's: ours must wait, and overshoots
    test.round()
    signed = clock()
    clock.now += 0.1
    with pytest.raises(throttle.Throttled) as raised:
        test.call()
    assert 1 < test.taken <= 1 + throttle._ON_TIME_TRIES
    # Never past what a signed call may wait (plus one overshoot).
    assert clock() - signed <= throttle._LATE_MAX_WAIT + 0.1 + 0.1
    assert raised.value.retry_in >= 1.0  # a busy machine: back in a moment, not at once
    # The set's other calls, not sent yet, give up at once: no slot taken, no wait.
    taken, now = test.taken, clock()
    with pytest.raises(throttle.Throttled):
        test.call()
    assert test.taken == taken and clock() == now


def test_the_last_slot_taken_is_checked_and_used():
    clock = FakeTime()
    overshoots = [0.1, 0.1, 0.0]  # the third wait ends on time

    def sleep(seconds: float) -> None:
        clock.sleep(seconds + (overshoots.pop(0) if overshoots else 0.0))

    test = throttle.Slot("mexc", recheck=False, max_wait=None, clock=clock, sleep=sleep)
    test.take()
    test.round()
    clock.now += 0.1
    test.call()  # three slots more, the last on time: the call goes out
    assert test.taken == 1 + throttle._ON_TIME_TRIES


def test_late_calls_of_one_set_take_one_slot_between_them():
    import threading

    clock = FakeTime()
    test = slot(clock)
    test.take()
    book(clock)
    test.round()
    clock.now += 0.1  # both calls' threads were held up
    errors = []

    def call():
        try:
            test.call()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert test.taken == 2  # the second call found the new slot and went with it


def test_a_late_recheck_takes_its_new_slot_as_a_recheck(monkeypatch):
    # Through its share, and never booked ahead of a person's test.
    clock = FakeTime()
    test = slot(clock, recheck=True)
    test.take()
    test.round()
    clock.now += 0.1
    taken = []
    original = throttle.take_slot

    def take_slot(slug, **kwargs):
        taken.append(kwargs["recheck"])
        return original(slug, **kwargs)

    monkeypatch.setattr(throttle, "take_slot", take_slot)
    test.call()
    assert taken == [True]


def test_a_late_call_waits_at_most_two_seconds_for_its_new_slot():
    # Signed already: the strictest exchanges accept a timestamp 5 s old at most.
    clock = FakeTime()
    test = slot(clock)  # no max_wait (an eager test): the late call still has one
    test.take()
    for _ in range(5):
        book(clock)  # other tests booked the next 2.6 s
    test.round()
    clock.now += 0.1
    with pytest.raises(throttle.Throttled):
        test.call()
    assert test.taken == 1 and clock.slept == []
