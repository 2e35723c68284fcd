"""The priority benchmark's core in tiny mode (issue 20): the spread of latencies, the fleet
and the person's connections, the reset between phases and the ratio logic. No timing
thresholds: `python -m benchmarks.priority` judges the figures (docs/performance.md, 6.)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from benchmarks import common, latency, priority
from connections import services, tasks
from connections.models import Connection, ConnectionCheck
from tests.simulator import RequestRecord


def test_spread_simulator_draws_each_calls_latency_between_the_bounds():
    sim = priority.spread_simulator(latency_ms=250, low_ms=150, high_ms=400)
    draws = [sim.latency_ms for _ in range(2000)]
    assert 150 <= min(draws) < 200 and 350 < max(draws) <= 400
    assert 240 < common.median(draws) < 290  # the mode is 250, the tail longer above
    sim.latency_ms = 0  # what ExchangeSimulator.reset() does: no latency at all
    assert sim.latency_ms == 0


@pytest.mark.django_db(transaction=True)
def test_people_test_every_live_exchange_end_to_end_and_the_fleet_resets(monkeypatch, settings):
    # The task runs inline on commit (no broker in the test suite).
    monkeypatch.setattr(
        services,
        "_enqueue_check",
        lambda check_id, **options: tasks.connection_check.apply(args=[check_id]),
    )
    exchanges = priority.live_exchanges()
    assert "demo" not in exchanges and {"mexc", "kucoin", "binance"} <= set(exchanges)
    with priority.spread_simulator(latency_ms=5, low_ms=2, high_ms=8) as sim:
        settings.EXCHANGE_URLS = dict(sim.urls)
        priority.make_fleet(sim, exchanges, 2 * len(exchanges) + 1)
        owner, pks = priority.make_people(sim, exchanges, len(exchanges))
        client = Client()
        client.force_login(owner)
        samples = priority.person_tests(client, pks, latency._Publications(), pause=0)
    # One test per exchange, each online (measure_one raises otherwise), through the view.
    assert sorted(s.exchange for s in samples) == sorted(exchanges)
    fleet = Connection.objects.filter(owner__email__startswith="fleet")
    assert fleet.count() == 2 * len(exchanges) + 1
    assert set(fleet.values_list("status", flat=True)) == {"online"}
    assert {row["exchange"] for row in fleet.values("exchange")} == set(exchanges)

    # A phase leaves re-checks in flight; the next starts from a due fleet again.
    first = fleet.first()
    check = services.connection_request_check(connection=first, trigger="schedule", enqueue=False)
    Connection.objects.filter(pk=first.pk).update(last_tested_at=timezone.now())
    priority.reset_fleet_rows()
    first.refresh_from_db()
    assert first.status == "online" and first.current_check_id is None
    assert first.last_tested_at < timezone.now() - timedelta(
        seconds=settings.CONNECTION_RECHECK_INTERVAL
    )
    assert not ConnectionCheck.objects.filter(pk=check.pk).exists()
    # The person's connections are not the fleet's.
    assert ConnectionCheck.objects.filter(connection__owner=owner).count() == len(exchanges)


def _sample(whole_s: float, pickup_s: float = 0.01) -> latency.Sample:
    return latency.Sample("mexc", "spot", whole_s, 0.5, pickup_s, 0.01, 0.5)


def test_phase_figures_judge_the_ratio_and_the_429s():
    phase = priority.Phase(
        workers=2,
        idle=[_sample(0.7), _sample(0.8), _sample(0.9)],
        busy=[_sample(0.9), _sample(1.0), _sample(1.1)],
        rate_limited=0,
        rechecks_done=600,
        busy_seconds=60,
        allowed_rate=20,
    )
    ratio, limited, rate, windows = priority.phase_figures(phase)
    assert ratio.value == pytest.approx(1.0 / 0.8) and ratio.passed
    assert "2 workers" in ratio.name and "1.3" in ratio.target
    assert limited.passed and rate.value == pytest.approx(0.5) and windows.passed
    phase.busy = [_sample(1.2), _sample(1.3)]
    phase.rate_limited = 1
    # Three MEXC account calls within one second: its "2 times/s" from our IP.
    phase.peaks = priority.ip_limit_peaks(
        [RequestRecord("mexc", "GET", "/api/v3/account", 200, t) for t in (0.0, 0.4, 0.8)]
        + [RequestRecord("kucoin", "GET", "/api/v1/timestamp", 200, 0.1)],
        ["mexc", "kucoin"],
        scale=1.0,
    )
    ratio, limited, _, windows = priority.phase_figures(phase)
    assert not ratio.passed and not limited.passed
    assert not windows.passed and windows.value == 1
    assert "OVER: mexc GET /api/v3/account 3 in 1 s" in windows.detail
    # Limits of endpoints nobody called are not judged; KuCoin's one call is within its own.
    assert {(p.exchange, p.endpoint) for p in phase.peaks} == {
        ("mexc", "GET /api/v3/account"),
        ("kucoin", "GET /api/v1/timestamp"),
    }


def test_the_simulator_answers_from_a_process_of_its_own():
    """What `python -m benchmarks.priority` runs by default: the simulator in its own
    process, driven through a proxy (keys, limits, statistics and the request log)."""
    import os

    import requests

    with priority.simulator_process(latency_ms=0, low_ms=0, high_ms=0) as sim:
        urls = dict(pair.split("=", 1) for pair in sim.urls_setting().split(","))
        (key,) = sim.seed_keys(1, "mexc", seed=1)
        assert key.exchange == "mexc" and sim.new_key("kucoin").exchange == "kucoin"
        sim.set_rate_limit("mexc", scale=2)
        answer = requests.get(urls["mexc"] + "/api/v3/time", timeout=5)
        assert answer.status_code == 200 and "serverTime" in answer.json()
        (record,) = sim.request_log()
        assert isinstance(record, RequestRecord) and record.path == "/api/v3/time"
        assert sim.stats()["mexc"]["requests"] == 1
        sim.reset_stats()
        assert sim.request_log() == []
        assert sim.pid() != os.getpid()
