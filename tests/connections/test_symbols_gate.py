"""Gate's public pair lists through `fetch_symbols`, over `responses` (shapes: ccxt:gate.py
fetch_spot_markets / parse_contract_market comments; gateapi-csharp docs/CurrencyPair.md)."""

from __future__ import annotations

import pytest

from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols

GATE = "https://api.gateio.ws"


def test_spot_keeps_only_pairs_tradable_both_ways(no_internet):
    no_internet.get(
        f"{GATE}/api/v4/spot/currency_pairs",
        json=[
            {"id": "QTUM_ETH", "base": "QTUM", "quote": "ETH", "trade_status": "tradable"},
            {"id": "BTC_USDT", "base": "BTC", "quote": "USDT", "trade_status": "tradable"},
            {"id": "NEW_USDT", "base": "NEW", "quote": "USDT", "trade_status": "buyable"},
            {"id": "OLD_USDT", "base": "OLD", "quote": "USDT", "trade_status": "untradable"},
        ],
    )
    assert fetch_symbols("gate", "spot") == ("BTC/USDT", "QTUM/ETH")


def test_futures_leaves_out_delisting_and_suspended_contracts(no_internet):
    no_internet.get(
        f"{GATE}/api/v4/futures/usdt/contracts",
        json=[
            {"name": "BTC_USDT", "in_delisting": False, "status": "trading"},
            {"name": "OLD_USDT", "in_delisting": True, "status": "trading"},
            {"name": "HALT_USDT", "in_delisting": False, "status": "suspend"},
        ],
    )
    assert fetch_symbols("gate", "futures") == ("BTC/USDT",)


def test_error_answer_is_unavailable(no_internet):
    no_internet.get(
        f"{GATE}/api/v4/futures/usdt/contracts",
        json={"label": "SERVER_ERROR", "message": "Internal server error"},
    )
    with pytest.raises(SymbolListUnavailable, match="SERVER_ERROR"):
        fetch_symbols("gate", "futures")
