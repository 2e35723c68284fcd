"""Review of the eight new exchanges: answers no exchange should send.

JSON nested deeper than the parser's stack raised RecursionError (not ValueError) in the
worker: the test crashed instead of retrying, and the connection stayed `testing` until the
reaper. A body of any size was read whole into memory. Both must be a temporary error.
"""

from __future__ import annotations

import pytest
import responses

from connections.exchanges.base import Category, Market, TemporaryExchangeError
from connections.exchanges.coinbase import CoinbaseClient
from connections.exchanges.http import MAX_ANSWER_BYTES
from connections.exchanges.mexc import MexcClient

from .conftest import NOW_MS, FakeClock, load

TIME_URL = "https://api.mexc.com/api/v3/time"
NESTED = ["[" * 100_000, '{"serverTime": ' + "[" * 5000 + "]" * 5000 + "}"]


def mexc_time():
    body = load("mexc_time")
    body["serverTime"] = NOW_MS
    return body


def run_mexc(credentials):
    return MexcClient(clock=FakeClock()).run_checks(credentials, Market.SPOT)


@pytest.mark.parametrize("body", NESTED, ids=["unclosed", "closed"])
def test_deeply_nested_json_from_the_time_call_is_temporary(rsps, mexc_credentials, body):
    rsps.add(responses.GET, TIME_URL, body=body)
    with pytest.raises(TemporaryExchangeError) as excinfo:
        run_mexc(mexc_credentials)
    assert excinfo.value.category == Category.EXCHANGE_UNAVAILABLE


@pytest.mark.parametrize("body", NESTED, ids=["unclosed", "closed"])
def test_deeply_nested_json_from_a_signed_call_is_temporary(rsps, mexc_credentials, body):
    rsps.add(responses.GET, TIME_URL, json=mexc_time())
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", body=body)
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})
    with pytest.raises(TemporaryExchangeError):
        run_mexc(mexc_credentials)


def test_an_oversized_answer_is_temporary_and_not_kept(rsps, mexc_credentials):
    huge = '{"serverTime": ' + str(NOW_MS) + ', "pad": "' + "x" * (MAX_ANSWER_BYTES + 10) + '"}'
    rsps.add(responses.GET, TIME_URL, body=huge)
    with pytest.raises(TemporaryExchangeError, match="larger than"):
        run_mexc(mexc_credentials)


def test_an_answer_below_the_limit_is_read_as_before(rsps, mexc_credentials):
    rsps.add(responses.GET, TIME_URL, json={**mexc_time(), "pad": "x" * 100_000})
    rsps.add(responses.GET, "https://api.mexc.com/api/v3/account", body="{nope")
    rsps.add(responses.POST, "https://api.mexc.com/api/v3/order/test", json={})
    # Past the time call (its answer was read), then the garbled account answer: temporary.
    with pytest.raises(TemporaryExchangeError, match="malformed"):
        run_mexc(mexc_credentials)


def test_nested_json_in_coinbases_time_answer_is_temporary(rsps):
    from connections.exchanges.base import Credentials
    from tests.exchanges.test_coinbase import SDK_EC_PEM, SDK_KEY_NAME

    rsps.add(responses.GET, "https://api.coinbase.com/api/v3/brokerage/time", body="[" * 50_000)
    with pytest.raises(TemporaryExchangeError):
        CoinbaseClient(clock=FakeClock()).run_checks(
            Credentials(SDK_KEY_NAME, SDK_EC_PEM), Market.SPOT
        )
