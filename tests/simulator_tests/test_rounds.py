"""How many rounds a whole test takes on every live exchange of the registry, through the real
client against the simulator (which enforces each exchange's timestamp window): the server
time goes out with the first signed calls, signed with the skew this process remembers for
the host, and only a skew that moved sends the signed calls again."""

from __future__ import annotations

import time

import pytest

from connections.exchanges import registry
from connections.exchanges.base import Market
from connections.exchanges.http import SKEWS, Transport
from tests.exchanges.conftest import record_rounds
from tests.simulator_tests.conftest import credentials

KINDS = [(spec.slug, market) for spec in registry.all_specs() for market in spec.markets]
# HTX's uid names the key in `GET /v2/user/api-key`: one dependent round more (`prepare`).
DEPENDENT_ROUNDS = {"htx": 1}


def run(sim, slug: str, market: Market, key):
    client = registry.build_client(slug, sim.urls)
    report = client.run_checks(credentials(key), market)
    assert report.verdict == "online", report.to_dict()
    return report


@pytest.mark.parametrize(("slug", "market"), KINDS)
def test_a_test_is_one_round_with_the_time_calls_in_the_first(sim, monkeypatch, slug, market):
    rounds = record_rounds(monkeypatch)

    run(sim, slug, market, sim.new_key(slug))

    assert len(rounds) == 1 + DEPENDENT_ROUNDS.get(slug, 0), rounds
    times = [name for name in rounds[0] if name.endswith("time")]
    assert times and len(rounds[0]) > len(times)  # the time calls and signed calls together
    assert not any(name.endswith("time") for later in rounds[1:] for name in later)


@pytest.mark.parametrize(("slug", "market"), KINDS)
def test_a_cold_start_with_our_clock_off_costs_one_round_once(sim, monkeypatch, slug, market):
    # The exchange's clock is 30 s ahead of ours: the first signed calls, signed with ours,
    # are dropped (refused by the exchanges with a window below 30 s) and signed again; the
    # next test (another key: Bitget allows one key info a second per account) is signed with
    # the remembered skew from the start.
    sim.set_fault(slug, "clock_skew", offset_ms=30_000)
    rounds = record_rounds(monkeypatch)

    report = run(sim, slug, market, sim.new_key(slug))

    assert report.clock_skew_ms == pytest.approx(30_000, abs=2_000)
    assert len(rounds) == 2 + DEPENDENT_ROUNDS.get(slug, 0), rounds
    assert rounds[1] == [name for name in rounds[0] if not name.endswith("time")]
    time_urls = [call.url for call in registry.build_client(slug, sim.urls).time_calls(market)]
    assert all(SKEWS.get(url) == pytest.approx(30_000, abs=2_000) for url in time_urls)
    rounds.clear()

    run(sim, slug, market, sim.new_key(slug))

    assert len(rounds) == 1 + DEPENDENT_ROUNDS.get(slug, 0), rounds


@pytest.mark.parametrize(("slug", "market"), KINDS)
def test_the_pacing_hooks_run_right_before_the_calls_they_pace(sim, monkeypatch, slug, market):
    # The worker's throttle slot (connections/throttle.Slot) checks, right before calls go
    # out, that they leave on time; a resend takes its slot after any wait the exchange
    # needs (Bitget's key info: 1/s per account), never before it, so that slot is not late.
    sim.set_fault(slug, "clock_skew", offset_ms=30_000)  # a cold start: one resend
    events: list[tuple[str, float]] = []
    original = Transport.send_all

    def send_all(self, calls):
        events.append(("round", time.monotonic()))
        try:
            return original(self, calls)
        finally:
            events.append(("answers", time.monotonic()))

    monkeypatch.setattr(Transport, "send_all", send_all)

    class Pacing:
        def round(self):
            events.append(("pacing.round", time.monotonic()))

        def call(self):
            events.append(("pacing.call", time.monotonic()))

        def resend(self):
            events.append(("pacing.resend", time.monotonic()))

    client = registry.build_client(slug, sim.urls, pacing=Pacing())

    report = client.run_checks(credentials(sim.new_key(slug)), market)

    assert report.verdict == "online", report.to_dict()
    names = [name for name, _ in events]
    # One set of calls: the round opens, then each call checks right before it leaves.
    rounds: list[list[str]] = []
    for name in names:
        if name == "round":
            rounds.append([])
        elif name not in ("answers", "pacing.resend"):
            rounds[-1].append(name)
    assert all(r[0] == "pacing.round" and set(r[1:]) == {"pacing.call"} for r in rounds), rounds
    sizes = [len(r) - 1 for r in rounds]
    # The first round (which carries the time calls) was dropped; the signed rounds again.
    resent = 1 + DEPENDENT_ROUNDS.get(slug, 0)
    assert len(rounds) == 1 + resent
    bounds = [name for name in names if name in ("round", "answers", "pacing.resend")]
    assert bounds == ["round", "answers", "pacing.resend", *["round", "answers"] * resent]
    assert sizes[0] > sizes[1]  # the time calls went out only in the first
    first_answers = next(t for name, t in events if name == "answers")
    resend = next(t for name, t in events if name == "pacing.resend")
    assert resend - first_answers >= client.resend_wait_s
