"""Issues 11.3 and 20 — fleet re-check at real exchange latency: one worker process re-checks
every online connection of every exchange at that exchange's allowed rate, never above it,
with its memory, its database connections and the queue it leaves in Redis bounded.

    python -m benchmarks.fleet [--connections 10000 | --quick] [--latency-ms 250]
        [--spread 150-400] [--pool threads] [--concurrency N] [--scale 0.12] [--eta-cost N,...]

`--connections` online spot connections of every exchange in `connections.exchanges.registry`
(the demo exchange calls no network and is left out) are all due for a re-check, shared out
in proportion to each exchange's allowed rate so that every exchange is busy for the whole
run. As beat would, the benchmark sends the `connections_schedule_rechecks` task every
scheduling period to one `celery worker` (`--pool`, `--concurrency`: default the
CELERY_WORKER_POOL and CELERY_WORKER_CONCURRENCY settings), which tests them against the
simulator (`--latency-ms` per call, each call drawn from `--spread`) until every connection
has been re-checked once.

Each exchange runs at its own documented limits (`ExchangeSpec.rate_limits`, IP scope), all
multiplied by one factor (`--scale`, also `exchange=factor` pairs) for our throttle and the
simulator alike, so that the sum of every exchange's rate fits the 2-core machine that runs
the worker, PostgreSQL, Redis and the simulator. The figures:

- per exchange, tests per second (first to last finished re-check) against its configured
  rate: at least 80 %; its simulator's 429 answers: none;
- the most calls to each configured IP-scoped limit within any window of the limit's length,
  from the simulator's request log: never above the configured limit;
- the worker's memory (all its processes) at the end against after the first scheduling
  period: flat (at most 1.2x);
- the worker's PostgreSQL connections, most seen at once: at most its concurrency + 2;
- reported: tasks the worker holds (Redis `unacked`: ETA/countdown tasks and prefetched
  ones) and their bytes in Redis, the worker's CPU time per test, connections per second.
"""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import common

TARGET_UTILISATION = 0.8
TARGET_MEMORY_GROWTH = 1.2
# One factor on every exchange's documented limits: their sum at 1.0 (154 tests a second over
# ten exchanges, 132 of them re-checks) is more than the 2-core development machine can test
# while also running PostgreSQL, Redis and the simulator (docs/performance.md); 0.12 keeps
# every exchange's own proportions.
DEFAULT_SCALE = "0.12"
MIN_CONNECTIONS = 20  # per exchange, so that its rate spans more than a few tests


def fleet_exchanges() -> list[str]:
    """Every exchange of the registry the simulator serves; the demo exchange calls none."""
    from connections.exchanges import registry
    from tests.simulator.registry import SIM_EXCHANGES

    return [
        spec.slug for spec in registry.all_specs(include_demo=False) if spec.slug in SIM_EXCHANGES
    ]


def parse_scale(text: str, exchanges: Sequence[str]) -> dict[str, float]:
    """ "0.25" (every exchange) or "0.25,mexc=2" (a default and overrides)."""
    factors: dict[str, float] = {}
    default = 1.0
    for item in filter(None, (part.strip() for part in text.split(","))):
        if "=" in item:
            slug, value = item.split("=", 1)
            factors[slug.strip()] = float(value)
        else:
            default = float(item)
    return {slug: factors.get(slug, default) for slug in exchanges}


def parse_spread(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    low, high = (float(v) for v in text.split("-", 1))
    return (low, high)


@dataclass
class Agreement:
    exchange: str
    endpoint: str
    configured: str  # calls per window we allow ourselves
    simulator: str  # what the simulator enforces for the same calls


def _limit_endpoint(endpoint: str) -> tuple[str, str] | None:
    """("GET", "/path") for an endpoint limit; None for a host-wide one ("all calls ...")."""
    method, _, path = endpoint.partition(" ")
    if method.isupper() and path.startswith("/"):
        return method, path
    return None


def allowed_calls(limit: Any) -> float:
    """Calls a configured limit allows per window. An endpoint's weight is what one call
    costs; a host-wide limit's weight is the calls one test makes, each costing one."""
    if _limit_endpoint(limit.endpoint) is None:
        return float(limit.limit)
    return limit.limit / limit.weight


def scaled_window(limit: Any, factor: float) -> float:
    """A limit scaled by `factor` keeps its count over a window divided by the factor: 2 per
    1 s at 0.25 is 2 per 4 s, not 0.5 per 1 s (a strictly paced 0.5/s still puts two calls
    in some 1 s windows, so a fractional count could never be held)."""
    return limit.per_seconds / factor


def _route(sim: Any, exchange: str, endpoint: str):
    """The simulator's route of an endpoint on the exchange's live (non-demo) hosts."""
    from tests.simulator.registry import SIM_EXCHANGES

    parsed = _limit_endpoint(endpoint)
    if parsed is None:
        return None
    for role in SIM_EXCHANGES[exchange].hosts:
        if role.endswith("_demo"):
            continue
        route = sim._apis[role].match(*parsed)
        if route is not None:
            return route
    return None


def scale_simulator(sim: Any, exchange: str, factor: float) -> None:
    """Every quota of the exchange's simulator over its window divided by the factor."""
    for (slug, name), pool in list(sim._limiter.pools.items()):
        if slug == exchange:
            sim.set_rate_limit(exchange, name, window_s=pool.default_window_s / factor)


def align_simulator(sim: Any, factors: Mapping[str, float]) -> list[Agreement]:
    """Scale the simulator's quotas by the factors, then, wherever it would refuse calls our
    configured limit allows (it counts them with other weights), make it enforce ours;
    report each limit."""
    from connections.exchanges import registry

    rows = []
    for exchange, factor in factors.items():
        scale_simulator(sim, exchange, factor)
        for limit in registry.get(exchange).rate_limits:
            if limit.scope != "ip":
                continue
            calls = allowed_calls(limit)
            window = scaled_window(limit, factor)
            configured = f"{calls:g} calls / {window:g} s"
            route = _route(sim, exchange, limit.endpoint)
            if _limit_endpoint(limit.endpoint) is None:
                simulator = "host-wide: checked from its request log"
            elif route is None:
                simulator = "not called by a spot test"
            elif route.signed:
                simulator = (
                    "per key only (the simulator keys signed calls by account): "
                    "checked from its request log"
                )
            else:
                pool = sim.rate_limit(exchange, route.pool)
                wanted = math.floor(calls * route.weight)
                note = ""
                if pool.limit / pool.window_s < wanted / window:
                    sim.set_rate_limit(exchange, route.pool, limit=wanted, window_s=window)
                    note = (
                        f" (its documented pool: {pool.default_limit:g} per "
                        f"{pool.default_window_s:g} s; it charges weight {route.weight} per "
                        f"call, we configure {limit.weight})"
                    )
                simulator = (
                    f"{pool.limit // route.weight:g} calls / {pool.window_s:g} s in pool "
                    f"'{route.pool}' (weight {route.weight}){note}"
                )
            rows.append(Agreement(exchange, limit.endpoint, configured, simulator))
    return rows


@dataclass
class Peak:
    exchange: str
    endpoint: str
    window_s: float
    most: int  # most calls seen within any window
    allowed: float

    @property
    def ok(self) -> bool:
        return self.most <= self.allowed


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most events in any half-open window (t - window, t], as the exchanges count."""
    inside: deque[float] = deque()
    best = 0
    for at in sorted(times):
        inside.append(at)
        while inside[0] <= at - window:
            inside.popleft()
        best = max(best, len(inside))
    return best


def _exchange_of(role: str) -> str:
    from tests.simulator.registry import EXCHANGE_OF_ROLE

    return EXCHANGE_OF_ROLE.get(role, role)


def endpoint_peaks(records: Sequence[Any], factors: Mapping[str, float]) -> list[Peak]:
    """For each configured IP-scoped limit: the busiest window in the simulator's log (a
    host-wide limit counts every call to the exchange's live hosts)."""
    from connections.exchanges import registry

    by_exchange: dict[str, list[Any]] = {}
    for record in records:
        if not record.exchange.endswith("_demo"):
            by_exchange.setdefault(_exchange_of(record.exchange), []).append(record)
    peaks = []
    for exchange, factor in factors.items():
        mine = by_exchange.get(exchange, [])
        for limit in registry.get(exchange).rate_limits:
            if limit.scope != "ip":
                continue
            parsed = _limit_endpoint(limit.endpoint)
            times = [r.timestamp for r in mine if parsed is None or (r.method, r.path) == parsed]
            window = scaled_window(limit, factor)
            peaks.append(
                Peak(
                    exchange,
                    limit.endpoint,
                    window,
                    max_in_window(times, window),
                    allowed_calls(limit),
                )
            )
    return peaks


def tests_per_second(finished: Mapping[str, Sequence[float]]) -> dict[str, tuple[int, float]]:
    """Per exchange: re-checks finished, and their rate from the first to the last."""
    rates = {}
    for exchange, stamps in finished.items():
        times = sorted(stamps)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        rates[exchange] = (len(times), (len(times) - 1) / span if span else 0.0)
    return rates


def allowed_tests_per_second(factors: Mapping[str, float]) -> dict[str, float]:
    """What our configured IP-scoped limits allow, scaled (before the throttle's headroom and
    the re-checks' share)."""
    from connections.exchanges import registry

    return {
        exchange: registry.get(exchange).tests_per_second(scope="ip") * factor
        for exchange, factor in factors.items()
    }


def share_out(total: int, allowed: Mapping[str, float]) -> dict[str, int]:
    """Connections per exchange in proportion to its rate (each at least MIN_CONNECTIONS), so
    that every exchange is re-checked over about the same span."""
    rate_sum = sum(allowed.values())
    counts = {e: max(MIN_CONNECTIONS, round(total * r / rate_sum)) for e, r in allowed.items()}
    biggest = max(counts, key=counts.get)
    counts[biggest] += total - sum(counts.values())
    return counts


@dataclass
class Samples:
    """What the sampler saw every few seconds while the worker ran."""

    rss_kb: list[tuple[float, int]] = field(default_factory=list)
    db_connections: list[int] = field(default_factory=list)
    held_tasks: list[int] = field(default_factory=list)  # Redis `unacked`
    queued_tasks: list[int] = field(default_factory=list)  # the queue's list
    redis_bytes: list[int] = field(default_factory=list)

    def rss_growth(self, after_s: float) -> tuple[float, int, int]:
        """RSS at the end / RSS at the first sample after `after_s` (both kB)."""
        if not self.rss_kb:
            return float("nan"), 0, 0
        base = next((kb for at, kb in self.rss_kb if at >= after_s), self.rss_kb[-1][1])
        end = self.rss_kb[-1][1]
        return (end / base if base else float("nan")), base, end


def fleet_figures(
    *,
    stats: Mapping[str, Any],
    peaks: Sequence[Peak],
    rates: Mapping[str, tuple[int, float]],
    allowed: Mapping[str, float],
    checked: int,
    online: int,
    seconds: float,
    samples: Samples | None = None,
    warm_up_s: float = 60.0,
    concurrency: int = 0,
    cpu_s: float | None = None,
) -> list[common.Figure]:
    figures = [
        common.Figure(
            "connections re-checked per second (all exchanges)",
            checked / seconds if seconds else 0.0,
            "reported",
            online == checked,
            unit="/s",
            detail=f"{checked} re-checked in {seconds:.0f} s, {online} online afterwards"
            + (
                f"; worker CPU {cpu_s * 1000 / checked:.1f} ms per test"
                if cpu_s and checked
                else ""
            ),
        )
    ]
    for exchange in allowed:
        count, rate = rates.get(exchange, (0, 0.0))
        share = rate / allowed[exchange] if allowed[exchange] else 0.0
        figures.append(
            common.Figure(
                f"{exchange}: tests per second / configured rate",
                share,
                f">= {TARGET_UTILISATION:.0%}",
                share >= TARGET_UTILISATION,
                detail=(
                    f"{rate:.2f} tests/s of {allowed[exchange]:g} allowed ({count} tests); "
                    f"peak {stats[exchange]['peak_rps']} requests in one second, "
                    f"{stats[exchange]['requests']} requests"
                ),
            )
        )
        figures.append(
            common.Figure(
                f"{exchange}: HTTP 429 answers from the simulator",
                stats[exchange]["rate_limited"],
                "0",
                stats[exchange]["rate_limited"] == 0,
            )
        )
    for peak in peaks:
        figures.append(
            common.Figure(
                f"{peak.exchange} {peak.endpoint}: most calls in any {peak.window_s:g} s",
                peak.most,
                f"<= {peak.allowed:g} (configured)",
                peak.ok,
            )
        )
    if samples is not None and samples.rss_kb:
        growth, base, end = samples.rss_growth(warm_up_s)
        figures.append(
            common.Figure(
                "worker RSS at the end / after the first scheduling period",
                growth,
                f"<= {TARGET_MEMORY_GROWTH:g}x",
                growth <= TARGET_MEMORY_GROWTH,
                unit="x",
                detail=f"{base / 1024:.0f} -> {end / 1024:.0f} MiB (all the worker's processes); "
                f"most {max(kb for _, kb in samples.rss_kb) / 1024:.0f} MiB",
            )
        )
    if samples is not None and samples.db_connections:
        most = max(samples.db_connections)
        figures.append(
            common.Figure(
                "worker's PostgreSQL connections, most at once",
                most,
                f"<= {concurrency + 2} (concurrency + 2)",
                most <= concurrency + 2,
            )
        )
    if samples is not None and samples.held_tasks:
        figures.append(
            common.Figure(
                "tasks the worker holds (ETA/countdown and prefetched), most at once",
                max(samples.held_tasks),
                "reported",
                True,
                detail=f"their messages in Redis: most {max(samples.redis_bytes) / 1024:.0f} KiB; "
                f"most waiting in the queue: {max(samples.queued_tasks)}",
            )
        )
    return figures


# --- Sampling ------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (a prefork pool)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for each in [pid, *common.child_pids(pid)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _proc_cpu(pid: int, *, reaped: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU time of the local PostgreSQL server: the postmaster, its live backends and the ones
    that exited (a backend per connection: reconnecting costs here). None if not local. Other
    databases' work on the same server counts too."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None
    return _proc_cpu(postmaster, reaped=True) + sum(
        _proc_cpu(child) for child in common.child_pids(postmaster)
    )


def redis_client():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queue_usage(client) -> tuple[int, int, int]:
    """(messages the worker holds, messages waiting in the queue, bytes of both in Redis)."""
    held = client.hlen("unacked")
    queued = client.llen("celery")
    size = 0
    for key in ("unacked", "unacked_index", "celery"):
        size += client.memory_usage(key) or 0
    return held, queued, size


def database_connections(database: str) -> int:
    """Connections to the benchmark database, not counting this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return cursor.fetchone()[0]


class Sampler(threading.Thread):
    def __init__(self, pid: int, database: str, every: float = 2.0) -> None:
        super().__init__(daemon=True, name="fleet-sampler")
        self.pid, self.database, self.every = pid, database, every
        self.samples = Samples()
        self.started = time.monotonic()
        self._halt = threading.Event()

    def run(self) -> None:
        from django.db import connection

        client = redis_client()
        try:
            while not self._halt.wait(self.every):
                at = time.monotonic() - self.started
                self.samples.rss_kb.append((at, common.tree_rss_kb(self.pid)))
                self.samples.db_connections.append(database_connections(self.database))
                held, queued, size = queue_usage(client)
                self.samples.held_tasks.append(held)
                self.samples.queued_tasks.append(queued)
                self.samples.redis_bytes.append(size)
        finally:
            connection.close()

    def stop(self) -> Samples:
        self._halt.set()
        self.join(timeout=30)
        return self.samples


# --- The run -------------------------------------------------------------------------------


def _progress(started: float, total: int) -> int:
    from connections.models import ConnectionCheck

    done = ConnectionCheck.objects.filter(state="finished", trigger="schedule").count()
    print(f"   {time.monotonic() - started:6.0f} s: {done}/{total} re-checked", flush=True)
    return done


def finished_times(exchanges: Sequence[str]) -> dict[str, list[float]]:
    from connections.models import ConnectionCheck

    times: dict[str, list[float]] = {e: [] for e in exchanges}
    rows = ConnectionCheck.objects.filter(state="finished", trigger="schedule").values_list(
        "connection__exchange", "finished_at"
    )
    for exchange, at in rows.iterator():
        times.setdefault(exchange, []).append(at.timestamp())
    return times


def eta_cost(counts: Sequence[int], *, pool: str, concurrency: int) -> int:
    """What ETA/countdown tasks cost while a worker holds them: for each count, publish that
    many `connection_check` tasks due in an hour to an idle worker, and read its RSS and the
    messages' bytes in Redis once it holds them all. They never run (the worker is stopped
    first, and their check ids do not exist)."""
    from backfuture.celery import app
    from connections.tasks import connection_check

    common.use_bench_database()
    client = redis_client()
    rows = []
    for count in counts:
        with common.celery_worker(
            exchange_urls="", loglevel="WARNING", pool=pool, concurrency=concurrency
        ) as worker:
            time.sleep(3)
            before_kb = common.tree_rss_kb(worker.pid)
            _, _, before_bytes = queue_usage(client)
            with app.producer_or_acquire() as producer:
                for index in range(count):
                    connection_check.apply_async(
                        args=[10**12 + index], countdown=3600, producer=producer
                    )
            deadline = time.monotonic() + 120
            held = 0
            while time.monotonic() < deadline:
                held, _, _ = queue_usage(client)
                if held >= count:
                    break
                time.sleep(1)
            time.sleep(3)
            after_kb = common.tree_rss_kb(worker.pid)
            _, _, after_bytes = queue_usage(client)
        client.delete("unacked", "unacked_index", "celery")
        rows.append((count, held, before_kb, after_kb, after_bytes - before_bytes))
    print(f"\n== ETA tasks held by one worker (--pool {pool} --concurrency {concurrency}) ==")
    for count, held, before_kb, after_kb, size in rows:
        grown = (after_kb - before_kb) * 1024
        print(
            f"   {count:6d} tasks due in 1 h: held {held}; worker RSS {before_kb / 1024:.0f} -> "
            f"{after_kb / 1024:.0f} MiB (+{grown / max(held, 1) / 1024:.1f} KiB per task); "
            f"Redis {size / 1024:.0f} KiB ({size / max(held, 1):.0f} bytes per task)"
        )
    return 0 if all(held >= count for count, held, *_ in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 connections")
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument(
        "--spread", default="150-400", help="lowest-highest ms per call ('' for none)"
    )
    parser.add_argument(
        "--scale",
        default=DEFAULT_SCALE,
        help="factor on every exchange's documented limits, ours and the simulator's, "
        "optionally with exchange=factor overrides (default %(default)s)",
    )
    parser.add_argument("--pool", default=None, help="worker pool (default: the setting)")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--nice",
        type=int,
        default=common.WORKER_NICE,
        help="the worker's nice value (default %(default)s, the Procfile's; 0: top priority)",
    )
    parser.add_argument(
        "--eta-cost",
        default="",
        help="instead of the fleet: what N ETA tasks cost the worker and Redis, e.g. 1000,10000",
    )
    args = parser.parse_args(argv)
    total = 2_000 if args.quick else args.connections

    common.setup_django()
    common.require_services()
    from django.conf import settings

    from backfuture.celery import app
    from connections.models import Connection

    if args.eta_cost:
        return eta_cost(
            [int(n) for n in args.eta_cost.split(",")],
            pool=args.pool or settings.CELERY_WORKER_POOL,
            concurrency=args.concurrency or settings.CELERY_WORKER_CONCURRENCY,
        )
    exchanges = fleet_exchanges()
    factors = parse_scale(args.scale, exchanges)
    # The worker and this process read the same factors (CONNECTION_RATE_LIMIT_SCALE).
    scale_setting = ",".join(f"{k}={v:g}" for k, v in factors.items())
    os.environ["CONNECTION_RATE_LIMIT_SCALE"] = scale_setting
    settings.CONNECTION_RATE_LIMIT_SCALE = factors
    pool = args.pool or settings.CELERY_WORKER_POOL
    concurrency = args.concurrency or settings.CELERY_WORKER_CONCURRENCY
    spread = parse_spread(args.spread)

    database = common.use_bench_database()
    period = settings.CONNECTION_RECHECK_SCHEDULE_PERIOD
    allowed = allowed_tests_per_second(factors)
    counts = share_out(total, allowed)
    with common.simulator(
        latency_ms=args.latency_ms, latency_spread_ms=spread, max_log=total * 8 + 1000
    ) as sim:
        agreement = align_simulator(sim, factors)
        keys = []
        for seed, exchange in enumerate(exchanges, start=1):
            keys += sim.seed_keys(counts[exchange], exchange, seed=seed)
        common.create_connections(
            keys, status="online", tested_ago_s=settings.CONNECTION_RECHECK_INTERVAL + 3600
        )
        print(
            f"\n{total} online spot connections, due: "
            + ", ".join(f"{e} {n}" for e, n in counts.items())
            + " (demo: no network, left out)"
        )
        print(
            f"simulator latency {args.latency_ms:g} ms per call"
            + (f" (each drawn from {spread[0]:g}-{spread[1]:g} ms)" if spread else "")
            + f"; limits scaled by {scale_setting}:"
        )
        for row in agreement:
            print(
                f"   {row.exchange} {row.endpoint}: ours {row.configured}; simulator {row.simulator}"
            )
        print(
            "allowed tests/s: "
            + ", ".join(f"{k} {v:g}" for k, v in allowed.items())
            + f" (sum {sum(allowed.values()):g}); worker --pool {pool} --concurrency "
            f"{concurrency}, nice {args.nice}, WORKER_DATABASE_REUSE={settings.WORKER_DATABASE_REUSE}, "
            f"scheduler every {period} s",
            flush=True,
        )
        sim.reset_stats()
        worker_env = {
            "CONNECTION_RATE_LIMIT_SCALE": scale_setting,
            "CELERY_WORKER_POOL": pool,
            "CELERY_WORKER_CONCURRENCY": str(concurrency),
        }
        with common.celery_worker(
            exchange_urls=sim.urls_setting(),
            loglevel="WARNING",
            pool=pool,
            concurrency=concurrency,
            env=worker_env,
            nice=args.nice,
        ) as worker:
            sampler = Sampler(worker.pid, database)
            sampler.start()
            cpu_before = cpu_seconds(worker.pid)
            postgres_before = postgres_cpu_seconds()
            started = time.monotonic()
            deadline = started + 3 * total / sum(allowed.values()) + 300
            next_schedule = started
            done = 0
            while done < total and time.monotonic() < deadline:
                if time.monotonic() >= next_schedule:
                    # What beat does every CONNECTION_RECHECK_SCHEDULE_PERIOD.
                    app.send_task("connections.tasks.connections_schedule_rechecks")
                    next_schedule += period
                time.sleep(5)
                done = _progress(started, total)
            seconds = time.monotonic() - started
            cpu_s = cpu_seconds(worker.pid) - cpu_before
            postgres_after = postgres_cpu_seconds()
            samples = sampler.stop()
        records = sim.requests
        stats = sim.stats()
    online = Connection.objects.filter(status="online").count()
    figures = fleet_figures(
        stats=stats,
        peaks=endpoint_peaks(records, factors),
        rates=tests_per_second(finished_times(exchanges)),
        allowed=allowed,
        checked=done,
        online=online,
        seconds=seconds,
        samples=samples,
        warm_up_s=period,
        concurrency=concurrency,
        cpu_s=cpu_s,
    )
    if postgres_before is not None and postgres_after is not None and done:
        print(
            f"PostgreSQL server CPU: {(postgres_after - postgres_before) * 1000 / done:.1f} ms "
            "per test (the whole server: other databases' work counts too)"
        )
    ok = common.print_figures("3. Fleet re-check", figures, common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
