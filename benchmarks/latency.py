"""Issue 11.1 — connection-test latency, from the POST of "Test" to the final status in the
database, against the exchange's own time.

    python -m benchmarks.latency [--runs 24] [--latency-ms 100]

The real path: the test view through Django's test client (its on-commit enqueue goes to
Redis), a `celery worker` process as the Procfile starts it, PostgreSQL, and the exchange
simulator answering every call after `--latency-ms`. The exchange's own time of a test is its
critical path: the slowest call, as the client measured it, of its one round (the public
server time and every signed call at once; MEXC and KuCoin have no dependent round, and the
simulator's clock is the worker's, so no round is signed again). Queue pickup is the time
from the task's publication (on commit) to the worker marking the check started.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import common

TARGET_RATIO = 1.3
TARGET_PICKUP_MS = 50.0


@dataclass
class Sample:
    exchange: str
    market: str
    whole_s: float  # POST sent -> final status readable in the database
    critical_s: float  # the exchange's own time: the slowest call of the test's one round
    pickup_s: float  # task published -> check started by the worker
    request_s: float  # POST sent -> task published (the view's transaction)
    run_s: float  # check started -> result written, exchange time included

    @property
    def ratio(self) -> float:
        return self.whole_s / self.critical_s


def critical_path_s(latencies_ms: dict[str, int]) -> float:
    """One round (the server time and every signed call at once): its slowest call."""
    return max(latencies_ms.values(), default=0) / 1000


class _Publications:
    """When each connection_check task left this process (Celery's after_task_publish)."""

    def __init__(self) -> None:
        from celery.signals import after_task_publish

        self.times: dict[int, float] = {}
        self.lock = threading.Lock()
        after_task_publish.connect(self.on_publish, weak=False)

    def on_publish(self, sender=None, body=None, headers=None, **kwargs) -> None:
        if sender != "connections.tasks.connection_check":
            return
        args = body[0] if isinstance(body, list | tuple) and body else []
        if args:
            with self.lock:
                self.times[int(args[0])] = time.time()


def measure_one(client, connection_pk: int, publications: _Publications, timeout: float = 60):
    from django.urls import reverse

    from connections.models import Connection, ConnectionCheck

    started = time.time()
    response = client.post(reverse("connections:test", args=[connection_pk]))
    if response.status_code != 302:
        raise RuntimeError(f"POST test answered {response.status_code}")
    deadline = time.monotonic() + timeout
    while True:
        status = Connection.objects.filter(pk=connection_pk).values_list("status", flat=True)[0]
        if status in ("online", "failed"):
            seen = time.time()
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"connection {connection_pk} still {status} after {timeout} s")
        time.sleep(0.002)
    check = ConnectionCheck.objects.filter(connection_id=connection_pk).latest("created_at")
    connection = Connection.objects.only("exchange", "market", "status").get(pk=connection_pk)
    if connection.status != "online":
        raise RuntimeError(f"test of {connection_pk} failed: {check.message}")
    # Eager mode (the smoke test) publishes nothing: the task started inside the request.
    published = publications.times.get(check.pk, started)
    return Sample(
        exchange=connection.exchange,
        market=connection.market,
        whole_s=seen - started,
        critical_s=critical_path_s(check.report["latencies_ms"]),
        pickup_s=check.started_at.timestamp() - published,
        request_s=published - started,
        run_s=(check.finished_at - check.started_at).total_seconds(),
    )


def figures(samples: Sequence[Sample]) -> list[common.Figure]:
    ratios = [s.ratio for s in samples]
    pickups = [s.pickup_s * 1000 for s in samples]
    overhead = [(s.whole_s - s.critical_s) * 1000 for s in samples]
    ratio = common.median(ratios)
    pickup = common.median(pickups)
    per_kind = {}
    for sample in samples:
        per_kind.setdefault(f"{sample.exchange}/{sample.market}", []).append(sample.ratio)
    kinds = ", ".join(f"{k} {common.median(v):.2f}" for k, v in sorted(per_kind.items()))
    return [
        common.Figure(
            "whole test / critical path (median)",
            ratio,
            f"<= {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
            unit="x",
            detail=(
                f"p90 {common.quantile(ratios, 0.9):.2f}x, max {max(ratios):.2f}x; "
                f"critical path median {common.median([s.critical_s for s in samples]) * 1000:.0f}"
                f" ms, whole test {common.median([s.whole_s for s in samples]) * 1000:.0f} ms, "
                f"our overhead {common.median(overhead):.0f} ms; by kind: {kinds}"
            ),
        ),
        common.Figure(
            "queue pickup (median)",
            pickup,
            f"< {TARGET_PICKUP_MS:.0f} ms",
            pickup < TARGET_PICKUP_MS,
            unit=" ms",
            detail=(
                f"p90 {common.quantile(pickups, 0.9):.1f} ms, max {max(pickups):.1f} ms; "
                f"view until publish {common.median([s.request_s for s in samples]) * 1000:.1f} ms,"
                f" worker run incl. exchange {common.median([s.run_s for s in samples]) * 1000:.0f}"
                " ms"
            ),
        ),
    ]


KINDS = (("mexc", "spot"), ("kucoin", "spot"), ("mexc", "futures"), ("kucoin", "futures"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__)
    parser.add_argument("--runs", type=int, default=24, help="timed tests (default 24)")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.6,
        help="seconds between tests, so MEXC's shared budget (2 tests/s) never delays one",
    )
    args = parser.parse_args(argv)

    common.setup_django()
    common.require_services()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    common.use_bench_database()
    publications = _Publications()
    with common.simulator(latency_ms=args.latency_ms) as sim:
        total = args.runs + args.warmup
        kinds = list(itertools.islice(itertools.cycle(KINDS), total))
        keys = [sim.new_key(exchange) for exchange, _ in kinds]
        # One user owning them all (the benchmark logs in once); markets in KINDS' order.
        pks = common.create_connections(keys, markets=[m for _, m in KINDS], per_owner=total)
        owner = get_user_model().objects.get(connections__pk=pks[0])
        client = Client()
        client.force_login(owner)
        with common.celery_worker(exchange_urls=sim.urls_setting()):
            samples = []
            for index, pk in enumerate(pks):
                sample = measure_one(client, pk, publications)
                if index >= args.warmup:
                    samples.append(sample)
                time.sleep(args.pause)
        stats = sim.stats()
    rate_limited = sum(stats[e]["rate_limited"] for e in stats)
    print(
        f"\n{len(samples)} tests (after {args.warmup} warm-up), simulator latency "
        f"{args.latency_ms:g} ms per call, worker concurrency {settings.CELERY_WORKER_CONCURRENCY},"
        f" {rate_limited} answers 429"
    )
    ok = common.print_figures("1. Connection-test latency", figures(samples), common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
