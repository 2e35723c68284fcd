"""Endpoints only ccxt calls on its way to `fetch_balance()` (the peer benchmark,
`benchmarks/peer.py`): markets, currencies, tickers, account modes and the like.

Kept apart from the exchange modules so the product's tests never depend on them: a
simulator has them only after `install(sim)`. The answers are minimal but valid, in each
exchange's documented envelope, and mostly empty lists: enough for ccxt to load its markets
and read the balance, and counted like any other request (log, statistics, rate pools).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import bybit
from .base import SimKey, SimRequest, SimResponse, json_response, plain

if TYPE_CHECKING:
    from .core import ExchangeSimulator

Handler = Callable[[SimRequest, SimKey | None], SimResponse]
# A handler that extends a route the exchange module already has: None lets the module's
# own handler answer (e.g. ccxt asks for more instrument categories than the product).
Extension = Callable[[SimRequest, SimKey | None], SimResponse | None]


def _fixed(payload: Any) -> Handler:
    return lambda request, key: json_response(200, payload)


# role -> (method, path, handler, signed, pool, weight)
_ROUTES: dict[str, list[tuple[str, str, Handler, bool, str, int]]] = {}
# role -> (method, path, extension)
_EXTENSIONS: dict[str, list[tuple[str, str, Extension]]] = {}


def _extend(role: str, method: str, path: str, extension: Extension) -> None:
    _EXTENSIONS.setdefault(role, []).append((method, path, extension))


def _balances(key: SimKey | None) -> list[tuple[str, Decimal, Decimal]]:
    assert key is not None
    return [(asset, free, locked) for asset, (free, locked) in key.balances.items()]


def _route(
    role: str,
    method: str,
    path: str,
    handler: Handler,
    *,
    signed: bool = False,
    pool: str,
    weight: int = 1,
) -> None:
    _ROUTES.setdefault(role, []).append((method, path, handler, signed, pool, weight))


# --- MEXC ----------------------------------------------------------------------------------
# GET /api/v3/capital/config/getall (spot v3 "Query the currency information", signed): a
# list of coins with their networks.
_route(
    "mexc",
    "GET",
    "/api/v3/capital/config/getall",
    _fixed(
        [
            {"coin": coin, "name": name, "networkList": []}
            for coin, name in (("USDT", "Tether"), ("BTC", "Bitcoin"), ("ETH", "Ethereum"))
        ]
    ),
    signed=True,
    pool="spot",
)

# --- KuCoin --------------------------------------------------------------------------------
# GET /api/ua/v1/account/mode (docs-new "Get Account Mode", signed): classic or unified.
_route(
    "kucoin",
    "GET",
    "/api/ua/v1/account/mode",
    _fixed({"code": "200000", "data": {"selfAccountMode": "CLASSIC"}}),
    signed=True,
    pool="management",
)
# GET /api/v3/currencies (docs-new "Get All Currencies"): coins with their chains.
_route(
    "kucoin",
    "GET",
    "/api/v3/currencies",
    _fixed(
        {
            "code": "200000",
            "data": [
                {
                    "currency": coin,
                    "name": coin,
                    "fullName": name,
                    "precision": 8,
                    "confirms": None,
                    "contractAddress": None,
                    "isMarginEnabled": True,
                    "isDebitEnabled": True,
                    "chains": [],
                }
                for coin, name in (("USDT", "Tether"), ("BTC", "Bitcoin"), ("ETH", "Ethereum"))
            ],
        }
    ),
    pool="public",
)
# GET /api/v1/market/allTickers (docs-new "Get All Tickers"): ccxt reads the fee rates.
_route(
    "kucoin",
    "GET",
    "/api/v1/market/allTickers",
    _fixed({"code": "200000", "data": {"time": 0, "ticker": []}}),
    pool="public",
)

# GET /api/v3/margin/symbols (cross margin symbols, signed) and GET /api/v1/isolated/symbols
# (isolated margin symbols, signed): ccxt marks which spot markets are marginable.
_route(
    "kucoin",
    "GET",
    "/api/v3/margin/symbols",
    _fixed({"code": "200000", "data": {"timestamp": 0, "items": []}}),
    signed=True,
    pool="spot",
)
_route(
    "kucoin",
    "GET",
    "/api/v1/isolated/symbols",
    _fixed({"code": "200000", "data": []}),
    signed=True,
    pool="spot",
)
# GET /api/v1/hf/accounts/opened (docs-new "Get Account Type - Spot", signed): whether the
# account trades through the high-frequency account.
_route(
    "kucoin",
    "GET",
    "/api/v1/hf/accounts/opened",
    _fixed({"code": "200000", "data": False}),
    signed=True,
    pool="management",
)

# --- Binance -------------------------------------------------------------------------------
# GET /sapi/v1/capital/config/getall (wallet "All Coins' Information", signed, weight 10).
_route(
    "binance",
    "GET",
    "/sapi/v1/capital/config/getall",
    _fixed(
        [
            {
                "coin": coin,
                "name": name,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "free": "0",
                "locked": "0",
                "trading": True,
                "networkList": [],
            }
            for coin, name in (("USDT", "TetherUS"), ("BTC", "Bitcoin"), ("ETH", "Ethereum"))
        ]
    ),
    signed=True,
    pool="sapi",
    weight=10,
)
# GET /sapi/v1/margin/allPairs and /sapi/v1/margin/isolated/allPairs (margin "Get All
# Cross Margin Pairs" weight 1, "Get All Isolated Margin Symbol" weight 10, signed): lists.
_route("binance", "GET", "/sapi/v1/margin/allPairs", _fixed([]), signed=True, pool="sapi")
_route(
    "binance",
    "GET",
    "/sapi/v1/margin/isolated/allPairs",
    _fixed([]),
    signed=True,
    pool="sapi",
    weight=10,
)
# GET /dapi/v1/exchangeInfo (COIN-M futures "Exchange Information"); the simulator serves
# USDⓈ-M only, so no COIN-M contract is listed.
_route(
    "binance_futures",
    "GET",
    "/dapi/v1/exchangeInfo",
    _fixed(
        {
            "timezone": "UTC",
            "serverTime": 0,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [],
        }
    ),
    pool="futures",
)


def _binance_futures_account(request: SimRequest, key: SimKey | None) -> SimResponse:
    assets = [
        {
            "asset": asset,
            "walletBalance": plain(free + locked),
            "unrealizedProfit": "0",
            "marginBalance": plain(free + locked),
            "maintMargin": "0",
            "initialMargin": plain(locked),
            "positionInitialMargin": "0",
            "openOrderInitialMargin": plain(locked),
            "crossWalletBalance": plain(free + locked),
            "crossUnPnl": "0",
            "availableBalance": plain(free),
            "maxWithdrawAmount": plain(free),
            # ccxt skips assets whose updateTime is 0 (never initialised).
            "updateTime": int(time.time() * 1000),
        }
        for asset, free, locked in _balances(key)
    ]
    return json_response(200, {"totalWalletBalance": "0", "assets": assets, "positions": []})


# GET /fapi/v3/account (USDⓈ-M "Account Information V3", signed, weight 5): what ccxt reads
# for a swap balance (the product reads /fapi/v3/balance).
_route(
    "binance_futures",
    "GET",
    "/fapi/v3/account",
    _binance_futures_account,
    signed=True,
    pool="futures",
    weight=5,
)


# --- Bybit ---------------------------------------------------------------------------------
def _bybit(result: Any) -> SimResponse:
    return json_response(
        200, {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 0}
    )


# GET /v5/asset/coin/query-info (asset "Get Coin Info", signed): coins and their chains.
_route(
    "bybit",
    "GET",
    "/v5/asset/coin/query-info",
    lambda request, key: _bybit(
        {
            "rows": [
                {"name": coin, "coin": coin, "remainAmount": "0", "chains": []}
                for coin in ("USDT", "BTC", "ETH")
            ]
        }
    ),
    signed=True,
    pool="account",
)


def _bybit_instruments(request: SimRequest, key: SimKey | None) -> SimResponse | None:
    # The simulator lists spot and linear; inverse and option contracts: none.
    category = request.params.get("category")
    if category in ("inverse", "option"):
        return _bybit({"category": category, "list": [], "nextPageCursor": ""})
    limit = request.params.get("limit")
    if category == "linear" and limit and limit.isdigit():
        # ccxt asks for pages of 1000 (instrument.mdx `limit`, up to 1000): the whole list
        # in one answer, where the module's small pages would add calls no real Bybit
        # answer needs.
        status = request.params.get("status") or "Trading"
        rows = [row for row in bybit.LINEAR_INSTRUMENTS if row["status"] == status]
        start = int(request.params.get("cursor") or 0)
        end = start + int(limit)
        cursor = str(end) if end < len(rows) else ""
        return _bybit({"category": "linear", "list": rows[start:end], "nextPageCursor": cursor})
    return None


_extend("bybit", "GET", "/v5/market/instruments-info", _bybit_instruments)


def _bybit_wallet(request: SimRequest, key: SimKey | None) -> SimResponse:
    coins = [
        {
            "coin": asset,
            "equity": plain(free + locked),
            "walletBalance": plain(free + locked),
            "locked": plain(locked),
            "availableToWithdraw": plain(free),
            "usdValue": "",
            "unrealisedPnl": "0",
            "cumRealisedPnl": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "totalPositionMM": "0",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "spotBorrow": "0",
        }
        for asset, free, locked in _balances(key)
    ]
    account = {
        "accountType": request.params.get("accountType", "UNIFIED"),
        "totalEquity": "",
        "totalWalletBalance": "",
        "totalAvailableBalance": "",
        "totalMarginBalance": "",
        "totalInitialMargin": "",
        "totalMaintenanceMargin": "",
        "accountIMRate": "",
        "accountMMRate": "",
        "coin": coins,
    }
    return _bybit({"list": [account]})


# GET /v5/account/wallet-balance (account "Get Wallet Balance", signed).
_route("bybit", "GET", "/v5/account/wallet-balance", _bybit_wallet, signed=True, pool="account")


# --- Bitget --------------------------------------------------------------------------------
def _bitget(data: Any) -> SimResponse:
    now = int(time.time() * 1000)
    return json_response(200, {"code": "00000", "msg": "success", "requestTime": now, "data": data})


# GET /api/v2/spot/public/coins (spot "Get Coin Info"): coins and their chains.
_route(
    "bitget",
    "GET",
    "/api/v2/spot/public/coins",
    lambda request, key: _bitget(
        [
            {"coinId": str(index), "coin": coin, "transfer": "true", "chains": []}
            for index, coin in enumerate(("USDT", "BTC", "ETH"), start=1)
        ]
    ),
    pool="public",
)
# GET /api/v2/margin/currencies (margin "Get Support Currencies"): marginable pairs, none.
_route("bitget", "GET", "/api/v2/margin/currencies", lambda r, k: _bitget([]), pool="public")

# --- HTX -----------------------------------------------------------------------------------
# GET /v2/reference/currencies (spot "Get all Supported Currencies v2"): coins and chains.
_route(
    "htx",
    "GET",
    "/v2/reference/currencies",
    _fixed(
        {
            "code": 200,
            "data": [
                {"currency": coin, "assetType": 1, "chains": [], "instStatus": "normal"}
                for coin in ("usdt", "btc", "eth")
            ],
        }
    ),
    pool="public",
)
# GET /swap-api/v1/swap_contract_info (coin-margined swaps) and GET
# /api/v1/contract_contract_info (coin-margined futures): one contract each (ccxt refuses an
# empty list), shapes of the htx-docs examples.
_HTX_INVERSE = {
    "symbol": "BTC",
    "contract_size": 100,
    "price_tick": 0.1,
    "create_date": "20200325",
    "contract_status": 1,
    "settlement_date": "1764230400000",
}


def _htx_contracts(*rows: dict[str, Any]) -> Handler:
    return lambda request, key: json_response(
        200, {"status": "ok", "data": list(rows), "ts": int(time.time() * 1000)}
    )


_route(
    "htx_futures",
    "GET",
    "/swap-api/v1/swap_contract_info",
    _htx_contracts({**_HTX_INVERSE, "contract_code": "BTC-USD", "delivery_date": ""}),
    pool="futures_public",
)
_route(
    "htx_futures",
    "GET",
    "/api/v1/contract_contract_info",
    _htx_contracts(
        {
            **_HTX_INVERSE,
            "contract_code": "BTC261225",
            "contract_type": "quarter",
            "delivery_date": "20261225",
            "delivery_time": "1798185600000",  # 25 Dec 2026 08:00 UTC
        }
    ),
    pool="futures_public",
)


# --- OKX -----------------------------------------------------------------------------------
def _okx(data: list[Any]) -> SimResponse:
    return json_response(200, {"code": "0", "msg": "", "data": data})


# GET /api/v5/asset/currencies (funding "Get currencies", signed): a row per coin and chain.
_route(
    "okx",
    "GET",
    "/api/v5/asset/currencies",
    lambda request, key: _okx(
        [
            {
                "ccy": coin,
                "chain": f"{coin}-{chain}",
                "name": coin,
                "canDep": True,
                "canWd": True,
                "canInternal": True,
                "minWd": "1",
                "wdTickSz": "8",
            }
            for coin, chain in (("USDT", "TRC20"), ("BTC", "Bitcoin"), ("ETH", "ERC20"))
        ]
    ),
    signed=True,
    pool="config",
)


def _okx_instruments(request: SimRequest, key: SimKey | None) -> SimResponse | None:
    # The simulator lists spot and swaps; dated futures and options: none.
    if request.params.get("instType") in ("FUTURES", "OPTION"):
        return _okx([])
    return None


_extend("okx", "GET", "/api/v5/public/instruments", _okx_instruments)


# --- BingX ---------------------------------------------------------------------------------
def _bingx(data: Any) -> SimResponse:
    return json_response(
        200, {"code": 0, "msg": "", "timestamp": int(time.time() * 1000), "data": data}
    )


# GET /openApi/wallets/v1/capital/config/getall (wallet "All Coins' Information", signed).
_route(
    "bingx",
    "GET",
    "/openApi/wallets/v1/capital/config/getall",
    lambda request, key: _bingx(
        [{"coin": coin, "name": coin, "networkList": []} for coin in ("USDT", "BTC", "ETH")]
    ),
    signed=True,
    pool="account",
)
# GET /openApi/cswap/v1/market/contracts (coin-margined perpetuals "Contract Information"):
# the simulator lists none.
_route(
    "bingx",
    "GET",
    "/openApi/cswap/v1/market/contracts",
    lambda request, key: _bingx([]),
    pool="market",
)

# --- Coinbase ------------------------------------------------------------------------------
# GET /v2/currencies (Sign in with Coinbase "Get fiat currencies"): fiat, public.
_route(
    "coinbase",
    "GET",
    "/v2/currencies",
    _fixed({"data": [{"id": "USD", "name": "US Dollar", "min_size": "0.01"}]}),
    pool="public",
)
# GET /v2/currencies/crypto (the same API's crypto currencies).
_route(
    "coinbase",
    "GET",
    "/v2/currencies/crypto",
    _fixed(
        {
            "data": [
                {
                    "code": code,
                    "name": name,
                    "color": "#000000",
                    "sort_index": index,
                    "exponent": 8,
                    "type": "crypto",
                    "address_regex": ".*",
                }
                for index, (code, name) in enumerate((("BTC", "Bitcoin"), ("ETH", "Ethereum")))
            ]
        }
    ),
    pool="public",
)
# GET /v2/exchange-rates (the same API's "Get exchange rates", public).
_route(
    "coinbase",
    "GET",
    "/v2/exchange-rates",
    _fixed({"data": {"currency": "USD", "rates": {"USD": "1", "BTC": "0.00001", "ETH": "0.0003"}}}),
    pool="public",
)
# GET /api/v3/brokerage/transaction_summary (Advanced Trade "Get Transaction Summary",
# signed): ccxt reads the account's fee tier for its markets.
_route(
    "coinbase",
    "GET",
    "/api/v3/brokerage/transaction_summary",
    _fixed(
        {
            "total_volume": 0,
            "total_fees": 0,
            "fee_tier": {
                "pricing_tier": "Intro 1",
                "usd_from": "0",
                "usd_to": "1000",
                "taker_fee_rate": "0.012",
                "maker_fee_rate": "0.006",
            },
            "margin_rate": None,
            "goods_and_services_tax": None,
            "advanced_trade_only_volume": 0,
            "advanced_trade_only_fees": 0,
            "coinbase_pro_volume": 0,
            "coinbase_pro_fees": 0,
        }
    ),
    signed=True,
    pool="private",
)


def _coinbase_v2_accounts(request: SimRequest, key: SimKey | None) -> SimResponse:
    rows = [
        {
            "id": f"{asset.lower()}-wallet",
            "name": f"{asset} Wallet",
            "primary": index == 0,
            "type": "wallet",
            "currency": {"code": asset, "name": asset},
            "balance": {"amount": plain(free + locked), "currency": asset},
        }
        for index, (asset, free, locked) in enumerate(_balances(key))
    ]
    pagination = {
        "ending_before": None,
        "starting_after": None,
        "limit": 250,
        "order": "desc",
        "previous_uri": None,
        "next_uri": None,
    }
    return json_response(200, {"pagination": pagination, "data": rows})


# GET /v2/accounts (Coinbase App "List accounts", signed): ccxt's default balance call.
_route("coinbase", "GET", "/v2/accounts", _coinbase_v2_accounts, signed=True, pool="private")

# --- Gate ----------------------------------------------------------------------------------
# GET /api/v4/spot/currencies (spot "List all currencies' details"): one row per chain.
_route(
    "gate",
    "GET",
    "/api/v4/spot/currencies",
    _fixed(
        [
            {
                "currency": coin,
                "name": coin,
                "delisted": False,
                "withdraw_disabled": False,
                "withdraw_delayed": False,
                "deposit_disabled": False,
                "trade_disabled": False,
                "chain": chain,
            }
            for coin, chain in (("USDT", "TRX"), ("BTC", "BTC"), ("ETH", "ETH"))
        ]
    ),
    pool="public",
)

# Margin pairs, BTC-settled perpetuals, USDT-settled dated futures and option underlyings
# (spot "List all supported currency pairs supported in margin trading", futures "List all
# futures contracts", delivery "List all futures contracts", options "List all
# underlyings"): the simulator lists none of them (the option contracts, asked per
# underlying, are then not asked at all).
for _path in (
    "/api/v4/margin/currency_pairs",
    "/api/v4/futures/btc/contracts",
    "/api/v4/delivery/usdt/contracts",
    "/api/v4/options/underlyings",
):
    _route("gate", "GET", _path, _fixed([]), pool="public")


def install(sim: ExchangeSimulator) -> None:
    """Give a simulator the ccxt-only routes (before or after `start()`)."""
    for role, routes in _ROUTES.items():
        api = sim._apis[role]
        for method, path, handler, signed, pool, weight in routes:
            if api.match(method, path) is None:
                api.add(method, path, handler, signed=signed, pool=pool, weight=weight)
    for role, extensions in _EXTENSIONS.items():
        api = sim._apis[role]
        for method, path, extension in extensions:
            route = api.routes[(method, path)]
            if getattr(route.handler, "ccxt_extension", None) is extension:
                continue  # installed already
            api.routes[(method, path)] = replace(route, handler=_chain(extension, route.handler))


def _chain(extension: Extension, handler: Handler) -> Handler:
    def chained(request: SimRequest, key: SimKey | None) -> SimResponse:
        response = extension(request, key)
        return handler(request, key) if response is None else response

    chained.ccxt_extension = extension  # type: ignore[attr-defined]
    return chained
