"""Issue 17 — a 10-minute outage of one exchange under 1,000 connections.

    python -m benchmarks.outage [--connections 1000] [--outage-minutes 10]

`--connections` Online MEXC spot connections (10 per user), each with an enabled strategy,
whose last tests are spread over the re-check interval as in a running fleet. On a simulated
clock, beat's re-check scheduler runs once a minute and every check it starts runs at once
against the exchange simulator (in this process: the scheduler's pacing and the worker are
the fleet benchmark's subject). The simulator answers every MEXC call with its maintenance
page from minute 2 for `--outage-minutes`, then normally again.

The same run twice: with the outage handling (grace period, exchange incident, probes) as
configured, and without it (no grace period, no incidents: every failed re-check fails its
connection, pauses its strategy and emails its owner, as before issue 17). Printed for each:
emails sent, strategies paused and resumed, tests sent to MEXC while it was down, and the
simulated time from its return until every connection was Online again. The figures judged:
with the handling, an outage shorter than the grace period (30 minutes) sends no email and
pauses nothing, a longer one sends at most one email per user and resumes every strategy it
paused; either sends at most a quarter of the tests sent without it, and every connection is
Online again within five scheduler runs of the exchange's return.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from benchmarks import common

STEP = timedelta(seconds=60)  # beat's re-check scheduler period
OUTAGE_START_MINUTE = 2
PER_OWNER = 10
MAX_CHECK_SHARE = 0.25


@dataclass
class Outcome:
    handling: bool
    emails: int
    paused: int
    resumed: int
    checks_while_down: int
    checks_total: int
    back_online_s: float | None
    incidents: int
    wall_s: float

    def line(self) -> str:
        back = "never" if self.back_online_s is None else f"{self.back_online_s:.0f} s"
        return (
            f"  {'with' if self.handling else 'without'} outage handling: emails {self.emails}, "
            f"strategies paused {self.paused} / resumed {self.resumed}, tests sent to the down "
            f"exchange {self.checks_while_down} (of {self.checks_total}), all Online again "
            f"{back} after its return, incidents {self.incidents} ({self.wall_s:.0f} s wall)"
        )


class SimulatedClock:
    def __init__(self, now) -> None:
        self.now = now

    def __call__(self):
        return self.now


def populate(sim: Any, n: int, *, now) -> list[int]:
    """n Online MEXC connections, last tested over the past re-check interval, each with an
    enabled strategy."""
    from django.conf import settings

    from connections.models import Connection
    from strategies.models import Strategy
    from tests.strategies.factories import values

    keys = sim.seed_keys(n, "mexc", seed=17)
    pks = common.create_connections(keys, per_owner=PER_OWNER, status="online", tested_ago_s=0)
    interval = settings.CONNECTION_RECHECK_INTERVAL
    for index, pk in enumerate(pks):
        # Spread as a running fleet is: a 1/interval share of it is due every second.
        ago = timedelta(seconds=interval * (index + 0.5) / n)
        Connection.objects.filter(pk=pk).update(last_tested_at=now - ago, last_online_at=now - ago)
    connections = list(Connection.objects.filter(pk__in=pks))
    base = values(connections[0])
    for name in ("name", "connection", "new_groups_connection"):
        base.pop(name)
    Strategy.objects.bulk_create(
        [
            Strategy(
                owner_id=c.owner_id, connection=c, name=f"Grid {c.pk}", status="enabled", **base
            )
            for c in connections
        ],
        batch_size=1000,
    )
    return pks


def run(
    sim: Any, *, connections: int, outage_minutes: int, handling: bool, max_minutes: int = 90
) -> Outcome:
    """One simulated outage; the database must hold nothing of an earlier run."""
    from django.conf import settings
    from django.utils import timezone

    from connections import services
    from connections.exchanges.base import TemporaryExchangeError
    from connections.models import AuditEvent, Connection, ExchangeIncident

    started = time.monotonic()
    real_now = timezone.now
    clock = SimulatedClock(real_now().replace(microsecond=0))
    saved = {
        "grace": settings.CONNECTION_OUTAGE_GRACE,
        "min": settings.EXCHANGE_INCIDENT_MIN_CONNECTIONS,
    }
    queued: list[int] = []
    emails: list[str] = []
    real_enqueue, real_mail = services._enqueue_check, services.mail_send
    timezone.now = clock
    services._enqueue_check = lambda check_id, **options: queued.append(check_id)
    services.mail_send = lambda **message: emails.append(message["to"][0])
    if not handling:
        settings.CONNECTION_OUTAGE_GRACE = 0
        settings.EXCHANGE_INCIDENT_MIN_CONNECTIONS = 10**9
    try:
        pks = populate(sim, connections, now=clock.now)
        first_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        down_from = clock.now + OUTAGE_START_MINUTE * STEP
        down_until = down_from + outage_minutes * STEP
        checks_while_down = checks_total = 0
        back_online_s = None
        for _minute in range(max_minutes):
            down = down_from <= clock.now < down_until
            if clock.now == down_from:
                sim.set_fault("mexc", "maintenance")
            if clock.now == down_until:
                sim.clear_faults("mexc")
            services.connections_schedule_rechecks(now=clock.now)
            batch, queued[:] = list(queued), []
            for check_id in batch:
                try:
                    services.connection_run_check(check_id=check_id, max_wait=None)
                except TemporaryExchangeError as error:
                    services.connection_record_error(check_id=check_id, error=error)
            checks_total += len(batch)
            checks_while_down += len(batch) if down else 0
            if clock.now >= down_until:
                online = Connection.objects.filter(pk__in=pks, status="online")
                if online.filter(unreachable_since__isnull=True).count() == len(pks):
                    back_online_s = (clock.now - down_until).total_seconds()
                    break
            clock.now += STEP
        events = AuditEvent.objects.filter(pk__gt=first_event or 0)
        unanswered = Connection.objects.filter(pk__in=pks, problem_category="exchange_unreachable")
        if unanswered.exists():
            raise RuntimeError("the simulator was not reachable: is EXCHANGE_URLS set to it?")
        return Outcome(
            handling=handling,
            emails=len(emails),
            paused=events.filter(action="strategy_paused").count(),
            resumed=events.filter(action="strategy_resumed").count(),
            checks_while_down=checks_while_down,
            checks_total=checks_total,
            back_online_s=back_online_s,
            incidents=ExchangeIncident.objects.count(),
            wall_s=time.monotonic() - started,
        )
    finally:
        timezone.now = real_now
        services._enqueue_check, services.mail_send = real_enqueue, real_mail
        settings.CONNECTION_OUTAGE_GRACE = saved["grace"]
        settings.EXCHANGE_INCIDENT_MIN_CONNECTIONS = saved["min"]
        sim.clear_faults()


def figures(
    with_handling: Outcome, without: Outcome, *, outage_s: float, grace_s: float, users: int
) -> list[common.Figure]:
    """Below the grace period nothing may fail, pause or email; beyond it each user gets one
    email at most and every paused strategy resumes."""
    share = with_handling.checks_while_down / max(1, without.checks_while_down)
    if outage_s < grace_s:
        effects = [
            common.Figure(
                "emails sent (outage shorter than the grace period)",
                str(with_handling.emails),
                "0",
                with_handling.emails == 0,
            ),
            common.Figure(
                "strategies paused", str(with_handling.paused), "0", with_handling.paused == 0
            ),
        ]
    else:
        effects = [
            common.Figure(
                "emails sent (outage longer than the grace period)",
                str(with_handling.emails),
                f"<= {users} (one per user)",
                with_handling.emails <= users,
            ),
            common.Figure(
                "strategies resumed / paused",
                f"{with_handling.resumed} / {with_handling.paused}",
                "all",
                with_handling.resumed == with_handling.paused,
            ),
        ]
    return [
        *effects,
        common.Figure(
            "tests sent to the down exchange / without outage handling",
            share,
            f"<= {MAX_CHECK_SHARE}",
            share <= MAX_CHECK_SHARE,
            unit="x",
            detail=f"{with_handling.checks_while_down} vs {without.checks_while_down}",
        ),
        common.Figure(
            "every connection Online again after the exchange's return",
            "never"
            if with_handling.back_online_s is None
            else f"{with_handling.back_online_s:.0f} s",
            "within 5 scheduler periods",
            with_handling.back_online_s is not None
            and with_handling.back_online_s <= 5 * STEP.total_seconds(),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outage", description=__doc__)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--outage-minutes", type=int, default=10)
    args = parser.parse_args(argv)
    # Pacing is the fleet benchmark's subject: the throttle must not stretch the simulation.
    os.environ["CONNECTION_RATE_LIMIT_SCALE"] = "mexc=10000"
    os.environ["CONNECTION_RECHECK_MAX_RATE"] = "100000"

    common.setup_django()
    common.require_services()
    from django.conf import settings

    outcomes = []
    with common.simulator(rate_limits=False, max_log=1000) as sim:
        settings.EXCHANGE_URLS = dict(sim.urls)
        for handling in (True, False):
            common.use_bench_database()
            outcomes.append(
                run(
                    sim,
                    connections=args.connections,
                    outage_minutes=args.outage_minutes,
                    handling=handling,
                )
            )
    print(
        f"\n{args.connections} MEXC connections ({PER_OWNER} per user, one strategy each), "
        f"MEXC down for {args.outage_minutes} minutes (simulated clock, beat every minute)"
    )
    for outcome in outcomes:
        print(outcome.line())
    judged = figures(
        *outcomes,
        outage_s=args.outage_minutes * STEP.total_seconds(),
        grace_s=settings.CONNECTION_OUTAGE_GRACE,
        users=-(-args.connections // PER_OWNER),
    )
    ok = common.print_figures("Outage", judged, common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
