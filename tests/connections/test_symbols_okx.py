"""OKX's API-tradable pairs (`OkxClient.pairs` through `fetch_symbols`) against the simulated
OKX: live spot pairs, live USDT-settled linear swaps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols
from tests.simulator import ExchangeSimulator


@pytest.fixture(scope="module")
def sim() -> Iterator[ExchangeSimulator]:
    with ExchangeSimulator() as simulator:
        yield simulator


def test_spot_pairs_are_the_live_instruments(sim):
    # OLD-USDT is suspended, NEW-USDT only preopen.
    assert fetch_symbols("okx", "spot", sim.urls) == (
        "BTC/USDT",
        "ETH/BTC",
        "ETH/USDT",
        "SOL/USDT",
    )


def test_futures_pairs_are_live_usdt_settled_linear_swaps(sim):
    # BTC-USD-SWAP is inverse, BTC-USDC-SWAP settles in USDC, LUNA-USDT-SWAP is suspended.
    assert fetch_symbols("okx", "futures", sim.urls) == ("BTC/USDT", "DOGE/USDT", "ETH/USDT")
    assert {(r.path, r.status) for r in sim.requests if r.exchange == "okx"} >= {
        ("/api/v5/public/instruments", 200)
    }


def test_maintenance_makes_the_list_unavailable(sim):
    sim.set_fault("okx", "maintenance", times=1)
    try:
        with pytest.raises(SymbolListUnavailable, match="HTTP 503"):
            fetch_symbols("okx", "spot", sim.urls)
    finally:
        sim.reset()


def test_error_answer_is_unavailable(sim):
    sim.set_fault(
        "okx",
        "maintenance",
        times=1,
        status=200,
        body={"code": "50001", "msg": "Service temporarily unavailable", "data": []},
    )
    try:
        with pytest.raises(SymbolListUnavailable, match="code '50001'"):
            fetch_symbols("okx", "futures", sim.urls)
    finally:
        sim.reset()
