"""Each benchmark's core in tiny mode (issue 11): the measuring and the ratio logic work.

Never a timing threshold here: the benchmarks themselves judge the figures
(`python -m benchmarks.<name>`, see docs/performance.md).
"""

from __future__ import annotations

import http.server
import threading

import pytest
from django.test import Client

from benchmarks import common, dashboard, fleet, latency, memory, outage
from connections import services, tasks
from tests.simulator import ExchangeSimulator, RequestRecord


@pytest.fixture
def sim(settings):
    with common.simulator(latency_ms=5) as simulator:
        settings.EXCHANGE_URLS = dict(simulator.urls)
        yield simulator


def _keys(sim: ExchangeSimulator, kinds):
    return [sim.new_key(exchange) for exchange, _ in kinds]


# --- 1. latency ----------------------------------------------------------------------------


def test_critical_path_is_the_slowest_call_of_the_one_round():
    # The server time goes out with the signed calls: one round, as long as its slowest call.
    assert latency.critical_path_s({"time": 100, "account": 120, "order_test": 90}) == 0.12
    assert latency.critical_path_s(
        {"time": 100, "futures_time": 130, "api_key": 100, "account_overview": 110}
    ) == pytest.approx(0.13)


@pytest.mark.django_db(transaction=True)
def test_latency_core_measures_a_real_test_end_to_end(sim, monkeypatch):
    # The task runs inline on commit (no broker in the test suite).
    monkeypatch.setattr(
        services,
        "_enqueue_check",
        lambda check_id, **options: tasks.connection_check.apply(args=[check_id]),
    )
    kinds = latency.KINDS
    pks = common.create_connections(
        _keys(sim, kinds), markets=[m for _, m in kinds], per_owner=len(kinds)
    )
    from connections.models import Connection

    client = Client()
    client.force_login(Connection.objects.get(pk=pks[0]).owner)
    publications = latency._Publications()
    samples = [latency.measure_one(client, pk, publications, timeout=20) for pk in pks]
    assert {(s.exchange, s.market) for s in samples} == set(kinds)
    for sample in samples:
        # One round of at least the simulated latency; the whole includes it.
        assert sample.critical_s >= 0.005
        assert sample.whole_s >= sample.critical_s and sample.ratio >= 1
    ratio, pickup = latency.figures(samples)
    assert ratio.value == pytest.approx(common.median([s.ratio for s in samples]))
    assert "1.3" in ratio.target and "50 ms" in pickup.target


def test_latency_figures_judge_against_the_targets():
    def sample(whole, pickup):
        return latency.Sample("mexc", "spot", whole, 0.2, pickup, 0.01, 0.21)

    good = latency.figures([sample(0.25, 0.01)] * 3)
    assert [f.passed for f in good] == [True, True]
    slow = latency.figures([sample(0.3, 0.08)] * 3)
    assert [f.passed for f in slow] == [False, False]


# --- 2. dashboard --------------------------------------------------------------------------

WRK_OUTPUT = """Running 4s test @ http://127.0.0.1:8000/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    22.09ms    3.10ms  41.22ms   74.19%
    Req/Sec   181.56     20.43   232.00     71.25%
  1452 requests in 4.01s, 64.11MB read
  Non-2xx or 3xx responses: 2
Requests/sec:    362.09
Transfer/sec:     15.99MB
"""


def test_wrk_output_is_parsed():
    load = dashboard.parse_wrk(WRK_OUTPUT)
    assert load.requests == 1452 and load.seconds == 4.01 and load.errors == 2
    assert load.rps == pytest.approx(362.09, rel=0.01)


def test_python_load_generator_counts_answers():
    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        totals = dashboard.compare(
            lambda u, s: dashboard.python_load(u, "sessionid=x", s, 2),
            {"dashboard": url, "trivial": url},
            0.1,
            2,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert totals["dashboard"].requests > 0 and totals["trivial"].errors == 0
    figure = dashboard.throughput_figure(totals, "python threads")
    assert figure.value == pytest.approx(totals["dashboard"].rps / totals["trivial"].rps)


def test_throughput_and_query_figures_judge_against_the_targets():
    fast = {"dashboard": dashboard.Load(400, 1, 0), "trivial": dashboard.Load(1000, 1, 0)}
    slow = {"dashboard": dashboard.Load(100, 1, 0), "trivial": dashboard.Load(1000, 1, 0)}
    assert dashboard.throughput_figure(fast, "wrk").passed
    assert not dashboard.throughput_figure(slow, "wrk").passed
    flat, grows = dashboard.query_figures({"home": [4, 4, 4], "x": [3, 4, 13]}, (1, 10, 500))
    assert flat.passed and not grows.passed


@pytest.mark.django_db
def test_query_count_core_counts_each_page():
    counts = dashboard.query_counts(sizes=(1, 3))
    assert set(counts) == set(dashboard.PAGES)
    assert all(len(per_size) == 2 and min(per_size) > 0 for per_size in counts.values())


# --- 3. fleet ------------------------------------------------------------------------------


def test_max_in_window_counts_as_the_exchanges_do():
    assert fleet.max_in_window([0.0, 0.5, 1.0, 1.5], 1.0) == 2  # (t-1, t]: 0.0 left at 1.0
    assert fleet.max_in_window([0.0, 0.1, 0.2, 5.0], 1.0) == 3
    assert fleet.max_in_window([], 1.0) == 0


def test_fleet_runs_over_every_exchange_of_the_registry_but_the_demo():
    from connections.exchanges import registry

    live = {spec.slug for spec in registry.all_specs(include_demo=False)}
    assert set(fleet.fleet_exchanges()) == live and "demo" not in live
    factors = fleet.parse_scale("0.1,mexc=2", sorted(live))
    assert factors["mexc"] == 2 and factors["kucoin"] == 0.1
    counts = fleet.share_out(1000, fleet.allowed_tests_per_second(factors))
    assert sum(counts.values()) == 1000
    assert min(counts.values()) >= fleet.MIN_CONNECTIONS
    # In proportion to the allowed rates: Bybit (30 tests/s) gets more than Coinbase (10).
    assert counts["bybit"] > counts["coinbase"]


def test_simulator_is_aligned_with_our_configured_limits():
    with common.simulator() as simulator:
        rows = fleet.align_simulator(simulator, {"mexc": 10, "kucoin": 0.5, "coinbase": 0.25})
        kucoin_public = simulator.rate_limit("kucoin", "public")
        mexc_spot = simulator.rate_limit("mexc", "spot")
        coinbase_public = simulator.rate_limit("coinbase", "public")
    by_endpoint = {(r.exchange, r.endpoint): r for r in rows}
    # A factor stretches or shrinks the window and keeps the count: MEXC's 500 per 10 s at
    # x10 is 500 per 1 s; Coinbase's 10 per second at 0.25 is 10 per 4 s (never 2.5 per 1 s).
    assert (mexc_spot.limit, mexc_spot.window_s) == (500, 1)
    assert (coinbase_public.limit, coinbase_public.window_s) == (10, 4)
    # We allow 666 KuCoin timestamp calls per 60 s (2000 // 3 over 30 s at 0.5, weight 3);
    # the simulator charges its own timestamp weight per call, so its pool holds that many.
    route = simulator._apis["kucoin"].routes[("GET", "/api/v1/timestamp")]
    assert kucoin_public.limit >= 666 * route.weight and kucoin_public.window_s == 60
    assert "per key only" in by_endpoint[("mexc", "GET /api/v3/account")].simulator
    assert by_endpoint[("coinbase", "GET /api/v3/brokerage/time")].configured == "10 calls / 4 s"


def test_simulator_latency_spread_keeps_its_mean():
    import statistics

    with common.simulator(latency_ms=250, latency_spread_ms=(150, 400)) as simulator:
        draws = [simulator._draw_latency() for _ in range(4000)]
    assert min(draws) >= 150 and max(draws) <= 400
    assert statistics.mean(draws) == pytest.approx(250, abs=5)


def _records(exchange, method, path, times):
    return [RequestRecord(exchange, method, path, 200, t) for t in times]


def test_fleet_figures_from_the_simulators_log():
    records = _records("mexc", "GET", "/api/v3/time", [i * 0.1 for i in range(11)])
    records += _records("mexc", "GET", "/api/v3/account", [i * 0.1 for i in range(11)])
    records += _records("kucoin", "GET", "/api/v1/timestamp", [i * 0.2 for i in range(6)])
    # Bybit's limit is host-wide: every call to its live host counts, the demo host's not.
    records += _records("bybit", "GET", "/v5/account/info", [i * 0.001 for i in range(700)])
    records += _records("bybit_demo", "GET", "/v5/account/info", [0.5] * 50)
    rates = fleet.tests_per_second(
        {"mexc": [i * 0.1 for i in range(11)], "kucoin": [i * 0.2 for i in range(6)]}
    )
    assert rates["mexc"] == (11, pytest.approx(10.0)) and rates["kucoin"][1] == pytest.approx(5)
    factors = {"mexc": 1.0, "kucoin": 1.0, "bybit": 1.0}
    peaks = {
        (p.exchange, p.endpoint, p.window_s): p for p in fleet.endpoint_peaks(records, factors)
    }
    # Ten account calls within one second against MEXC's configured 2 per second: caught.
    assert not peaks[("mexc", "GET /api/v3/account", 1)].ok
    assert peaks[("kucoin", "GET /api/v1/timestamp", 30)].ok
    bybit = peaks[("bybit", "api.bybit.com (all four calls of a test)", 5)]
    assert bybit.most == 700 and not bybit.ok  # 600 calls per 5 s
    stats = {e: {"peak_rps": 10, "requests": 20, "rate_limited": 0} for e in ("mexc", "kucoin")}
    samples = fleet.Samples(
        rss_kb=[(1.0, 100_000), (70.0, 120_000), (200.0, 150_000)],
        db_connections=[3, 40],
        held_tasks=[10, 20],
        queued_tasks=[0, 5],
        redis_bytes=[1000, 2000],
    )
    figures = fleet.fleet_figures(
        stats=stats,
        peaks=list(peaks.values()),
        rates=rates,
        allowed={"mexc": 12.0, "kucoin": 10.0},
        checked=17,
        online=17,
        seconds=2.0,
        samples=samples,
        warm_up_s=60,
        concurrency=32,
        cpu_s=0.5,
    )
    verdicts = {f.name: f.passed for f in figures}
    assert verdicts["mexc: tests per second / configured rate"]  # 10 of 12
    assert not verdicts["kucoin: tests per second / configured rate"]  # 5 of 10
    assert not verdicts["mexc GET /api/v3/account: most calls in any 1 s"]
    # 150 MB at the end against 120 MB after the first period: 1.25x, not flat.
    assert not verdicts["worker RSS at the end / after the first scheduling period"]
    assert not verdicts["worker's PostgreSQL connections, most at once"]  # 40 > 34


@pytest.mark.django_db(transaction=True)
def test_fleet_sampler_reads_memory_connections_and_the_queue(settings):
    """What the fleet benchmark samples while the worker runs: this process stands in."""
    import os
    import time

    from django.db import connection

    if "postgresql" not in connection.vendor + settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("the sampler reads PostgreSQL's pg_stat_activity")
    sampler = fleet.Sampler(os.getpid(), connection.settings_dict["NAME"], every=0.05)
    sampler.start()
    time.sleep(0.5)
    samples = sampler.stop()
    assert samples.rss_kb and all(kb > 0 for _, kb in samples.rss_kb)
    assert samples.db_connections and min(samples.db_connections) >= 0
    assert len(samples.held_tasks) == len(samples.redis_bytes) == len(samples.queued_tasks)
    assert fleet.cpu_seconds(os.getpid()) > 0
    assert fleet.postgres_cpu_seconds() is None or fleet.postgres_cpu_seconds() > 0


@pytest.mark.django_db
def test_fleet_core_keeps_a_tiny_fleet_within_scaled_limits(sim, settings):
    """Re-checks through the real task, with the limits scaled down so the throttle binds."""
    factors = {"mexc": 1.0, "kucoin": 0.06}  # KuCoin: 4 tests/s (2000 per 500 s, weight 3)
    settings.CONNECTION_RATE_LIMIT_SCALE = factors
    fleet.align_simulator(sim, factors)
    pks = common.create_connections(
        _keys(sim, [("kucoin", "spot")] * 8), status="online", tested_ago_s=7200
    )
    sim.reset_stats()
    memory.run_in_process(pks, on_checkpoint=lambda done: None)
    stats = sim.stats()
    assert stats["kucoin"]["rate_limited"] == 0
    assert all(p.ok for p in fleet.endpoint_peaks(sim.requests, factors))
    from connections.models import Connection

    assert Connection.objects.filter(pk__in=pks, status="online").count() == len(pks)


# --- 4. memory -----------------------------------------------------------------------------


def test_rss_is_read_from_proc():
    import os

    assert common.rss_kb() > 0
    assert common.tree_rss_kb(os.getpid()) >= common.rss_kb()
    assert common.rss_kb(2**22 + 12345) == 0  # no such process


def test_memory_figure_and_checkpoints():
    assert memory.checkpoints(100) == [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    steady = [memory.Sample(1, 100_000, 200_000), memory.Sample(10_000, 110_000, 220_000)]
    leaking = [memory.Sample(1, 100_000, 200_000), memory.Sample(10_000, 250_000, 350_000)]
    assert memory.memory_figure(steady).passed
    assert not memory.memory_figure(leaking).passed


@pytest.mark.django_db
def test_memory_core_runs_the_task_in_a_loop(sim):
    pks = common.create_connections(_keys(sim, memory.KINDS), markets=[m for _, m in memory.KINDS])
    seen = []
    memory.run_in_process(pks, on_checkpoint=seen.append)
    assert seen == memory.checkpoints(len(pks))
    from connections.models import ConnectionCheck

    assert ConnectionCheck.objects.filter(state="finished", verdict="online").count() == len(pks)


def test_figure_line_shows_value_and_target():
    line = common.Figure("x", 1.25, "<= 1.3", True, unit="x").line()
    assert "PASS" in line and "1.25x" in line and "target <= 1.3" in line


# --- 5. outage -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_outage_core_runs_a_small_fleet_through_an_outage_with_and_without_handling(sim, settings):
    settings.CONNECTION_RATE_LIMIT_SCALE = {"mexc": 10000.0}
    settings.CONNECTION_RECHECK_MAX_RATE = 100000.0
    # 12 connections: one re-check due every 150 s, so two fail early in the outage.
    settings.EXCHANGE_INCIDENT_MIN_CONNECTIONS = 2
    handled = outage.run(sim, connections=12, outage_minutes=4, handling=True)
    from connections.models import Connection, ExchangeIncident
    from strategies.models import Strategy

    assert handled.incidents == 1 and handled.emails == 0 and handled.paused == 0
    assert handled.back_online_s is not None
    Strategy.objects.all().delete()
    Connection.objects.all().delete()
    ExchangeIncident.objects.all().delete()
    unhandled = outage.run(sim, connections=12, outage_minutes=4, handling=False)
    assert unhandled.incidents == 0
    assert unhandled.emails == unhandled.paused > 0 and unhandled.resumed == unhandled.paused
    assert unhandled.checks_while_down > 0 and handled.checks_while_down > 0
    judged = outage.figures(handled, unhandled, outage_s=240, grace_s=1800, users=2)
    assert [f.passed for f in judged][:2] == [True, True]


def test_outage_figures_judge_against_the_targets():
    good = outage.Outcome(True, 0, 0, 0, 20, 1000, 120.0, 1, 1.0)
    bad = outage.Outcome(True, 3, 3, 3, 500, 1000, None, 0, 1.0)
    without = outage.Outcome(False, 300, 300, 300, 1000, 2000, 600.0, 0, 1.0)
    short = {"outage_s": 600, "grace_s": 1800, "users": 100}
    assert all(f.passed for f in outage.figures(good, without, **short))
    assert not any(f.passed for f in outage.figures(bad, without, **short))
    long = {"outage_s": 2400, "grace_s": 1800, "users": 100}
    escalated = outage.Outcome(True, 100, 1000, 1000, 100, 1000, 60.0, 1, 1.0)
    assert all(f.passed for f in outage.figures(escalated, without, **long))
    too_many = outage.Outcome(True, 1000, 1000, 900, 100, 1000, 60.0, 1, 1.0)
    assert [f.passed for f in outage.figures(too_many, without, **long)][:2] == [False, False]
