"""Types shared by the simulator core and the per-exchange host modules."""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from .core import ExchangeSimulator


class Headers(Protocol):
    def get(self, name: str, default: Any = None) -> Any: ...


@dataclass(repr=False)
class SimKey:
    """One API key known to the simulated exchange. `repr` never shows the secrets."""

    exchange: str
    api_key: str
    secret: str
    passphrase: str | None
    trade: bool = True
    futures: bool = True
    withdrawal: bool = False
    ip_whitelist: tuple[str, ...] | None = None
    key_version: int = 2
    balances: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    uid: int = 0
    created_at_ms: int = 0
    remark: str = "backfuture-sim"
    # When the exchange will stop accepting the key (exchanges that report an expiry).
    expires_at_ms: int | None = None
    # A key of the exchange's demo environment: refused by the live hosts, and vice versa.
    demo: bool = False
    # Exchange-specific traits of the key or its account (account mode, portfolio, ...).
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        masked = f"{self.api_key[:4]}…{self.api_key[-4:]}"
        return (
            f"SimKey({self.exchange}, {masked}, trade={self.trade}, futures={self.futures}, "
            f"withdrawal={self.withdrawal}, ip_whitelist={self.ip_whitelist})"
        )

    __str__ = __repr__

    def ip_allowed(self, ip: str) -> bool:
        if not self.ip_whitelist:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        for entry in self.ip_whitelist:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False


@dataclass
class RatePool:
    """A documented request quota."""

    exchange: str
    name: str
    limit: int
    window_s: float
    # MEXC counts each endpoint separately (§3.8); KuCoin pools are shared by endpoints.
    per_endpoint: bool
    # KuCoin's quota resets 30 s after the first request of a window (docs-new
    # "rate-limit"); MEXC's window is modelled as sliding.
    fixed_window: bool
    enabled: bool = True
    default_limit: int = 0
    default_window_s: float = 0.0

    def __post_init__(self) -> None:
        self.default_limit = self.default_limit or self.limit
        self.default_window_s = self.default_window_s or self.window_s


@dataclass(frozen=True)
class SimExchange:
    """One simulated exchange: its hosts, quotas and key material. One per simulator module,
    listed in `registry.py`."""

    slug: str
    # EXCHANGE_URLS key → the host's API class (demo hosts too, e.g. "bybit_demo").
    hosts: Mapping[str, type[HostAPI]]
    pools: tuple[RatePool, ...]
    # Fresh key material (api_key, secret, passphrase or None) like the exchange issues.
    credentials: Callable[[random.Random], tuple[str, str, str | None]]
    needs_passphrase: bool = False
    # Quota headers an answer carries, from the limiter's decision (KuCoin's gw-ratelimit-*).
    rate_headers: Callable[[Any], list[tuple[str, str]]] | None = None


@dataclass
class SimRequest:
    role: str
    method: str
    target: str  # the raw request target: path and query exactly as sent
    headers: Headers
    body: bytes
    caller_ip: str
    # Quota headers the answer carries (KuCoin's gw-ratelimit-*), set by the rate limiter.
    rate_headers: list[tuple[str, str]] = field(default_factory=list)

    @cached_property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @cached_property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @cached_property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @cached_property
    def body_text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"
    # "reset": close the socket without answering; "short_read": announce the full body
    # length but send only part of it, then close.
    action: str | None = None
    # Seconds to hold the finished answer back (the timeout fault). Recorded and counted
    # before the wait, so a late answer never leaks into later statistics.
    delay_s: float = 0.0


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> SimResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SimResponse(status, body, list((headers or {}).items()))


Handler = Callable[[SimRequest, SimKey | None], SimResponse]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    signed: bool
    pool: str  # the rate-limit pool the request counts against
    weight: int = 1


class HostAPI:
    """One simulated host: its routes, how it authenticates and how it words its errors."""

    exchange: str = ""
    role: str = ""

    def __init__(self, sim: ExchangeSimulator) -> None:
        self.sim = sim
        self.routes: dict[tuple[str, str], Route] = {}
        self.paths: set[str] = set()
        self.register()

    def register(self) -> None:
        raise NotImplementedError

    def add(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        signed: bool = False,
        pool: str,
        weight: int = 1,
    ) -> None:
        self.routes[(method, path)] = Route(method, path, handler, signed, pool, weight)
        self.paths.add(path)

    def match(self, method: str, path: str) -> Route | None:
        return self.routes.get((method, path))

    def now_ms(self) -> int:
        return self.sim.server_time_ms(self.role)

    def key_id(self, request: SimRequest) -> str | None:
        """The API key a request claims, before any verification (for rate limits)."""
        raise NotImplementedError

    def authenticate(self, request: SimRequest) -> SimKey | SimResponse:
        raise NotImplementedError

    def error(self, kind: str, request: SimRequest, **opts: Any) -> SimResponse:
        """The exchange's own answer for a problem kind (a fault name, or not_found etc.)."""
        raise NotImplementedError


HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def html_502() -> SimResponse:
    return SimResponse(502, HTML_502, content_type="text/html")


def ban_page(status: int, page: bytes, opts: Mapping[str, Any]) -> SimResponse:
    """An IP ban as a CDN or WAF in front of the exchange answers it: an HTML page with
    `Retry-After` from the fault's `retry_after` option (30 s when not given)."""
    retry = str(opts.get("retry_after", 30))
    return SimResponse(status, page, [("Retry-After", retry)], content_type="text/html")


def split_amount(value: Any) -> tuple[Decimal, Decimal]:
    """A balance given as `free` or `(free, locked)`."""
    if isinstance(value, tuple | list):
        free, locked = value
    else:
        free, locked = value, 0
    return Decimal(str(free)), Decimal(str(locked))


def plain(value: Decimal) -> str:
    """Exchange-style decimal string: "40.12618754", "0", never "4E+1"."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
