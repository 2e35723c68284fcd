from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from connections.exchanges.base import Credentials

FIXTURES = Path(__file__).parent / "fixtures"

# MEXC's documentation key material (mexc-docs "SIGNED Endpoint Examples", exchanges.md §3.3).
MEXC_KEY = "mx0aBYs33eIilxBWC5"
MEXC_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
# KuCoin: the key from the spec example (§2.4); secret and passphrase made up, distinctive so
# a leak into any output would be found by a substring search.
KUCOIN_KEY = "6705f5c311545b000157d3eb"
KUCOIN_SECRET = "c0ffee00-5ec2-4e7a-9b1d-0123456789ab"
KUCOIN_PASSPHRASE = "Sup3r-Secret passphrase!"

# A moment for the fake clock; the exchange time payloads are set to match it.
NOW = 1_718_000_000.0
NOW_MS = 1_718_000_000_000


def outcomes(report) -> dict[str, tuple[str, str]]:
    """Check name → (outcome, code) of every check in a report."""
    return {c.name.value: (c.outcome.value, c.code) for c in report.checks}


def load(name: str) -> Any:
    """The exchange payload stored in fixtures/<name>.json (its source is in `_source`)."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text())["body"])


class FakeClock:
    """A thread-safe clock that stands still unless told to move on each reading."""

    def __init__(self, start: float = NOW, step: float = 0.0) -> None:
        self.now = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            value = self.now
            self.now += self.step
            return value


# Our server could not reach the exchange (issue 19 #5).
# What requests raises for each, as urllib3 2 builds it: the cause sits in MaxRetryError.reason
# and, below it, in the exception chain (`raise NewConnectionError(...) from OSError`).


def _no_connection(error: Exception) -> requests.exceptions.ConnectionError:
    from urllib3.exceptions import MaxRetryError

    return requests.exceptions.ConnectionError(MaxRetryError(None, "/api/v3/time", error))


def dns_failure() -> Exception:
    import socket

    from urllib3.exceptions import NameResolutionError

    try:
        raise socket.gaierror(-2, "Name or service not known")
    except socket.gaierror as cause:
        try:
            raise NameResolutionError("api.mexc.com", None, cause) from cause
        except NameResolutionError as error:
            return _no_connection(error)


def connection_refused() -> Exception:
    from urllib3.exceptions import NewConnectionError

    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as cause:
        try:
            raise NewConnectionError(None, "Failed to establish a new connection") from cause
        except NewConnectionError as error:
            return _no_connection(error)


@pytest.fixture
def rsps(no_internet):
    """The autouse `responses` mock of tests/conftest.py: unregistered calls fail."""
    return no_internet


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def mexc_credentials() -> Credentials:
    return Credentials(MEXC_KEY, MEXC_SECRET)


@pytest.fixture
def kucoin_credentials() -> Credentials:
    return Credentials(KUCOIN_KEY, KUCOIN_SECRET, KUCOIN_PASSPHRASE)


def record_rounds(monkeypatch) -> list[list[str]]:
    """Record the call names of every `Transport.send_all` (one list per round, in the order
    the rounds went out): what a test sent together and what one after another."""
    from connections.exchanges.http import Transport

    sent: list[list[str]] = []
    original = Transport.send_all

    def send_all(self, calls):
        calls = list(calls)
        sent.append([call.name for call in calls])
        return original(self, calls)

    monkeypatch.setattr(Transport, "send_all", send_all)
    return sent


@pytest.fixture
def rounds(monkeypatch) -> list[list[str]]:
    return record_rounds(monkeypatch)
