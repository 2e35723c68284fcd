"""The public symbol-list fetchers: one per exchange endpoint, all over `responses`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import requests

from connections.exchanges import registry, symbols
from connections.exchanges.symbols import SymbolListUnavailable, fetch_symbols

FIXTURES = Path(__file__).parent / "fixtures"

MEXC = "https://api.mexc.com"
MEXC_FUTURES = "https://contract.mexc.com"
KUCOIN = "https://api.kucoin.com"
KUCOIN_FUTURES = "https://api-futures.kucoin.com"


def load(name: str):
    """A documented payload from fixtures/<name>.json (its source is in `_source`)."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text())["body"])


def test_mexc_spot_counts_a_pair_only_when_both_endpoints_allow_it(no_internet):
    no_internet.get(f"{MEXC}/api/v3/exchangeInfo", json=load("symbols_mexc_exchange_info"))
    no_internet.get(f"{MEXC}/api/v3/defaultSymbols", json=load("symbols_mexc_default_symbols"))
    # ETHUSDT is listed but not an API symbol; GENE1USDT is offline; SNTUSDT is sell-only.
    assert fetch_symbols("mexc", "spot") == ("BTC/USDT", "METAL/USDT")


def test_mexc_spot_falls_back_to_is_spot_trading_allowed(no_internet):
    no_internet.get(f"{MEXC}/api/v3/exchangeInfo", json=load("symbols_mexc_exchange_info"))
    no_internet.get(f"{MEXC}/api/v3/defaultSymbols", status=503, body="busy")
    assert fetch_symbols("mexc", "spot") == ("BTC/USDT", "ETH/USDT", "METAL/USDT")


def test_mexc_spot_needs_exchange_info_to_split_symbols(no_internet):
    no_internet.get(f"{MEXC}/api/v3/exchangeInfo", status=502, body="<html>bad gateway</html>")
    no_internet.get(f"{MEXC}/api/v3/defaultSymbols", json=load("symbols_mexc_default_symbols"))
    with pytest.raises(SymbolListUnavailable, match="HTTP 502"):
        fetch_symbols("mexc", "spot")


def test_mexc_futures_keeps_enabled_contracts_that_allow_the_api(no_internet):
    no_internet.get(
        f"{MEXC_FUTURES}/api/v1/contract/detail", json=load("symbols_mexc_contract_detail")
    )
    # ETH_USDT has apiAllowed false, XRP_USDT is paused (state 4).
    assert fetch_symbols("mexc", "futures") == ("BTC/USDT", "SOL/USDT")


def test_mexc_futures_error_answer_is_unavailable(no_internet):
    no_internet.get(
        f"{MEXC_FUTURES}/api/v1/contract/detail",
        json={"success": False, "code": 500, "message": "System internal error!"},
    )
    with pytest.raises(SymbolListUnavailable, match="code 500"):
        fetch_symbols("mexc", "futures")


def test_kucoin_spot_keeps_symbols_with_trading_enabled(no_internet):
    no_internet.get(f"{KUCOIN}/api/v2/symbols", json=load("symbols_kucoin_symbols"))
    assert fetch_symbols("kucoin", "spot") == ("BTC/USDT", "ETH/BTC", "XLM/USDT")


def test_kucoin_futures_keeps_open_perpetuals_and_writes_xbt_as_btc(no_internet):
    no_internet.get(
        f"{KUCOIN_FUTURES}/api/v1/contracts/active", json=load("symbols_kucoin_contracts_active")
    )
    # SOLUSDTM is paused; XBTMZ24 is a dated (expiring) future.
    assert fetch_symbols("kucoin", "futures") == ("BTC/USDT", "ETH/USDT")


def test_kucoin_error_code_is_unavailable(no_internet):
    no_internet.get(f"{KUCOIN}/api/v2/symbols", json={"code": "429000", "msg": "Too many"})
    with pytest.raises(SymbolListUnavailable, match="429000"):
        fetch_symbols("kucoin", "spot")


def test_an_empty_list_is_a_broken_answer_not_no_pairs(no_internet):
    no_internet.get(f"{KUCOIN}/api/v2/symbols", json={"code": "200000", "data": []})
    with pytest.raises(SymbolListUnavailable, match="no pairs"):
        fetch_symbols("kucoin", "spot")


def test_non_json_answer_is_unavailable(no_internet):
    no_internet.get(
        f"{KUCOIN_FUTURES}/api/v1/contracts/active", body="<html>maintenance</html>", status=200
    )
    with pytest.raises(SymbolListUnavailable, match="not JSON"):
        fetch_symbols("kucoin", "futures")


def test_timeout_is_unavailable_and_every_call_has_explicit_timeouts(no_internet):
    no_internet.get(f"{KUCOIN}/api/v2/symbols", body=requests.ReadTimeout("slow"))
    with pytest.raises(SymbolListUnavailable, match="ReadTimeout"):
        fetch_symbols("kucoin", "spot", connect_timeout=2, read_timeout=7)
    assert no_internet.calls[0].request.req_kwargs["timeout"] == (2.0, 7.0)


def test_base_urls_can_be_overridden_like_the_clients(no_internet):
    no_internet.get("http://sim.test/api/v2/symbols", json=load("symbols_kucoin_symbols"))
    pairs = fetch_symbols("kucoin", "spot", {"kucoin": "http://sim.test/"})
    assert "BTC/USDT" in pairs


def test_demo_exchange_has_a_fixed_list_without_network(no_internet):
    pairs = fetch_symbols("demo", "futures")
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(pairs)
    assert len(no_internet.calls) == 0


def test_unknown_exchange_is_a_programming_error():
    with pytest.raises(registry.UnknownExchange):
        fetch_symbols("nosuchexchange", "spot")


@pytest.mark.parametrize(
    ("base", "quote", "expected"),
    [
        ("btc", "usdt", "BTC/USDT"),
        ("XBT", "USDT", "BTC/USDT"),
        ("1000PEPE", "USDT", "1000PEPE/USDT"),
        ("", "USDT", None),
        ("BTC", None, None),
        ("BTC/X", "USDT", None),
    ],
)
def test_normalise_pair(base, quote, expected):
    assert symbols.normalise_pair(base, quote) == expected


def test_pair_lists_come_from_the_clients_documented_hosts():
    # One source of truth: the pair lists use the connection-test clients' base URLs.
    fetcher = symbols.SymbolFetcher()
    client = registry.build_client("kucoin", fetcher.overrides)
    assert client.base_urls == {"kucoin": KUCOIN, "kucoin_futures": KUCOIN_FUTURES}
    assert registry.build_client("mexc").base_urls == {"mexc": MEXC, "mexc_futures": MEXC_FUTURES}


def test_module_imports_no_django():
    source = Path(symbols.__file__).read_text()
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "django" in line]
