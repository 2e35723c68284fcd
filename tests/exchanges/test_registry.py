"""The registry of exchanges and the demo exchange."""

from __future__ import annotations

import json

import pytest

from connections.exchanges import registry
from connections.exchanges.base import (
    Category,
    CheckName,
    Credentials,
    ExchangeClient,
    Market,
    Outcome,
)
from connections.exchanges.demo import DemoClient
from connections.exchanges.kucoin import KucoinClient
from connections.exchanges.mexc import MexcClient

from .conftest import KUCOIN_KEY, KUCOIN_PASSPHRASE, KUCOIN_SECRET, MEXC_KEY, MEXC_SECRET, FakeClock


def test_lookup_by_slug():
    spec = registry.get("kucoin")
    assert spec.label == "KuCoin"
    assert spec.needs_passphrase is True
    assert spec.markets == (Market.SPOT, Market.FUTURES)
    assert registry.get("mexc").needs_passphrase is False


def test_unknown_slug_raises_a_clear_error():
    with pytest.raises(registry.UnknownExchange, match="unknown exchange 'nosuchexchange'"):
        registry.get("nosuchexchange")
    with pytest.raises(KeyError):
        registry.get("nosuchexchange")


def test_demo_is_listed_only_on_request():
    assert registry.choices() == [("mexc", "MEXC"), ("kucoin", "KuCoin"), ("binance", "Binance")]
    assert [s.slug for s in registry.all_specs(include_demo=True)] == [
        "mexc",
        "kucoin",
        "binance",
        "demo",
    ]
    assert registry.get("demo").is_demo is True


def test_mexc_futures_orders_are_closed_via_api():
    mexc = registry.get("mexc")
    assert mexc.futures_orders_via_api is False
    assert mexc.spot_orders_via_api is True
    assert registry.get("kucoin").futures_orders_via_api is True


def test_what_each_exchange_can_verify():
    assert CheckName.WITHDRAWAL not in registry.get("mexc").verifies
    assert CheckName.IP_RESTRICTION not in registry.get("mexc").verifies
    assert {CheckName.WITHDRAWAL, CheckName.IP_RESTRICTION} <= registry.get("kucoin").verifies
    assert CheckName.KEY_EXPIRY not in registry.get("kucoin").verifies


@pytest.mark.parametrize(
    ("slug", "cls"), [("mexc", MexcClient), ("kucoin", KucoinClient), ("demo", DemoClient)]
)
def test_build_client(slug, cls):
    client = registry.build_client(slug, {"mexc": "http://127.0.0.1:1"}, budget=5, read_timeout=2)
    assert isinstance(client, cls)
    assert isinstance(client, ExchangeClient)


def test_build_client_passes_urls_and_timeouts():
    client = registry.build_client(
        "mexc",
        {"mexc": "http://127.0.0.1:8000/", "kucoin": "http://x"},
        connect_timeout=1,
        read_timeout=2,
        budget=3,
    )
    assert client.base_urls == {
        "mexc": "http://127.0.0.1:8000",
        "mexc_futures": "https://contract.mexc.com",
    }
    assert (client.connect_timeout, client.read_timeout, client.budget) == (1, 2, 3)


def test_rate_limits_give_a_schedule():
    # MEXC's account read allows 2 per second (exchanges.md §3.5/§3.8).
    assert registry.get("mexc").tests_per_second() == 2
    # KuCoin key info weighs 20 in a 2000 / 30 s pool (§2.8).
    assert registry.get("kucoin").tests_per_second("uid") == pytest.approx(2000 / 20 / 30)
    assert registry.get("demo").tests_per_second() == float("inf")


@pytest.mark.parametrize(
    ("slug", "key", "secret", "passphrase"),
    [
        ("mexc", MEXC_KEY, MEXC_SECRET, ""),
        ("mexc", "mx0vgldJMn0c8ATpmD", "208c9eea4ae040faad16c283b4064ade", ""),
        ("kucoin", KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE),
        ("kucoin", "260b52d1a4c8713db6025160", "2142051e-5bda-4d4e-a3c6-a82395c66f80", "p4ss"),
        ("demo", "demo-alice", "anything", ""),
    ],
)
def test_real_looking_credentials_pass_validation(slug, key, secret, passphrase):
    assert registry.get(slug).validate(key, secret, passphrase) == {}


@pytest.mark.parametrize(
    ("slug", "key", "secret", "passphrase", "errors"),
    [
        ("mexc", "", MEXC_SECRET, "", {"api_key": "required"}),
        ("mexc", "mx0aBYs33e IilxBWC5", MEXC_SECRET, "", {"api_key": "malformed"}),
        ("mexc", KUCOIN_KEY, MEXC_SECRET, "", {"api_key": "malformed"}),
        ("mexc", MEXC_KEY, MEXC_SECRET[:20], "", {"api_secret": "malformed"}),
        ("kucoin", KUCOIN_KEY, KUCOIN_SECRET, "", {"passphrase": "required"}),
        ("kucoin", KUCOIN_KEY, KUCOIN_SECRET, " padded ", {"passphrase": "malformed"}),
        (
            "kucoin",
            MEXC_KEY + "!",
            "short",
            "p",
            {"api_key": "malformed", "api_secret": "malformed"},
        ),
        ("demo", "alice", "x", "", {"api_key": "malformed"}),
    ],
)
def test_malformed_credentials_are_caught(slug, key, secret, passphrase, errors):
    assert registry.get(slug).validate(key, secret, passphrase) == errors


@pytest.mark.parametrize("market", [Market.SPOT, Market.FUTURES])
def test_demo_client_reports_a_healthy_paper_account(market):
    client = registry.build_client("demo", clock=FakeClock())

    report = client.run_checks(Credentials("demo-alice", "secret"), market)

    assert report.verdict == "online"
    assert report.exchange == "demo"
    assert report.clock_skew_ms == 0
    outcomes = {c.name: c.outcome for c in report.checks}
    assert outcomes[CheckName.IP_RESTRICTION] == Outcome.NOT_VERIFIABLE
    assert outcomes[CheckName.KEY_EXPIRY] == Outcome.NOT_VERIFIABLE
    assert outcomes[CheckName.WITHDRAWAL] == Outcome.OK
    if market == Market.SPOT:
        assert str(report.free_balance("USDT")) == "10000"
        assert str(report.free_balance("BTC")) == "0.25"
        assert outcomes[CheckName.FUTURES_PERMISSION] == Outcome.SKIPPED
    else:
        assert report.balances == [{"asset": "USDT", "equity": "10000", "available": "10000"}]
        assert outcomes[CheckName.FUTURES_PERMISSION] == Outcome.OK
    # Deterministic: the same clock gives the same report.
    again = registry.build_client("demo", clock=FakeClock()).run_checks(
        Credentials("demo-alice", "secret"), market
    )
    assert json.dumps(again.to_dict()) == json.dumps(report.to_dict())


def test_demo_client_rejects_non_demo_keys():
    report = DemoClient(clock=FakeClock()).run_checks(Credentials("real-key", "s"), Market.SPOT)

    assert report.verdict == "failed"
    assert report.category == Category.INVALID_KEY
