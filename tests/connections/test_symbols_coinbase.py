"""Coinbase's API-tradable pairs: the public products list, from a documented payload and from
the simulator."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols
from tests.simulator import ExchangeSimulator

FIXTURES = Path(__file__).parent / "fixtures"
COINBASE = "https://api.coinbase.com"
PRODUCTS = f"{COINBASE}/api/v3/brokerage/market/products?product_type=SPOT"


def load(name: str):
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text())["body"])


def test_coinbase_keeps_online_spot_products_open_for_trading(no_internet):
    no_internet.get(PRODUCTS, json=load("symbols_coinbase_products"))
    # SOL-EUR has trading_disabled, OLD-USD is delisted, the FUTURE row is not spot.
    assert fetch_symbols("coinbase", "spot") == ("BTC/USD", "ETH/USDC")


def test_coinbase_error_answer_is_unavailable(no_internet):
    no_internet.get(PRODUCTS, status=503, json={"error": "UNAVAILABLE", "message": "down"})
    with pytest.raises(SymbolListUnavailable):
        fetch_symbols("coinbase", "spot")


def test_coinbase_pairs_from_the_simulator():
    with ExchangeSimulator() as sim:
        pairs = fetch_symbols("coinbase", "spot", sim.urls)
        assert pairs == ("BTC/USD", "BTC/USDT", "ETH/USDC")
        assert [(r.path, r.status) for r in sim.requests] == [
            ("/api/v3/brokerage/market/products", 200)
        ]
