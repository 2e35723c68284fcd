"""The simulated exchanges: one `SimExchange` per simulator module.

Adding an exchange to the simulator: write `tests/simulator/<exchange>.py` with its host
APIs and a `SIM = SimExchange(...)`, then add it to `_ALL` below.
"""

from __future__ import annotations

from . import binance, bingx, bitget, bybit, coinbase, gate, htx, kucoin, mexc, okx
from .base import SimExchange

_ALL: tuple[SimExchange, ...] = (
    mexc.SIM,
    kucoin.SIM,
    binance.SIM,
    bybit.SIM,
    bitget.SIM,
    htx.SIM,
    okx.SIM,
    bingx.SIM,
    coinbase.SIM,
    gate.SIM,
)

SIM_EXCHANGES: dict[str, SimExchange] = {exchange.slug: exchange for exchange in _ALL}
EXCHANGES: tuple[str, ...] = tuple(SIM_EXCHANGES)
# The keys of the EXCHANGE_URLS setting, one listener each.
HOST_ROLES: tuple[str, ...] = tuple(role for exchange in _ALL for role in exchange.hosts)
EXCHANGE_OF_ROLE: dict[str, str] = {
    role: exchange.slug for exchange in _ALL for role in exchange.hosts
}
