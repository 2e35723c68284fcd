from __future__ import annotations

from collections.abc import Iterator

import pytest

from connections.exchanges.base import CheckName, Credentials, Outcome
from tests.simulator import ExchangeSimulator
from tests.simulator.base import SimKey


@pytest.fixture(scope="session")
def running_simulator() -> Iterator[ExchangeSimulator]:
    # One listener set for the whole run: starting four servers per test would dominate the
    # suite's time. Each test gets it back in its initial state through `sim`.
    with ExchangeSimulator() as sim:
        yield sim


@pytest.fixture
def sim(running_simulator: ExchangeSimulator) -> Iterator[ExchangeSimulator]:
    running_simulator.reset()
    yield running_simulator
    running_simulator.reset()


def credentials(key: SimKey, **changes: str) -> Credentials:
    """The key's credentials as a user would paste them; `changes` replaces any of
    api_key, api_secret, passphrase (to test a wrong one)."""
    values = {"api_key": key.api_key, "api_secret": key.secret, "passphrase": key.passphrase}
    values.update(changes)
    return Credentials(values["api_key"], values["api_secret"], values["passphrase"] or "")


def checks(report) -> dict[str, tuple[str, str]]:
    """Check name → (outcome, code) of every check in a report."""
    return {c.name.value: (c.outcome.value, c.code) for c in report.checks}


def check(report, name: CheckName) -> tuple[Outcome, str]:
    """(outcome, code) of one check, which the report must have. `Outcome` is a StrEnum, so
    it compares equal to "ok", "failed" and the other plain values."""
    result = report.check(name)
    assert result is not None
    return result.outcome, result.code
