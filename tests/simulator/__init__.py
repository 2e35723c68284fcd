"""A local exchange simulator (every exchange in `registry.py`) for tests, browser runs and benchmarks.

    with ExchangeSimulator() as sim:
        key = sim.new_key("kucoin", withdrawal=True)
        sim.set_fault("mexc", "maintenance", times=1)
        ...  # point EXCHANGE_URLS at sim.urls / sim.urls_setting()

Run standalone with `python -m tests.simulator --port-base 8900 --seed-demo-keys`.
"""

from __future__ import annotations

from .base import RatePool, SimKey
from .core import AUTH_FAULTS, FAULTS, TRANSPORT_FAULTS, ExchangeSimulator, RequestRecord
from .registry import EXCHANGES, HOST_ROLES

__all__ = [
    "AUTH_FAULTS",
    "EXCHANGES",
    "FAULTS",
    "HOST_ROLES",
    "TRANSPORT_FAULTS",
    "ExchangeSimulator",
    "RatePool",
    "RequestRecord",
    "SimKey",
]
