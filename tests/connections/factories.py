"""Small builders for connection tests (plain functions, no factory library needed)."""

from __future__ import annotations

import itertools

from connections import services

_counter = itertools.count(1)


# Realistic-looking but fake credentials, unique per call.
def mexc_key() -> str:
    return f"mx0vgl{next(_counter):012d}"


MEXC_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
KUCOIN_SECRET = "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3"


def kucoin_key() -> str:
    return f"6705f5c311545b{next(_counter):010d}"


def make_connection(owner, *, exchange="mexc", market="spot", name=None, **overrides):
    n = next(_counter)
    if exchange == "kucoin":
        defaults = {
            "api_key": kucoin_key(),
            "api_secret": KUCOIN_SECRET,
            "passphrase": "pass phrase 1",
        }
    elif exchange == "demo":
        defaults = {"api_key": f"demo-key-{n}", "api_secret": "demo-secret"}
    else:
        defaults = {
            "api_key": mexc_key(),
            "api_secret": MEXC_SECRET,
            "withdrawal_off_confirmed": True,
        }
    defaults.update(overrides)
    return services.connection_create(
        owner=owner,
        name=name or f"{exchange.upper()} {market} {n}",
        exchange=exchange,
        market=market,
        **defaults,
    )
