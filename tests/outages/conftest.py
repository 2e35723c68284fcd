"""Outages and key expiry: a frozen clock, the simulator, and helpers that run re-checks as
beat and the worker would (without a broker: the scheduler marks the connections `testing`,
then each check runs here, in order)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from connections import services
from connections.exchanges.base import TemporaryExchangeError
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.simulator import ExchangeSimulator
from tests.strategies.factories import stored_strategy


class Clock:
    """`django.utils.timezone.now`, frozen; `advance` moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def sim(settings):
    with ExchangeSimulator() as simulator:
        settings.EXCHANGE_URLS = dict(simulator.urls)
        settings.EXCHANGE_READ_TIMEOUT = 1.0
        settings.EXCHANGE_TEST_BUDGET = 2.5
        yield simulator


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """The helpers below run each check themselves; what else a commit would trigger (the
    failure emails) runs, as `commits` lets it."""
    monkeypatch.setattr(services, "_enqueue_check", lambda check_id, **options: None)


def commits():
    """Run the on-commit callbacks of the block, as its commit would (the test's transaction
    never commits): a failure email queued on commit is sent, so a test sees it."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def run_check(check_id: int) -> None:
    """One attempt of the task's work, a temporary error recorded as its last retry would."""
    with commits():
        try:
            services.connection_run_check(check_id=check_id, max_wait=None)
        except TemporaryExchangeError as error:
            services.connection_record_error(check_id=check_id, error=error)


def recheck(connection, *, trigger: str = "schedule") -> Connection:
    check = services.connection_request_check(connection=connection, trigger=trigger, enqueue=False)
    run_check(check.pk)
    connection.refresh_from_db()
    return connection


def beat(clock) -> list[int]:
    """One re-check scheduler run at the clock's time, then every check it started.
    Returns the ids of the connections it re-checked."""
    with commits():
        services.connections_schedule_rechecks(now=clock.now)
    started = list(
        Connection.objects.filter(status="testing").values_list("pk", "current_check_id")
    )
    for _pk, check_id in started:
        run_check(check_id)
    return [pk for pk, _check in started]


def mexc_fleet(sim, owners, *, per_owner: int = 3):
    """`per_owner` MEXC connections for each owner, each with an enabled strategy, all Online."""
    connections = []
    for owner in owners:
        for n in range(per_owner):
            key = sim.new_key("mexc")
            connection = make_connection(
                owner, api_key=key.api_key, api_secret=key.secret, name=f"MEXC {n}"
            )
            stored_strategy(owner, connection, name=f"Grid {connection.pk}", status="enabled")
            connections.append(recheck(connection))
    assert all(c.status == "online" for c in connections)
    return connections
