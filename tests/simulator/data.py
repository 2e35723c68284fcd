"""Static market data and plausible key material for the simulator.

Shapes follow the exchanges' documentation (sources next to each block); the values are
ours and deliberately small.
"""

from __future__ import annotations

import base64
import random
import string
import uuid
from typing import Any

# --- MEXC spot: GET /api/v3/exchangeInfo (mexc.com api-docs spot-v3 "Exchange Information",
# Sep 2025 crawl: status "1" = online, isSpotTradingAllowed = "allow api spot trading").
MEXC_SPOT_SYMBOLS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "status": "1",
        "baseAsset": base,
        "baseAssetPrecision": 6,
        "quoteAsset": "USDT",
        "quotePrecision": 2,
        "quoteAssetPrecision": 2,
        "baseCommissionPrecision": 6,
        "quoteCommissionPrecision": 2,
        "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
        "isSpotTradingAllowed": api_allowed,
        "isMarginTradingAllowed": False,
        "quoteAmountPrecision": "1",
        "baseSizePrecision": "0.000001",
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": "2000000",
        "makerCommission": "0",
        "takerCommission": "0.0005",
        "quoteAmountPrecisionMarket": "1",
        "maxQuoteAmountMarket": "100000",
        "fullName": full_name,
        "tradeSideType": "1",
        "st": False,
    }
    for symbol, base, full_name, api_allowed in (
        ("BTCUSDT", "BTC", "Bitcoin", True),
        ("ETHUSDT", "ETH", "Ethereum", True),
        ("MXUSDT", "MX", "MX Token", True),
        ("GENE1USDT", "GENE1", "Gene One", False),
    )
]

# GET /api/v3/defaultSymbols: {"code":200,"data":[...],"msg":null} (mexcdevelop/apidocs
# spot_v3_en "API default symbol"): the symbols that can be traded through the API.
MEXC_DEFAULT_SYMBOLS: list[str] = [
    s["symbol"] for s in MEXC_SPOT_SYMBOLS if s["isSpotTradingAllowed"]
]

# --- MEXC contract: GET /api/v1/contract/detail (contract docs "Get the contract information";
# apiAllowed added 2022-07-07, state 0 = enabled).
MEXC_CONTRACTS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "displayName": f"{symbol} PERPETUAL",
        "displayNameEn": f"{symbol} PERPETUAL",
        "positionOpenType": 3,
        "baseCoin": symbol.split("_")[0],
        "quoteCoin": "USDT",
        "settleCoin": "USDT",
        "contractSize": size,
        "minLeverage": 1,
        "maxLeverage": 125,
        "priceScale": 2,
        "volScale": 0,
        "amountScale": 4,
        "priceUnit": 0.1,
        "volUnit": 1,
        "minVol": 1,
        "maxVol": 5000000,
        "takerFeeRate": 0.0002,
        "makerFeeRate": 0,
        "maintenanceMarginRate": 0.004,
        "initialMarginRate": 0.008,
        "state": 0,
        "isNew": False,
        "isHot": True,
        "isHidden": False,
        "riskLimitType": "BY_VOLUME",
        "apiAllowed": api_allowed,
    }
    for symbol, size, api_allowed in (
        ("BTC_USDT", 0.0001, True),
        ("ETH_USDT", 0.01, True),
        ("SOL_USDT", 0.1, False),
    )
]

# --- KuCoin spot: GET /api/v2/symbols (kucoin-universal-sdk spot market spec "Get All Symbols").
KUCOIN_SYMBOLS: list[dict[str, Any]] = [
    {
        "symbol": f"{base}-USDT",
        "name": f"{base}-USDT",
        "baseCurrency": base,
        "quoteCurrency": "USDT",
        "feeCurrency": "USDT",
        "market": "USDS",
        "baseMinSize": "0.00001",
        "quoteMinSize": "0.1",
        "baseMaxSize": "10000000000",
        "quoteMaxSize": "99999999",
        "baseIncrement": "0.00000001",
        "quoteIncrement": "0.000001",
        "priceIncrement": "0.1",
        "priceLimitRate": "0.1",
        "minFunds": "0.1",
        "isMarginEnabled": True,
        "enableTrading": True,
        "feeCategory": 1,
        "makerFeeCoefficient": "1.00",
        "takerFeeCoefficient": "1.00",
        "st": False,
    }
    for base in ("BTC", "ETH", "KCS")
]

# --- KuCoin futures: GET /api/v1/contracts/active (futures market spec "Get All Symbols").
KUCOIN_CONTRACTS: list[dict[str, Any]] = [
    {
        "symbol": symbol,
        "rootSymbol": "USDT",
        "type": "FFWCSX",
        "baseCurrency": base,
        "quoteCurrency": "USDT",
        "settleCurrency": "USDT",
        "maxOrderQty": 1000000,
        "maxPrice": 1000000.0,
        "lotSize": 1,
        "tickSize": 0.1,
        "multiplier": multiplier,
        "initialMargin": 0.008,
        "maintainMargin": 0.004,
        "makerFeeRate": 0.0002,
        "takerFeeRate": 0.0006,
        "isDeleverage": True,
        "isQuanto": False,
        "isInverse": False,
        "markMethod": "FairPrice",
        "status": "Open",
        "maxLeverage": 125,
        # Perpetuals carry their next funding time (ms until it); futures with an expiry
        # have none (ccxt tells them apart by it).
        "nextFundingRateTime": 14_400_000,
    }
    for symbol, base, multiplier in (
        ("XBTUSDTM", "XBT", 0.001),
        ("ETHUSDTM", "ETH", 0.01),
        ("SOLUSDTM", "SOL", 0.1),
    )
]

DEFAULT_BALANCES: dict[str, str] = {"USDT": "1250.5", "BTC": "0.0125"}

_ALNUM = string.ascii_letters + string.digits


def mexc_api_key(rng: random.Random | None = None) -> str:
    """`mx0` + 15 alphanumerics, like the doc example `mx0aBYs33eIilxBWC5` (§3.3)."""
    rng = rng or random.Random()
    return "mx0" + "".join(rng.choices(_ALNUM, k=15))


def mexc_secret(rng: random.Random | None = None) -> str:
    """32 lowercase hex characters, like `45d0b3c26f2644f19bfb98b07741b2f5` (§3.3)."""
    rng = rng or random.Random()
    return f"{rng.getrandbits(128):032x}"


def kucoin_api_key(rng: random.Random | None = None) -> str:
    """24 hex characters, like `6705f5c311545b000157d3eb` (§2.4)."""
    rng = rng or random.Random()
    return f"{rng.getrandbits(96):024x}"


def kucoin_secret(rng: random.Random | None = None) -> str:
    """KuCoin secrets are UUID4 strings."""
    rng = rng or random.Random()
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def kucoin_passphrase(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    return "pass-" + "".join(rng.choices(_ALNUM, k=10))


def coinbase_key_name(rng: random.Random | None = None) -> str:
    """`organizations/{org_id}/apiKeys/{key_id}` (exchanges-more.md §8.2), UUIDs inside."""
    rng = rng or random.Random()
    org = uuid.UUID(int=rng.getrandbits(128), version=4)
    key = uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"organizations/{org}/apiKeys/{key}"


def coinbase_ec_private_key() -> str:
    """A fresh P-256 key as the CDP portal gives it: SEC1 PEM `BEGIN EC PRIVATE KEY` (§8.2)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def coinbase_ed25519_private_key() -> str:
    """A fresh Ed25519 key in the portal's base64 form: 32-byte seed ‖ 32-byte public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    seed = key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return base64.b64encode(seed + public).decode()


# --- Coinbase: GET /api/v3/brokerage/market/products?product_type=SPOT (cb-sdk
# public.get_public_products; fields of types/product_types.py, trimmed).
COINBASE_PRODUCTS: list[dict[str, Any]] = [
    {
        "product_id": product_id,
        "price": price,
        "base_currency_id": product_id.split("-")[0],
        "quote_currency_id": product_id.split("-")[1],
        "status": status,
        "trading_disabled": disabled,
        "is_disabled": False,
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "view_only": False,
        "product_type": "SPOT",
    }
    for product_id, price, status, disabled in (
        ("BTC-USD", "97000.01", "online", False),
        ("ETH-USDC", "3400.5", "online", False),
        ("BTC-USDT", "97010.2", "online", False),
        ("SOL-EUR", "180.1", "online", True),
        ("OLD-USD", "0.1", "delisted", False),
    )
]


# Fixed demo keys for manual runs and browser tests (`--seed-demo-keys`). They only exist in
# the simulator, so they are test fixtures rather than secrets.
DEMO_KEYS: list[dict[str, Any]] = [
    {
        "label": "mexc healthy",
        "exchange": "mexc",
        "api_key": "mx0demoHealthy0001",
        "secret": "0123456789abcdef0123456789abcdef",
    },
    {
        "label": "mexc read-only (no trade permission)",
        "exchange": "mexc",
        "api_key": "mx0demoReadOnly001",
        "secret": "11111111111111111111111111111111",
        "trade": False,
        "futures": False,
    },
    {
        "label": "mexc IP-restricted to 203.0.113.99",
        "exchange": "mexc",
        "api_key": "mx0demoIpLocked001",
        "secret": "22222222222222222222222222222222",
        "ip_whitelist": ["203.0.113.99"],
    },
    {
        "label": "kucoin healthy",
        "exchange": "kucoin",
        "api_key": "64d0e0aa0000000000000001",
        "secret": "5f1d3c1e-6f2a-4b8e-9c3d-000000000001",
        "passphrase": "demo passphrase",
    },
    {
        "label": "kucoin withdrawal enabled",
        "exchange": "kucoin",
        "api_key": "64d0e0aa0000000000000002",
        "secret": "5f1d3c1e-6f2a-4b8e-9c3d-000000000002",
        "passphrase": "demo passphrase",
        "withdrawal": True,
    },
    {
        "label": "kucoin without futures permission",
        "exchange": "kucoin",
        "api_key": "64d0e0aa0000000000000003",
        "secret": "5f1d3c1e-6f2a-4b8e-9c3d-000000000003",
        "passphrase": "demo passphrase",
        "futures": False,
    },
    {
        "label": "kucoin IP-restricted to 203.0.113.99",
        "exchange": "kucoin",
        "api_key": "64d0e0aa0000000000000004",
        "secret": "5f1d3c1e-6f2a-4b8e-9c3d-000000000004",
        "passphrase": "demo passphrase",
        "ip_whitelist": ["203.0.113.99"],
    },
    # Coinbase: the official SDK's published test keys (coinbase-advanced-py tests/constants.py,
    # exchanges-more.md §8.2), public by design.
    {
        "label": "coinbase healthy (EC P-256 key)",
        "exchange": "coinbase",
        "api_key": "organizations/test-organization/apiKeys/test-api-key",
        "secret": (
            "-----BEGIN EC PRIVATE KEY-----\n"
            "MHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\n"
            "AwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\n"
            "qDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n"
            "-----END EC PRIVATE KEY-----\n"
        ),
    },
    {
        "label": "coinbase Transfer enabled (Ed25519 key)",
        "exchange": "coinbase",
        "api_key": "organizations/test-organization/apiKeys/test-ed25519-key",
        "secret": "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==",
        "withdrawal": True,
    },
]


def binance_api_key(rng: random.Random | None = None) -> str:
    """64 alphanumerics, like the docs' example key `vmPUZE6mv9SD...` (exchanges-more.md §1.2)."""
    rng = rng or random.Random()
    return "".join(rng.choices(_ALNUM, k=64))


def binance_secret(rng: random.Random | None = None) -> str:
    """64 alphanumerics, like the docs' example secret `NhqPtmdSJYdK...` (§1.2)."""
    rng = rng or random.Random()
    return "".join(rng.choices(_ALNUM, k=64))


def _binance_spot_symbol(base: str, quote: str, **changes: Any) -> dict[str, Any]:
    # Field names of GET /api/v3/exchangeInfo (bn-spot-docs rest-api.md "Exchange
    # information"): permissions moved to permissionSets, `permissions` left empty.
    row: dict[str, Any] = {
        "symbol": f"{base}{quote}",
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
    }
    row.update(changes)
    return row


# BTC/ETH/SOL trade; LUNA is in BREAK; a margin-only row and one without spot trading.
BINANCE_SPOT_SYMBOLS: list[dict[str, Any]] = [
    _binance_spot_symbol("BTC", "USDT"),
    _binance_spot_symbol("ETH", "USDT"),
    _binance_spot_symbol("SOL", "USDT"),
    _binance_spot_symbol("ETH", "BTC"),
    _binance_spot_symbol("LUNA", "USDT", status="BREAK"),
    _binance_spot_symbol("XMR", "USDT", isSpotTradingAllowed=False, permissionSets=[["MARGIN"]]),
]


def _binance_contract(base: str, contract_type: str = "PERPETUAL", **changes: Any) -> dict:
    # Field names of GET /fapi/v1/exchangeInfo (bn-sdk market_data_api.py exchange_information).
    suffix = "" if contract_type == "PERPETUAL" else "_261225"
    row: dict[str, Any] = {
        "symbol": f"{base}USDT{suffix}",
        "pair": f"{base}USDT",
        "contractType": contract_type,
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "underlyingType": "COIN",
    }
    row.update(changes)
    return row


BINANCE_CONTRACTS: list[dict[str, Any]] = [
    _binance_contract("BTC"),
    _binance_contract("ETH"),
    _binance_contract("SOL"),
    _binance_contract("BTC", "CURRENT_QUARTER"),
    _binance_contract("FTT", status="SETTLING"),
]
