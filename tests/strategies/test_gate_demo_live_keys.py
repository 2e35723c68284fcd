"""Review of the eight new exchanges: a "demo" connection that holds a live key.

The gate lets a demo key's unverifiable withdrawal pass: a demo key holds only demo funds. That
is true where the demo environment has its own keys (Binance, Bybit, OKX, Bitget), not on
BingX, whose VST demo is reached with the account's own live key: a key able to withdraw real
funds must not pass there without the person's confirmation.
"""

from __future__ import annotations

import pytest

from connections.exchanges import registry
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.strategies.factories import make_strategy
from tests.strategies.test_gate import enabled, failed_only, online, refused, symbol_list

pytestmark = pytest.mark.django_db


def test_bingx_demo_uses_live_keys_the_others_do_not():
    assert registry.get("bingx").demo_keys_are_live_keys
    for slug in ("binance", "bybit", "okx", "bitget"):
        assert not registry.get(slug).demo_keys_are_live_keys, slug


def test_unverifiable_withdrawal_of_a_bingx_demo_connection_needs_the_confirmation(alice):
    demo = online(
        make_connection(alice, exchange="bingx", withdrawal_off_confirmed=False, demo=True),
        withdrawal="not_verifiable",
        balances=[{"asset": "USDT", "free": "5000", "locked": "0"}],
    )
    symbol_list("bingx", "spot", ["BTC/USDT"])
    strategy = make_strategy(alice, demo)
    result = refused(strategy, alice)
    assert failed_only(result) == ["withdrawal_disabled"]
    Connection.objects.filter(pk=demo.pk).update(withdrawal_off_confirmed=True)
    enabled(strategy, alice)
