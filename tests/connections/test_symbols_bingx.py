"""BingX's API-tradable pairs through the symbol fetcher, against the simulated BingX (real
HTTP) and against error answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols
from tests.simulator import ExchangeSimulator

BINGX = "https://open-api.bingx.com"


@pytest.fixture(scope="module")
def simulator() -> Iterator[ExchangeSimulator]:
    with ExchangeSimulator() as sim:
        yield sim


def test_bingx_spot_keeps_online_symbols_buyable_and_sellable_over_the_api(simulator):
    # VST-USDT may not be bought over the API; OLD-USDT is suspended (status 25).
    assert fetch_symbols("bingx", "spot", simulator.urls) == ("BTC/USDT", "ETH/USDT")


def test_bingx_futures_keeps_online_contracts_open_over_the_api(simulator):
    # DOGE-USDT has apiStateOpen "false"; LUNA-USDT has status "0".
    assert fetch_symbols("bingx", "futures", simulator.urls) == ("BTC/USDT", "ETH/USDT")


def test_bingx_lists_are_read_from_the_live_host_with_a_timestamp(simulator):
    simulator.reset_stats()
    fetch_symbols("bingx", "spot", simulator.urls)
    assert [(r.exchange, r.path) for r in simulator.requests] == [
        ("bingx", "/openApi/spot/v1/common/symbols")
    ]


def test_bingx_error_answer_is_unavailable(no_internet):
    no_internet.get(
        f"{BINGX}/openApi/spot/v1/common/symbols",
        json={"code": 100410, "msg": "rate limited"},
    )
    with pytest.raises(SymbolListUnavailable, match="100410"):
        fetch_symbols("bingx", "spot")


def test_bingx_futures_html_answer_is_unavailable(no_internet):
    no_internet.get(f"{BINGX}/openApi/swap/v2/quote/contracts", status=502, body="<html>")
    with pytest.raises(SymbolListUnavailable, match="HTTP 502"):
        fetch_symbols("bingx", "futures")
