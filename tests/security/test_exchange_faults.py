"""Exchange faults through the whole test path (client, task with retries, result writer):
never `online` by mistake, never `invalid_key` for a temporary fault."""

from __future__ import annotations

import pytest

from connections import services, tasks
from tests.connections.factories import make_connection
from tests.simulator import ExchangeSimulator

pytestmark = pytest.mark.django_db

TEMPORARY_FAULTS = [
    ("timeout", {"seconds": 3}),
    ("reset", {}),
    ("html_502", {}),
    ("malformed_json", {}),
    ("truncated_json", {}),
    ("maintenance", {}),
    ("rate_limited", {}),
    ("ip_banned", {}),
]


@pytest.fixture
def sim(settings):
    with ExchangeSimulator() as simulator:
        settings.EXCHANGE_URLS = dict(simulator.urls)
        settings.EXCHANGE_READ_TIMEOUT = 1.0
        settings.EXCHANGE_TEST_BUDGET = 2.5
        yield simulator


def run_to_the_end(conn, monkeypatch, settings):
    """Run the task through every retry without waiting for backoff."""
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)
    for attempt in range(settings.CONNECTION_TEST_RETRIES + 1):
        monkeypatch.setattr(tasks.connection_check, "retry", _raise_retry)
        try:
            tasks.connection_check.apply(args=[check.pk], retries=attempt, throw=True)
        except _Retry:
            continue
        break
    conn.refresh_from_db()
    return conn


class _Retry(Exception):
    pass


def _raise_retry(**kwargs):
    raise _Retry


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
@pytest.mark.parametrize(("fault", "options"), TEMPORARY_FAULTS)
def test_temporary_faults_end_as_exchange_unavailable(
    sim, alice, monkeypatch, settings, exchange, fault, options
):
    key = sim.new_key(exchange)
    conn = make_connection(
        alice,
        exchange=exchange,
        api_key=key.api_key,
        api_secret=key.secret,
        **({"passphrase": key.passphrase} if key.passphrase else {}),
    )
    sim.set_fault(exchange, fault, **options)
    conn = run_to_the_end(conn, monkeypatch, settings)
    assert conn.status == "failed", conn.last_report
    assert conn.problem_category == "exchange_unavailable"
    assert conn.checks.get().attempts == settings.CONNECTION_TEST_RETRIES + 1


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_slow_exchange_beyond_the_budget_is_never_online(
    sim, alice, monkeypatch, settings, exchange
):
    key = sim.new_key(exchange)
    conn = make_connection(
        alice,
        exchange=exchange,
        api_key=key.api_key,
        api_secret=key.secret,
        **({"passphrase": key.passphrase} if key.passphrase else {}),
    )
    # One round (the server time goes out with the signed calls) of 2 s: beyond a 1.5 s budget.
    sim.latency_ms = 2000
    settings.EXCHANGE_TEST_BUDGET = 1.5
    conn = run_to_the_end(conn, monkeypatch, settings)
    assert conn.status == "failed" and conn.problem_category == "exchange_unavailable"


@pytest.mark.parametrize("exchange", ["mexc", "kucoin"])
def test_a_fault_that_clears_lets_the_retry_succeed(sim, alice, monkeypatch, settings, exchange):
    key = sim.new_key(exchange)
    conn = make_connection(
        alice,
        exchange=exchange,
        api_key=key.api_key,
        api_secret=key.secret,
        **({"passphrase": key.passphrase} if key.passphrase else {}),
    )
    sim.set_fault(exchange, "html_502", times=2)
    conn = run_to_the_end(conn, monkeypatch, settings)
    assert conn.status == "online"
