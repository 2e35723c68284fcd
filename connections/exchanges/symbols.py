"""Which pairs each exchange lets us trade over its API, from its public market endpoints.

Plain Python over `requests`: no Django, no credentials, explicit (connect, read) timeouts on
every call. Each exchange module reads its own lists (`ExchangeAPI.pairs`) through the one
fetcher here, which returns a sorted tuple of `BASE/QUOTE` pairs; anything unexpected raises
`SymbolListUnavailable` (temporary: the caller keeps the previous list and retries later)
rather than returning a partial or empty list that would make every pair look untradable.

Sources of MEXC and KuCoin (response shapes, stored as test fixtures in
tests/connections/fixtures/); the other exchanges name theirs in their modules:
- MEXC spot `GET /api/v3/defaultSymbols` -> `{"code": 200, "data": ["GENE1USDT", ...],
  "msg": null}`: the symbols that may be traded over the API (mexcdevelop.github.io/apidocs
  spot_v3_en "API default symbol"; mexc.com/api-docs/spot-v3/market-data-endpoints
  #api-default-symbol). The symbols carry no separator, so `GET /api/v3/exchangeInfo` splits
  them: `symbols[]` with `baseAsset`, `quoteAsset`, `status` ("1" online, "2" pause,
  "3" offline; older docs "ENABLED"), `isSpotTradingAllowed` ("allow api spot trading") and
  `tradeSideType` ("1" all, "2" buy only, "3" sell only, "4" close) (same docs, "Exchange
  Information"). A pair counts when both endpoints agree; if
  defaultSymbols is down, `isSpotTradingAllowed` alone decides (the documented fallback).
- MEXC futures `GET /api/v1/contract/detail` -> `{"success": true, "code": 0, "data": [{
  "symbol": "BTC_USDT", "baseCoin", "quoteCoin", "state" (0 enabled, 1 delivery, 2 completed,
  3 offline, 4 pause), "apiAllowed" ("whether support api", added 2022-07-07)}]}`
  (mexcdevelop apidocs contract_v1_en "Get the contract information"; exchanges.md §3.4).
- KuCoin spot `GET /api/v2/symbols` -> `{"code": "200000", "data": [{"symbol": "BTC-USDT",
  "baseCurrency", "quoteCurrency", "enableTrading"}]}` (docs.kucoin.com "Get Symbols List").
- KuCoin futures `GET /api/v1/contracts/active` -> `{"code": "200000", "data": [{"symbol":
  "XBTUSDTM", "type": "FFWCSX", "baseCurrency": "XBT", "quoteCurrency": "USDT",
  "status": "Open"}]}` (KuCoin futures docs "Get Open Contract List"; CCXT kucoinfutures
  fetchMarkets). KuCoin writes Bitcoin as XBT on futures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from . import registry
from .base import Market
from .http import USER_AGENT, safe_where
from .pairs import ASSET_ALIASES, SymbolListUnavailable, normalise_pair

__all__ = [
    "ASSET_ALIASES",
    "DEMO_PAIRS",
    "SymbolFetcher",
    "SymbolListUnavailable",
    "fetch_symbols",
    "normalise_pair",
]

# The demo exchange trades a fixed paper list and never calls the network.
DEMO_PAIRS: tuple[str, ...] = (
    "ADA/USDT",
    "BNB/USDT",
    "BTC/USDT",
    "DOGE/USDT",
    "ETH/USDT",
    "LTC/USDT",
    "SOL/USDT",
    "XRP/USDT",
)


class SymbolFetcher:
    """Fetches the API-tradable pairs of one exchange and market."""

    def __init__(
        self,
        base_urls: Mapping[str, str] | None = None,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 20,
        session: requests.Session | None = None,
    ) -> None:
        self.overrides = dict(base_urls or {})
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.session = session or requests.Session()

    def fetch(self, exchange: str, market: Market | str) -> tuple[str, ...]:
        market = Market(market)
        if exchange == "demo":
            return DEMO_PAIRS
        spec = registry.get(exchange)
        if market not in spec.markets:
            raise ValueError(f"no symbol list for {exchange}/{market}")
        # The exchange's own client, for its configured base URLs (the public lists live on
        # the same hosts as the test's endpoints).
        client = spec.build_client(self.overrides, session=self.session)
        pairs = tuple(sorted(set(client.pairs(self.get, market))))
        if not pairs:
            # A real exchange always lists something; an empty list is a broken answer.
            raise SymbolListUnavailable(f"{exchange}/{market}: the exchange listed no pairs")
        return pairs

    def get(self, url: str) -> Any:
        """Public JSON from `url`, or SymbolListUnavailable."""
        where = safe_where(url)
        try:
            response = self.session.get(
                url,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise SymbolListUnavailable(f"{type(exc).__name__} on GET {where}") from None
        if response.status_code != 200:
            raise SymbolListUnavailable(f"HTTP {response.status_code} from GET {where}")
        try:
            return response.json()
        except (ValueError, RecursionError):
            raise SymbolListUnavailable(f"GET {where}: the answer is not JSON") from None


def fetch_symbols(
    exchange: str,
    market: Market | str,
    base_urls: Mapping[str, str] | None = None,
    **options: Any,
) -> tuple[str, ...]:
    """The sorted `BASE/QUOTE` pairs `exchange` lets us trade over its API on `market`.

    The live lists: a demo connection's strategy is checked against the same pairs."""
    return SymbolFetcher(base_urls, **options).fetch(exchange, market)
