"""Which pairs each exchange lets us trade over its API, from its public market endpoints.

Plain Python over `requests`: no Django, no credentials, explicit (connect, read) timeouts on
every call. Each fetcher returns a sorted tuple of `BASE/QUOTE` pairs; anything unexpected
raises `SymbolListUnavailable` (temporary: the caller keeps the previous list and retries
later) rather than returning a partial or empty list that would make every pair look untradable.

Sources (response shapes, stored as test fixtures in tests/connections/fixtures/):
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

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests

from .base import Market
from .http import USER_AGENT, safe_where
from .kucoin import KucoinClient
from .mexc import MexcClient

# The same documented hosts the connection-test clients use (one source of truth).
DEFAULT_BASE_URLS: dict[str, str] = {
    **MexcClient.default_base_urls,
    **KucoinClient.default_base_urls,
}

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

# Exchange-specific asset codes for the same coin; we show the common one.
ASSET_ALIASES: Mapping[str, str] = {"XBT": "BTC"}

# KuCoin futures contract type of perpetual swaps ("FFWCSX"); dated futures ("FFICSX")
# expire, which a strategy that keeps a group open until its exit cannot live with.
KUCOIN_PERPETUAL = "FFWCSX"

_ASSET = re.compile(r"[A-Z0-9]{1,20}")


class SymbolListUnavailable(Exception):
    """The exchange's list could not be fetched or read. Temporary: try again later."""


def normalise_pair(base: Any, quote: Any) -> str | None:
    """`BASE/QUOTE` in upper case with aliases applied; None for values that are not assets."""
    if not isinstance(base, str) or not isinstance(quote, str):
        return None
    base, quote = base.strip().upper(), quote.strip().upper()
    base, quote = ASSET_ALIASES.get(base, base), ASSET_ALIASES.get(quote, quote)
    if not _ASSET.fullmatch(base) or not _ASSET.fullmatch(quote):
        return None
    return f"{base}/{quote}"


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
        urls = dict(DEFAULT_BASE_URLS)
        for key in urls:
            override = (base_urls or {}).get(key)
            if override:
                urls[key] = override
        self.base_urls = {key: url.rstrip("/") for key, url in urls.items()}
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.session = session or requests.Session()

    def fetch(self, exchange: str, market: Market | str) -> tuple[str, ...]:
        market = Market(market)
        if exchange == "demo":
            return DEMO_PAIRS
        fetchers: dict[tuple[str, Market], Callable[[], Iterable[str]]] = {
            ("mexc", Market.SPOT): self.mexc_spot,
            ("mexc", Market.FUTURES): self.mexc_futures,
            ("kucoin", Market.SPOT): self.kucoin_spot,
            ("kucoin", Market.FUTURES): self.kucoin_futures,
        }
        try:
            fetcher = fetchers[(exchange, market)]
        except KeyError:
            raise ValueError(f"no symbol list for {exchange}/{market}") from None
        pairs = tuple(sorted(set(fetcher())))
        if not pairs:
            # A real exchange always lists something; an empty list is a broken answer.
            raise SymbolListUnavailable(f"{exchange}/{market}: the exchange listed no pairs")
        return pairs

    # --- transport -------------------------------------------------------------------------

    def _get(self, url: str) -> Any:
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
        except (ValueError, json.JSONDecodeError):
            raise SymbolListUnavailable(f"GET {where}: the answer is not JSON") from None

    @staticmethod
    def _rows(payload: Any, where: str, *, ok: Callable[[dict], bool]) -> list[dict]:
        if not isinstance(payload, dict) or not ok(payload):
            code = payload.get("code") if isinstance(payload, dict) else None
            raise SymbolListUnavailable(f"{where}: error answer (code {code!r})")
        rows = payload.get("data")
        if not isinstance(rows, list):
            raise SymbolListUnavailable(f"{where}: no data list in the answer")
        return [row for row in rows if isinstance(row, dict)]

    # --- MEXC ------------------------------------------------------------------------------

    def mexc_spot(self) -> list[str]:
        base = self.base_urls["mexc"]
        info = self._get(f"{base}/api/v3/exchangeInfo")
        symbols = info.get("symbols") if isinstance(info, dict) else None
        if not isinstance(symbols, list):
            raise SymbolListUnavailable("mexc exchangeInfo: no symbols list in the answer")
        try:
            default = self._get(f"{base}/api/v3/defaultSymbols")
            if not isinstance(default, dict) or not isinstance(default.get("data"), list):
                raise SymbolListUnavailable("mexc defaultSymbols: no data list in the answer")
            api_symbols: set[str] | None = {s for s in default["data"] if isinstance(s, str)}
        except SymbolListUnavailable:
            api_symbols = None
        pairs = []
        for row in symbols:
            if not isinstance(row, dict) or str(row.get("status")) not in {"1", "ENABLED"}:
                continue
            if api_symbols is not None:
                allowed = row.get("symbol") in api_symbols
            else:
                allowed = row.get("isSpotTradingAllowed") is True
            pair = normalise_pair(row.get("baseAsset"), row.get("quoteAsset"))
            # tradeSideType 2/3/4 (buy only, sell only, close only) cannot run a strategy.
            one_sided = str(row.get("tradeSideType", "1")) != "1"
            if allowed and pair and not one_sided:
                pairs.append(pair)
        return pairs

    def mexc_futures(self) -> list[str]:
        payload = self._get(f"{self.base_urls['mexc_futures']}/api/v1/contract/detail")
        rows = self._rows(payload, "mexc contract/detail", ok=lambda p: p.get("success") is True)
        return [
            pair
            for row in rows
            if row.get("apiAllowed") is True
            and row.get("state") == 0
            and (pair := normalise_pair(row.get("baseCoin"), row.get("quoteCoin")))
        ]

    # --- KuCoin ----------------------------------------------------------------------------

    def kucoin_spot(self) -> list[str]:
        payload = self._get(f"{self.base_urls['kucoin']}/api/v2/symbols")
        rows = self._rows(payload, "kucoin symbols", ok=lambda p: p.get("code") == "200000")
        return [
            pair
            for row in rows
            if row.get("enableTrading") is True
            and (pair := normalise_pair(row.get("baseCurrency"), row.get("quoteCurrency")))
        ]

    def kucoin_futures(self) -> list[str]:
        payload = self._get(f"{self.base_urls['kucoin_futures']}/api/v1/contracts/active")
        rows = self._rows(
            payload, "kucoin contracts/active", ok=lambda p: p.get("code") == "200000"
        )
        return [
            pair
            for row in rows
            if row.get("status") == "Open"
            and row.get("type") == KUCOIN_PERPETUAL
            and (pair := normalise_pair(row.get("baseCurrency"), row.get("quoteCurrency")))
        ]


def fetch_symbols(
    exchange: str,
    market: Market | str,
    base_urls: Mapping[str, str] | None = None,
    **options: Any,
) -> tuple[str, ...]:
    """The sorted `BASE/QUOTE` pairs `exchange` lets us trade over its API on `market`."""
    return SymbolFetcher(base_urls, **options).fetch(exchange, market)
