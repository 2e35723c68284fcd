"""Binance's public pair lists (`BinanceClient.pairs` through the symbol fetcher), over
`responses` with the documented exchangeInfo shapes; the simulator run is in
tests/simulator_tests/test_binance.py."""

from __future__ import annotations

import pytest

from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols
from tests.connections.test_symbols import load

SPOT = "https://api.binance.com"
FUTURES = "https://fapi.binance.com"


def test_spot_keeps_trading_symbols_allowed_for_spot(no_internet):
    no_internet.get(f"{SPOT}/api/v3/exchangeInfo", json=load("symbols_binance_exchange_info"))
    # LUNA is in BREAK, XMR margin-only, TRD only in a trade group; OLD lists SPOT the old way.
    assert fetch_symbols("binance", "spot") == ("BTC/USDT", "ETH/BTC", "OLD/USDT")


def test_futures_keeps_trading_perpetuals(no_internet):
    no_internet.get(
        f"{FUTURES}/fapi/v1/exchangeInfo", json=load("symbols_binance_futures_exchange_info")
    )
    # The quarterly contract expires; FTT is settling.
    assert fetch_symbols("binance", "futures") == ("1000PEPE/USDT", "BTC/USDT", "ETH/USDT")


def test_error_answer_is_unavailable(no_internet):
    no_internet.get(
        f"{SPOT}/api/v3/exchangeInfo",
        json={"code": -1003, "msg": "Too much request weight used"},
        status=429,
    )
    with pytest.raises(SymbolListUnavailable, match="HTTP 429"):
        fetch_symbols("binance", "spot")


def test_answer_without_symbols_is_unavailable(no_internet):
    no_internet.get(f"{FUTURES}/fapi/v1/exchangeInfo", json={"code": -1008, "msg": "busy"})
    with pytest.raises(SymbolListUnavailable, match="-1008"):
        fetch_symbols("binance", "futures")
