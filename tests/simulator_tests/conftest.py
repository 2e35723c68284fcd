from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator import ExchangeSimulator


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
