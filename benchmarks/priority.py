"""Issue 20.2 — a person's test while the fleet is re-checked: the median time from pressing
"Test" to the final status while 10,000 re-checks run, against the same on an idle system.

    python -m benchmarks.priority [--connections 10000] [--samples 30] [--latency-ms 250]
                                  [--spread-ms 150,400] [--workers 1,2] [--quick]
                                  [--pool threads|prefork] [--concurrency N] [--max-rate R] [--scale F]
                                  [--no-tests-worker]

The exchange simulator answers every call after a latency drawn between the two `--spread-ms`
bounds (most often `--latency-ms`). `--connections` online spot connections, spread evenly
over every live exchange of the registry (the demo exchange calls no network and is left
out), are all due for a re-check; as beat would, the benchmark sends the re-check scheduler
every scheduling period, so re-checks run at each exchange's documented rate, or as fast as
the workers go if that is slower, through `celery worker` processes as the Procfile starts
them: each `worker` (both queues; `--pool`/`--concurrency` to try another pool) with its
`tests-worker` beside it (the queue `tests` only; `--no-tests-worker` leaves it out, as the
Procfile before it). `--max-rate` caps each
exchange's re-checks (CONNECTION_RECHECK_MAX_RATE) to keep them within what the workers can
do; `--scale` multiplies every documented limit (CONNECTION_RATE_LIMIT_SCALE). Scaling the
limits down also spaces an exchange's slots further apart, which a person's test then waits
for: prefer `--max-rate`.

For each worker count in `--workers` (processes on this machine, sharing the throttle
through Redis as workers on several machines would), the same person's tests are timed
twice, one at a time through the real view (Django's test client) on connections of every
exchange in turn: on the idle system, then while the re-checks run. Figures:

- busy median / idle median of the whole test (POST to the final status in the database);
- HTTP 429 answers from the simulator (it enforces its model of the documented limits);
- re-checks done per second while the person's tests ran, against the rate the exchanges
  allow us (so the load was real), and where a person's test waited (queue pickup).
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

from benchmarks import common
from benchmarks.latency import Sample, _Publications, measure_one

TARGET_RATIO = 1.3


def spread_simulator(*, latency_ms: float, low_ms: float, high_ms: float, **options: Any):
    """The exchange simulator with every call's latency drawn from a triangular distribution
    between `low_ms` and `high_ms`, its mode at `latency_ms` (0: no latency)."""
    from tests.simulator import ExchangeSimulator

    class _Spread(ExchangeSimulator):
        # The simulator reads `latency_ms` once per call (core.ExchangeSimulator.handle).
        @property
        def latency_ms(self) -> float:
            if not self._mode_ms:
                return 0.0
            return random.triangular(low_ms, high_ms, self._mode_ms)

        @latency_ms.setter
        def latency_ms(self, value: float) -> None:
            self._mode_ms = value

        def request_log(self) -> list:
            """The request log (`requests`), as a method a process proxy can call."""
            return self.requests

        def pid(self) -> int:
            return os.getpid()

    return _Spread(latency_ms=latency_ms, **options)


def _started_spread_simulator(**options: Any):
    """Runs in the simulator's own process (`simulator_process`)."""
    return spread_simulator(**options).start()


class _SimulatorManager(BaseManager):
    pass


_SimulatorManager.register(
    "Simulator",
    _started_spread_simulator,
    exposed=(
        "urls_setting",
        "seed_keys",
        "new_key",
        "set_rate_limit",
        "reset_stats",
        "stats",
        "request_log",
        "pid",
        "stop",
    ),
)


@contextmanager
def simulator_process(**options: Any) -> Iterator[Any]:
    """`spread_simulator(**options)`, started in a process of its own; a proxy to it.

    Real exchanges do not answer from inside our web process: in this one, the simulator's
    threads answering a fleet's re-checks (about 200 calls a second) would share the
    interpreter lock with the view and the polling that time a person's test."""
    manager = _SimulatorManager(ctx=multiprocessing.get_context("spawn"))
    manager.start()
    try:
        sim = manager.Simulator(**options)
        try:
            yield sim
        finally:
            sim.stop()
    finally:
        manager.shutdown()


@dataclass
class Phase:
    workers: int
    idle: list[Sample] = field(default_factory=list)
    busy: list[Sample] = field(default_factory=list)
    rate_limited: int = 0
    limited_by: dict = field(default_factory=dict)  # (exchange, host role) -> HTTP 429 answers
    rechecks_done: int = 0  # re-checks finished while the person's tests ran
    busy_seconds: float = 0.0
    allowed_rate: float = 0.0  # re-checks per second the throttle allows, all exchanges
    held: tuple[int, int] = (0, 0)  # at the end: messages in the queue, taken by workers
    peaks: list = field(default_factory=list)  # fleet.Peak per IP-scoped limit, busy phase

    @property
    def ratio(self) -> float:
        return common.median([s.whole_s for s in self.busy]) / common.median(
            [s.whole_s for s in self.idle]
        )

    def ratio_by_exchange(self) -> dict[str, float]:
        ratios = {}
        for slug in {s.exchange for s in self.busy} & {s.exchange for s in self.idle}:
            busy = common.median([s.whole_s for s in self.busy if s.exchange == slug])
            idle = common.median([s.whole_s for s in self.idle if s.exchange == slug])
            ratios[slug] = busy / idle
        return ratios


def _median_ms(samples: Sequence[Sample], attribute: str) -> str:
    return f"{common.median([getattr(s, attribute) for s in samples]) * 1000:.0f}"


def ip_limit_peaks(records: Sequence[Any], exchanges: Sequence[str], scale: float) -> list:
    """For every IP-scoped limit of an endpoint a spot test calls: the most calls the
    simulator saw in any window of the limit's length (`fleet.Peak`, judged against the
    documented limit as configured)."""
    from benchmarks.fleet import Peak, max_in_window
    from connections.exchanges import registry
    from tests.simulator.registry import EXCHANGE_OF_ROLE

    peaks = []
    for slug in exchanges:
        for limit in registry.get(slug).rate_limits:
            method, _, path = limit.endpoint.partition(" ")
            if limit.scope != "ip" or not path.startswith("/"):
                continue  # a limit over all calls of a host is not one endpoint's
            times = [
                r.timestamp
                for r in records
                if EXCHANGE_OF_ROLE.get(r.exchange) == slug
                and r.method == method
                and r.path == path
            ]
            if times:
                allowed = limit.limit / limit.weight * scale
                peaks.append(
                    Peak(
                        slug,
                        limit.endpoint,
                        limit.per_seconds,
                        max_in_window(times, limit.per_seconds),
                        allowed,
                    )
                )
    return peaks


def phase_figures(phase: Phase) -> list[common.Figure]:
    def request(samples):
        return _median_ms(samples, "request_s")

    def run(samples):
        return _median_ms(samples, "run_s")

    idle = common.median([s.whole_s for s in phase.idle])
    busy = common.median([s.whole_s for s in phase.busy])
    busy_pickup = common.median([s.pickup_s for s in phase.busy])
    idle_pickup = common.median([s.pickup_s for s in phase.idle])
    ratio = phase.ratio
    done_rate = phase.rechecks_done / phase.busy_seconds if phase.busy_seconds else 0.0
    label = f"{phase.workers} worker{'s' if phase.workers > 1 else ''}"
    by_exchange = ", ".join(
        f"{slug} {ratio:.2f}" for slug, ratio in sorted(phase.ratio_by_exchange().items())
    )
    over = [p for p in phase.peaks if not p.ok]
    tightest = max(phase.peaks, key=lambda p: p.most / p.allowed, default=None)
    figures = [
        common.Figure(
            f"{label}: a person's test during re-checks / idle (median)",
            ratio,
            f"<= {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
            unit="x",
            detail=(
                f"busy {busy * 1000:.0f} ms (p90 "
                f"{common.quantile([s.whole_s for s in phase.busy], 0.9) * 1000:.0f}), idle "
                f"{idle * 1000:.0f} ms (p90 "
                f"{common.quantile([s.whole_s for s in phase.idle], 0.9) * 1000:.0f}); "
                f"pickup incl. throttle busy {busy_pickup * 1000:.0f} ms, idle "
                f"{idle_pickup * 1000:.0f} ms; view until published busy {request(phase.busy)}, "
                f"idle {request(phase.idle)} ms; started to finished busy {run(phase.busy)}, idle "
                f"{run(phase.idle)} ms; {len(phase.busy)} and {len(phase.idle)} tests; "
                f"by exchange: {by_exchange}"
            ),
        ),
        common.Figure(
            f"{label}: HTTP 429 answers from the simulator",
            phase.rate_limited,
            "0",
            phase.rate_limited == 0,
            detail=", ".join(
                f"{slug} {role} {count}" for (slug, role), count in sorted(phase.limited_by.items())
            ),
        ),
        common.Figure(
            f"{label}: re-checks per second meanwhile / allowed re-check rate",
            done_rate / phase.allowed_rate if phase.allowed_rate else 0.0,
            "reported",
            True,
            detail=(
                f"{phase.rechecks_done} re-checks in {phase.busy_seconds:.0f} s "
                f"({done_rate:.1f}/s of {phase.allowed_rate:.1f}/s allowed); at the end "
                f"{phase.held[0]} messages in the re-checks' queue, {phase.held[1]} taken by "
                "the workers and not yet acknowledged"
            ),
        ),
        common.Figure(
            f"{label}: IP-scoped limits over any window exceeded",
            len(over),
            "0",
            not over,
            detail=(
                f"{len(phase.peaks)} limits checked from the simulator's log; "
                + (
                    f"closest: {tightest.exchange} {tightest.endpoint} {tightest.most} calls "
                    f"in {tightest.window_s:g} s of {tightest.allowed:g}"
                    if tightest
                    else "no calls"
                )
                + "".join(
                    f"; OVER: {p.exchange} {p.endpoint} {p.most} in {p.window_s:g} s" for p in over
                )
            ),
        ),
    ]
    return figures


# --- The run -------------------------------------------------------------------------------


def live_exchanges() -> list[str]:
    from connections.exchanges import registry

    return [spec.slug for spec in registry.all_specs(include_demo=False)]


def allowed_recheck_rate(exchanges: Sequence[str]) -> float:
    from connections import throttle
    from connections.exchanges import registry

    return sum(throttle.recheck_rate(registry.get(slug)) for slug in exchanges)


def make_fleet(sim, exchanges: Sequence[str], total: int) -> None:
    from django.conf import settings

    keys = []
    for index, slug in enumerate(exchanges):
        share = total // len(exchanges) + (1 if index < total % len(exchanges) else 0)
        keys += sim.seed_keys(share, slug, seed=index + 1)
    common.create_connections(
        keys,
        status="online",
        tested_ago_s=settings.CONNECTION_RECHECK_INTERVAL + 3600,
        email_prefix="fleet",
    )


def make_people(sim, exchanges: Sequence[str], count: int) -> tuple[Any, list[int]]:
    """`count` untested spot connections of one person, the exchanges in turn."""
    from django.contrib.auth import get_user_model

    kinds = list(itertools.islice(itertools.cycle(exchanges), count))
    keys = [sim.new_key(slug) for slug in kinds]
    pks = common.create_connections(keys, per_owner=count, email_prefix="person")
    owner = get_user_model().objects.get(connections__pk=pks[0])
    return owner, pks


def reset_fleet_rows() -> None:
    """Every fleet connection online and due again, no test in flight (its checks gone)."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from connections.models import Connection, ConnectionCheck

    old = timezone.now() - timedelta(seconds=settings.CONNECTION_RECHECK_INTERVAL + 3600)
    fleet = Connection.objects.filter(owner__email__startswith="fleet")
    fleet.update(
        status="online",
        current_check=None,
        testing_since=None,
        last_tested_at=old,
        last_online_at=old,
        next_recheck_at=None,
    )
    ConnectionCheck.objects.filter(connection__in=fleet).delete()


def reset_fleet() -> None:
    """Between phases, the workers stopped: the fleet due again, the broker's queues and
    the throttle's state (Redis, the benchmark's own database) emptied."""
    from django.core.cache import cache

    from backfuture.celery import app

    reset_fleet_rows()
    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    cache.clear()


def person_tests(client, pks: Sequence[int], publications, pause: float) -> list[Sample]:
    samples = []
    for pk in pks:
        samples.append(measure_one(client, pk, publications, timeout=120))
        time.sleep(pause)
    return samples


def held_by_workers(app) -> tuple[int, int]:
    """Re-check messages in Redis: (waiting in the queue, taken by a worker and not yet
    acknowledged: running, waiting for a free process, or an ETA not yet due)."""
    from backfuture.celery import DEFAULT_QUEUE

    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        return client.llen(DEFAULT_QUEUE), client.hlen("unacked")


def rechecks_finished() -> int:
    from connections.models import ConnectionCheck

    return ConnectionCheck.objects.filter(trigger="schedule", state="finished").count()


def run_phase(
    *,
    sim,
    workers: int,
    client,
    idle_pks: Sequence[int],
    busy_pks: Sequence[int],
    publications,
    exchanges: Sequence[str],
    args: argparse.Namespace,
) -> Phase:
    from django.conf import settings

    from backfuture.celery import app

    phase = Phase(workers=workers, allowed_rate=allowed_recheck_rate(exchanges))
    period = settings.CONNECTION_RECHECK_SCHEDULE_PERIOD
    log_dir = Path(tempfile.gettempdir())
    with common.celery_workers(
        count=workers,
        exchange_urls=sim.urls_setting(),
        pool=args.pool,
        concurrency=args.concurrency,
        log_dir=log_dir,
        loglevel="WARNING",
        tests_worker=args.tests_worker,
    ):
        print(f"\n-- {workers} worker(s): {len(idle_pks)} tests on the idle system", flush=True)
        person_tests(client, idle_pks[: args.warmup], publications, args.pause)
        phase.idle = person_tests(client, idle_pks[args.warmup :], publications, args.pause)
        sim.reset_stats()
        print(
            f"-- re-checks start (scheduler every {period} s); warm-up {args.load_warmup:g} s",
            flush=True,
        )
        app.send_task("connections.tasks.connections_schedule_rechecks")
        next_schedule = time.monotonic() + period
        time.sleep(args.load_warmup)
        done_before = rechecks_finished()
        started = time.monotonic()
        print(f"-- {len(busy_pks)} tests while they run", flush=True)
        for pk in busy_pks:
            if time.monotonic() >= next_schedule:
                # What beat does every CONNECTION_RECHECK_SCHEDULE_PERIOD.
                app.send_task("connections.tasks.connections_schedule_rechecks")
                next_schedule += period
            phase.busy.append(measure_one(client, pk, publications, timeout=120))
            time.sleep(args.pause)
        phase.busy_seconds = time.monotonic() - started
        phase.rechecks_done = rechecks_finished() - done_before
        phase.held = held_by_workers(app)
        phase.peaks = ip_limit_peaks(sim.request_log(), exchanges, args.scale)
        stats = sim.stats()
        phase.rate_limited = sum(s["rate_limited"] for s in stats.values())
        phase.limited_by = {
            (slug, role): host["rate_limited"]
            for slug, s in stats.items()
            for role, host in s["hosts"].items()
            if host["rate_limited"]
        }
    return phase


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.priority", description=__doc__)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=30, help="timed tests per phase")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 connections, 12 samples")
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--spread-ms", default="150,400", help="low,high per call")
    parser.add_argument("--workers", default="1,2", help="worker processes per phase")
    # As the Procfile starts the worker (CELERY_WORKER_POOL: threads) unless told otherwise.
    parser.add_argument("--pool", default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--tests-worker",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start the Procfile's tests-worker beside each worker (default: yes)",
    )
    parser.add_argument(
        "--simulator-process",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the exchange simulator in a process of its own (default: yes; with "
        "--no-simulator-process it answers from this process, beside the view)",
    )
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between tests")
    parser.add_argument(
        "--load-warmup", type=float, default=15.0, help="seconds of re-checks before timing"
    )
    parser.add_argument("--exchanges", default="", help="comma-separated (default: all live)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="factor on every exchange's documented limits, ours and the simulator's alike",
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        default=None,
        help="CONNECTION_RECHECK_MAX_RATE: re-checks per second per exchange at most, to keep "
        "the re-checks within what the workers can do (the exchanges' limits unchanged)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.connections, args.samples = 2_000, 12
    low, high = (float(v) for v in args.spread_ms.split(","))
    worker_counts = [int(n) for n in args.workers.split(",")]

    if args.scale != 1.0:
        from tests.simulator.registry import EXCHANGES

        # The worker processes and this one read the same factors.
        os.environ["CONNECTION_RATE_LIMIT_SCALE"] = ",".join(
            f"{slug}={args.scale:g}" for slug in EXCHANGES
        )
    if args.max_rate is not None:
        os.environ["CONNECTION_RECHECK_MAX_RATE"] = f"{args.max_rate:g}"
    common.setup_django()
    common.require_services()
    from django.conf import settings
    from django.test import Client

    common.use_bench_database()
    exchanges = args.exchanges.split(",") if args.exchanges else live_exchanges()
    publications = _Publications()
    phases = []
    per_phase = args.warmup + 2 * args.samples
    simulator = simulator_process if args.simulator_process else spread_simulator
    with simulator(latency_ms=args.latency_ms, low_ms=low, high_ms=high, max_log=200_000) as sim:
        if args.scale > 1.0:
            # Above the documented limits, the simulator's grow alike (below, ours are lower
            # than its documented ones anyway).
            for slug in exchanges:
                sim.set_rate_limit(slug, scale=args.scale)
        make_fleet(sim, exchanges, args.connections)
        owner, pks = make_people(sim, exchanges, per_phase * len(worker_counts))
        client = Client()
        client.force_login(owner)
        print(
            f"\n{args.connections} online spot connections due, evenly over "
            f"{', '.join(exchanges)}; re-checks allowed {allowed_recheck_rate(exchanges):.1f}/s "
            f"in all; simulator latency {args.latency_ms:g} ms ({low:g}-{high:g}); pool "
            f"{args.pool or settings.CELERY_WORKER_POOL}, concurrency "
            f"{args.concurrency or settings.CELERY_WORKER_CONCURRENCY}"
            + (
                f", each with a tests-worker of {common.TESTS_WORKER_CONCURRENCY}; "
                if args.tests_worker
                else " (no tests-worker); "
            )
            + f"limits x {args.scale:g}, re-checks at most "
            f"{settings.CONNECTION_RECHECK_MAX_RATE:g}/s per exchange",
            flush=True,
        )
        for index, workers in enumerate(worker_counts):
            if index:
                reset_fleet()
            mine = pks[index * per_phase : (index + 1) * per_phase]
            phases.append(
                run_phase(
                    sim=sim,
                    workers=workers,
                    client=client,
                    idle_pks=mine[: args.warmup + args.samples],
                    busy_pks=mine[args.warmup + args.samples :],
                    publications=publications,
                    exchanges=exchanges,
                    args=args,
                )
            )
    figures = [figure for phase in phases for figure in phase_figures(phase)]
    ok = common.print_figures(
        "6. A person's test during a fleet re-check", figures, common.command_line()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
