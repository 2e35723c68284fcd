"""Issue 11.3 — fleet re-check: one worker re-checks every online connection at each
exchange's allowed request rate, never above it.

    python -m benchmarks.fleet [--connections 10000 | --quick] [--latency-ms 50]

`--connections` online spot connections, half on MEXC and half on KuCoin, are all due for a
re-check. As beat would, the benchmark sends the `connections_schedule_rechecks` task every
scheduling period to one `celery worker` (concurrency: the CELERY_WORKER_CONCURRENCY
setting), which tests them against the simulator (`--latency-ms` per call) until every
connection has been re-checked once.

So that 10,000 checks take minutes, not hours, our configured limits and the simulator's are
multiplied by the same per-exchange factor (`--scale`, printed): MEXC's fleet-wide limit is
2 tests/s (its account endpoint's "2 times/s", shared by our IP), KuCoin's 66.7 (its public
timestamp pool). The figures:

- the simulator's 429 answers (it enforces its model of the documented limits): none;
- the most calls to each configured IP-scoped endpoint within any window of the limit's
  length, from the simulator's request log: never above the configured limit;
- tests per second per exchange (from the simulator's log, first to last test) against
  the configured rate: at least 80 %;
- connections checked per second and the peak request rate per exchange (any 1 s).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import common

TARGET_UTILISATION = 0.8
DEFAULT_SCALE = {"mexc": 10.0, "kucoin": 0.9}
EXCHANGES = ("mexc", "kucoin")
SPOT_HOST = {"mexc": "mexc", "kucoin": "kucoin"}  # the simulator's host role of spot calls


@dataclass
class Agreement:
    exchange: str
    endpoint: str
    configured: str  # calls per window we allow ourselves
    simulator: str  # what the simulator enforces for the same calls


def _route(sim: Any, exchange: str, endpoint: str):
    method, path = endpoint.split(" ", 1)
    return sim._apis[SPOT_HOST[exchange]].routes.get((method, path))


def align_simulator(sim: Any, factors: Mapping[str, float]) -> list[Agreement]:
    """Scale the simulator's pools by the factors, then make it enforce our configured limit
    wherever the two count the same calls differently (weights); report each limit."""
    from connections.exchanges import registry

    rows = []
    for exchange in EXCHANGES:
        factor = factors.get(exchange, 1.0)
        sim.set_rate_limit(exchange, scale=factor)
        for limit in registry.get(exchange).rate_limits:
            if limit.scope != "ip":
                continue
            calls = limit.limit // limit.weight * factor
            configured = f"{calls:g} calls / {limit.per_seconds:g} s"
            route = _route(sim, exchange, limit.endpoint)
            if route is None:
                simulator = "not called by a spot test"
            elif route.signed:
                simulator = (
                    "per key only (the simulator keys signed calls by account): "
                    "checked from its request log"
                )
            else:
                pool = sim.rate_limit(exchange, route.pool)
                wanted = math.floor(calls * route.weight)
                if pool.limit != wanted or pool.window_s != limit.per_seconds:
                    documented = pool.default_limit * factor
                    sim.set_rate_limit(
                        exchange, route.pool, limit=wanted, window_s=limit.per_seconds
                    )
                    note = (
                        f" (its documented pool: {documented:g} per {pool.default_window_s:g} s; "
                        f"it charges weight {route.weight} per call, we configure "
                        f"{limit.weight})"
                    )
                else:
                    note = ""
                simulator = (
                    f"{wanted // route.weight:g} calls / {limit.per_seconds:g} s in pool "
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


def endpoint_peaks(records: Sequence[Any], factors: Mapping[str, float]) -> list[Peak]:
    """For each configured IP-scoped limit: the busiest window in the simulator's log."""
    from connections.exchanges import registry

    peaks = []
    for exchange in EXCHANGES:
        for limit in registry.get(exchange).rate_limits:
            if limit.scope != "ip":
                continue
            method, path = limit.endpoint.split(" ", 1)
            times = [
                r.timestamp
                for r in records
                if r.exchange.startswith(exchange) and r.method == method and r.path == path
            ]
            allowed = limit.limit / limit.weight * factors.get(exchange, 1.0)
            peaks.append(
                Peak(
                    exchange,
                    limit.endpoint,
                    limit.per_seconds,
                    max_in_window(times, limit.per_seconds),
                    allowed,
                )
            )
    return peaks


# The call every spot test makes first, once (round 1: server time).
FIRST_CALL = {"mexc": ("GET", "/api/v3/time"), "kucoin": ("GET", "/api/v1/timestamp")}


def tests_per_second(records: Sequence[Any]) -> dict[str, tuple[int, float]]:
    """Per exchange: tests seen, and their rate from the first test to the last."""
    rates = {}
    for exchange, (method, path) in FIRST_CALL.items():
        times = sorted(
            r.timestamp
            for r in records
            if r.exchange == SPOT_HOST[exchange] and r.method == method and r.path == path
        )
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        rates[exchange] = (len(times), (len(times) - 1) / span if span else 0.0)
    return rates


def allowed_tests_per_second(factors: Mapping[str, float]) -> dict[str, float]:
    """What our configured IP-scoped limits allow, scaled (before the throttle's headroom)."""
    from connections.exchanges import registry

    return {
        exchange: registry.get(exchange).tests_per_second(scope="ip") * factors.get(exchange, 1.0)
        for exchange in EXCHANGES
    }


def fleet_figures(
    *,
    stats: Mapping[str, Any],
    peaks: Sequence[Peak],
    rates: Mapping[str, tuple[int, float]],
    allowed: Mapping[str, float],
    checked: int,
    online: int,
    seconds: float,
) -> list[common.Figure]:
    figures = [
        common.Figure(
            "connections re-checked per second (all exchanges)",
            checked / seconds if seconds else 0.0,
            "reported",
            online == checked,
            unit="/s",
            detail=f"{checked} re-checked in {seconds:.0f} s, {online} online afterwards",
        )
    ]
    for exchange in EXCHANGES:
        count, rate = rates[exchange]
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
    return figures


# --- The run -------------------------------------------------------------------------------


def _progress(started: float, total: int) -> int:
    from connections.models import ConnectionCheck

    done = ConnectionCheck.objects.filter(state="finished", trigger="schedule").count()
    print(f"   {time.monotonic() - started:6.0f} s: {done}/{total} re-checked", flush=True)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__)
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 connections")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--scale",
        default=",".join(f"{k}={v:g}" for k, v in DEFAULT_SCALE.items()),
        help="per-exchange factor on our configured limits and the simulator's "
        "(default %(default)s)",
    )
    parser.add_argument("--mexc-share", type=float, default=0.5, help="of the connections")
    args = parser.parse_args(argv)
    total = 2_000 if args.quick else args.connections
    factors = {k: float(v) for k, v in (item.split("=") for item in args.scale.split(","))}
    # The worker and this process read the same factors (CONNECTION_RATE_LIMIT_SCALE).
    os.environ["CONNECTION_RATE_LIMIT_SCALE"] = args.scale

    common.setup_django()
    common.require_services()
    from django.conf import settings

    from backfuture.celery import app
    from connections.models import Connection

    common.use_bench_database()
    concurrency = settings.CELERY_WORKER_CONCURRENCY
    period = settings.CONNECTION_RECHECK_SCHEDULE_PERIOD
    with common.simulator(latency_ms=args.latency_ms, max_log=total * 4 + 1000) as sim:
        agreement = align_simulator(sim, factors)
        n_mexc = round(total * args.mexc_share)
        keys = sim.seed_keys(n_mexc, "mexc", seed=1) + sim.seed_keys(
            total - n_mexc, "kucoin", seed=2
        )
        common.create_connections(
            keys, status="online", tested_ago_s=settings.CONNECTION_RECHECK_INTERVAL + 3600
        )
        allowed = allowed_tests_per_second(factors)
        print(f"\n{total} online spot connections ({n_mexc} MEXC, {total - n_mexc} KuCoin), due")
        print(f"simulator latency {args.latency_ms:g} ms; limits scaled by {args.scale}:")
        for row in agreement:
            print(
                f"   {row.exchange} {row.endpoint}: ours {row.configured}; simulator {row.simulator}"
            )
        print(
            "allowed tests/s: "
            + ", ".join(f"{k} {v:g}" for k, v in allowed.items())
            + f"; worker concurrency {concurrency}, scheduler every {period} s",
            flush=True,
        )
        # A test is mostly waiting: two round trips plus ~30 ms of our own per test.
        needed = math.ceil(sum(allowed.values()) * 0.9 * (2 * args.latency_ms / 1000 + 0.03) * 1.3)
        if concurrency < needed:
            print(
                f"   note: about {needed} tests run at once at these rates; with "
                f"CELERY_WORKER_CONCURRENCY={concurrency} the worker cannot keep up"
            )
        sim.reset_stats()
        with common.celery_worker(exchange_urls=sim.urls_setting(), loglevel="WARNING") as worker:
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
            worker_rss = common.tree_rss_kb(worker.pid)
        records = sim.requests
        stats = sim.stats()
    online = Connection.objects.filter(status="online").count()
    figures = fleet_figures(
        stats=stats,
        peaks=endpoint_peaks(records, factors),
        rates=tests_per_second(records),
        allowed=allowed,
        checked=done,
        online=online,
        seconds=seconds,
    )
    print(f"worker RSS (all processes) at the end: {worker_rss / 1024:.0f} MiB")
    ok = common.print_figures("3. Fleet re-check", figures, common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
