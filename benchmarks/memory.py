"""Issue 11.4 — memory: a worker's resident memory after 10,000 connection tests against its
size after the first.

    python -m benchmarks.memory [--checks 10000]

A `celery worker` with one pool process (so every test runs in the same process) tests
`--checks` connections, half MEXC and half KuCoin, spot and futures, against the simulator
(no latency, rate limits off: this is about memory, not pacing). Resident set sizes come
from /proc (VmRSS) of the pool process and of the whole worker, after the first test and
every tenth of the way.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks import common

TARGET_GROWTH = 1.5
KINDS = (("mexc", "spot"), ("kucoin", "spot"), ("mexc", "futures"), ("kucoin", "futures"))


@dataclass
class Sample:
    checks: int
    rss_kb: int  # the process that runs the tests (the pool process, or this one)
    total_kb: int  # the whole worker (parent and pool)


def memory_figure(samples: Sequence[Sample]) -> common.Figure:
    first, last = samples[0], samples[-1]
    growth = last.total_kb / first.total_kb
    curve = ", ".join(f"{s.checks}: {s.total_kb / 1024:.0f}" for s in samples)
    return common.Figure(
        f"worker RSS after {last.checks} tests / after the first",
        growth,
        f"<= {TARGET_GROWTH}",
        growth <= TARGET_GROWTH,
        unit="x",
        detail=(
            f"{first.total_kb / 1024:.1f} MiB -> {last.total_kb / 1024:.1f} MiB; the process "
            f"running the tests {first.rss_kb / 1024:.1f} -> {last.rss_kb / 1024:.1f} MiB "
            f"({last.rss_kb / first.rss_kb:.2f}x); MiB by tests done: {curve}"
        ),
    )


def checkpoints(total: int, parts: int = 10) -> list[int]:
    return sorted({1, *(max(1, total * i // parts) for i in range(1, parts + 1))})


def run_in_process(pks: Sequence[int], on_checkpoint: Callable[[int], None]) -> None:
    """The task's body for each connection in turn, as a pool process would run it."""
    from connections import services, tasks
    from connections.models import Connection

    marks = set(checkpoints(len(pks)))
    for done, pk in enumerate(pks, start=1):
        check = services.connection_request_check(
            connection=Connection(pk=pk), trigger="schedule", enqueue=False
        )
        tasks.connection_check.apply(args=[check.pk])
        if done in marks:
            on_checkpoint(done)


def _seed(sim, total: int) -> list[int]:
    keys = []
    for index in range(total):
        exchange, _ = KINDS[index % len(KINDS)]
        keys.append(sim.new_key(exchange))
    return common.create_connections(
        keys, markets=[m for _, m in KINDS], status="online", tested_ago_s=7200
    )


def _with_worker(total: int, sim) -> list[Sample]:
    from connections import services
    from connections.models import Connection, ConnectionCheck

    pks = _seed(sim, total)
    samples: list[Sample] = []
    marks = checkpoints(total)
    with common.celery_worker(
        exchange_urls=sim.urls_setting(), concurrency=1, loglevel="WARNING"
    ) as worker:
        pool = common.child_pids(worker.pid)
        pool_pid = pool[0] if pool else worker.pid
        feeder_done = 0
        deadline = time.monotonic() + 60 + total * 0.2
        while marks and time.monotonic() < deadline:
            # Keep a few hundred tests queued ahead of the worker.
            finished = ConnectionCheck.objects.filter(state="finished").count()
            while feeder_done < total and feeder_done - finished < 300:
                services.connection_request_check(
                    connection=Connection(pk=pks[feeder_done]), trigger="schedule"
                )
                feeder_done += 1
            while marks and finished >= marks[0]:
                samples.append(
                    Sample(marks.pop(0), common.rss_kb(pool_pid), common.tree_rss_kb(worker.pid))
                )
            time.sleep(0.05 if not samples else 0.5)
    if marks:
        raise RuntimeError(f"only {samples[-1].checks if samples else 0} of {total} tests ran")
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--checks", type=int, default=10_000)
    args = parser.parse_args(argv)
    # Pacing is the fleet benchmark's subject; here the throttle must not slow the loop.
    os.environ["CONNECTION_RATE_LIMIT_SCALE"] = "mexc=10000,kucoin=10000"
    os.environ["CONNECTION_RECHECK_MAX_RATE"] = "100000"

    common.setup_django()
    common.require_services()
    common.use_bench_database()
    with common.simulator(rate_limits=False, max_log=1000) as sim:
        samples = _with_worker(args.checks, sim)
    print(f"\n{args.checks} tests by one worker process (MEXC/KuCoin, spot/futures)")
    ok = common.print_figures("4. Worker memory", [memory_figure(samples)], common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
