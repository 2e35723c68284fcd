"""Bybit's API-tradable pairs (`BybitClient.pairs` through `fetch_symbols`) against the
simulated Bybit: instruments-info for spot and for linear, whose pages are followed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols
from tests.simulator import ExchangeSimulator


@pytest.fixture(scope="module")
def bybit_sim() -> Iterator[ExchangeSimulator]:
    with ExchangeSimulator() as sim:
        yield sim


@pytest.fixture
def sim(bybit_sim: ExchangeSimulator) -> Iterator[ExchangeSimulator]:
    bybit_sim.reset()
    yield bybit_sim
    bybit_sim.reset()


def test_bybit_spot_lists_trading_pairs(sim):
    assert fetch_symbols("bybit", "spot", sim.urls) == ("BTC/USDT", "ETH/USDT", "XRP/USDT")


def test_bybit_futures_lists_usdt_perpetuals_across_pages(sim):
    # The simulator pages linear instruments by four: the cursor must be followed. USDC
    # perpetuals, dated futures and pre-launch contracts are left out.
    assert fetch_symbols("bybit", "futures", sim.urls) == ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    linear = [r for r in sim.requests if r.path == "/v5/market/instruments-info"]
    assert len(linear) == 2


def test_bybit_outage_makes_the_list_unavailable(sim):
    sim.set_fault("bybit", "html_502")
    with pytest.raises(SymbolListUnavailable, match="HTTP 502"):
        fetch_symbols("bybit", "spot", sim.urls)


def test_bybit_error_code_makes_the_list_unavailable(sim):
    sim.set_fault("bybit", "maintenance", status=200)
    with pytest.raises(SymbolListUnavailable, match="10016"):
        fetch_symbols("bybit", "futures", sim.urls)
