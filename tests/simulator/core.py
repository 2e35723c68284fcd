"""The local exchange simulator: one HTTP listener per host role, a key store, faults,
latency, rate limits and statistics.

Everything mutable is guarded by small locks so that benchmarks can hammer it from many
threads; request handling never holds a lock while sleeping.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from . import data
from .base import (
    HostAPI,
    RatePool,
    Route,
    SimKey,
    SimRequest,
    SimResponse,
    split_amount,
)
from .registry import EXCHANGE_OF_ROLE, EXCHANGES, HOST_ROLES, SIM_EXCHANGES

logger = logging.getLogger("tests.simulator")

# Faults answered in front of the API (proxy, gateway, WAF): they hit every request of the
# exchange (or the given path), signed or not.
TRANSPORT_FAULTS = frozenset(
    {
        "maintenance",
        "html_502",
        "timeout",
        "reset",
        "malformed_json",
        "truncated_json",
        "rate_limited",
        "ip_banned",
    }
)
# Faults about the key or account: only signed requests that passed verification get them.
AUTH_FAULTS = frozenset({"ip_not_allowed", "invalid_signature", "account_frozen"})
FAULTS = TRANSPORT_FAULTS | AUTH_FAULTS | {"clock_skew"}


class RequestRecord(NamedTuple):
    """One handled request. No query string, headers or body: nothing secret is kept."""

    exchange: str  # the host role, e.g. "mexc_futures"
    method: str
    path: str
    status: int  # 0 when the connection was reset without an answer
    timestamp: float  # when the request arrived (time.time())


@dataclass
class _Fault:
    name: str
    roles: frozenset[str]
    path: str | None
    remaining: int | None
    opts: dict[str, Any]


def _default_pools() -> dict[tuple[str, str], RatePool]:
    pools = [replace(pool) for exchange in SIM_EXCHANGES.values() for pool in exchange.pools]
    return {(pool.exchange, pool.name): pool for pool in pools}


@dataclass
class _Bucket:
    start: float = 0.0
    used: int = 0
    events: deque[tuple[float, int]] = field(default_factory=deque)


class _RateDecision(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset_s: float


class _RateLimiter:
    def __init__(self) -> None:
        self.pools = _default_pools()
        self._buckets: dict[tuple[str, str, str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def check(self, pool: RatePool, identity: str, path: str, weight: int) -> _RateDecision:
        key = (pool.exchange, pool.name, identity, path if pool.per_endpoint else "")
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(start=now)
            if pool.fixed_window:
                if now - bucket.start >= pool.window_s:
                    bucket.start, bucket.used = now, 0
                reset_s = bucket.start + pool.window_s - now
                if bucket.used + weight > pool.limit:
                    return _RateDecision(False, pool.limit, pool.limit - bucket.used, reset_s)
                bucket.used += weight
                return _RateDecision(True, pool.limit, pool.limit - bucket.used, reset_s)
            events = bucket.events
            horizon = now - pool.window_s
            while events and events[0][0] <= horizon:
                bucket.used -= events.popleft()[1]
            if bucket.used + weight > pool.limit:
                # Free again once enough of the oldest requests leave the window.
                freed, reset_s = 0, pool.window_s
                for at, used in events:
                    freed += used
                    if bucket.used - freed + weight <= pool.limit:
                        reset_s = at + pool.window_s - now
                        break
                return _RateDecision(False, pool.limit, pool.limit - bucket.used, reset_s)
            events.append((now, weight))
            bucket.used += weight
            reset_s = events[0][0] + pool.window_s - now
            return _RateDecision(True, pool.limit, pool.limit - bucket.used, reset_s)


class _Stats:
    """Per-exchange counters and the peak request rate over any one-second window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests: Counter[str] = Counter()
            self.statuses: dict[str, Counter[int]] = {role: Counter() for role in HOST_ROLES}
            # Keyed by ("host", role) and ("exchange", name): "mexc" is both.
            self.peaks: dict[tuple[str, str], int] = {}
            self.windows: dict[tuple[str, str], deque[float]] = {}

    def arrival(self, role: str, now: float) -> None:
        with self._lock:
            for name in (("host", role), ("exchange", EXCHANGE_OF_ROLE[role])):
                window = self.windows.setdefault(name, deque())
                window.append(now)
                while window[0] <= now - 1.0:
                    window.popleft()
                if len(window) > self.peaks.get(name, 0):
                    self.peaks[name] = len(window)
            self.requests[role] += 1

    def answered(self, role: str, status: int) -> None:
        with self._lock:
            self.statuses[role][status] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            result: dict[str, Any] = {}
            for exchange in EXCHANGES:
                hosts = {}
                for role in HOST_ROLES:
                    if EXCHANGE_OF_ROLE[role] != exchange:
                        continue
                    hosts[role] = {
                        "requests": self.requests[role],
                        "rate_limited": self.statuses[role][429],
                        "peak_rps": self.peaks.get(("host", role), 0),
                        "statuses": dict(self.statuses[role]),
                    }
                result[exchange] = {
                    "requests": sum(h["requests"] for h in hosts.values()),
                    "rate_limited": sum(h["rate_limited"] for h in hosts.values()),
                    "peak_rps": self.peaks.get(("exchange", exchange), 0),
                    "hosts": hosts,
                }
            return result


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections under benchmark concurrency.
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: ExchangeSimulator, role: str) -> None:
        self.sim = sim
        self.role = role
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, so a client's requests.Session reuses its connection as with real exchanges.
    protocol_version = "HTTP/1.1"
    server_version = "ExchangeSimulator/1.0"
    # Headers and body go out as two writes; with Nagle's algorithm on, a reused keep-alive
    # connection would hold the body for the client's delayed ACK (40 ms a call), time no
    # real exchange front end adds and that benchmarks would count as exchange time.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        # Per-request lines go through the simulator's logger, and only when verbose.
        return

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        sim = self.server.sim
        if sim.stopping:
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = sim.handle(self.server.role, self.command, self.path, self.headers, body)
        sim.sleep(response.delay_s)
        if sim.stopping:
            self.close_connection = True
            return
        try:
            self._write(response)
        except OSError:
            # The client went away first (after a timeout fault, typically).
            self.close_connection = True

    def _write(self, response: SimResponse) -> None:
        if response.action == "reset":
            # SO_LINGER 0 makes close() send RST: the client sees a dropped connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        body = response.body
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if response.action == "short_read":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(body)


class ExchangeSimulator:
    """Local MEXC and KuCoin for tests, browser runs and benchmarks.

    >>> with ExchangeSimulator() as sim:
    ...     key = sim.new_key("mexc")
    ...     settings.EXCHANGE_URLS = sim.urls
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
        port_base: int | None = None,
        latency_ms: float = 0,
        latency_spread_ms: tuple[float, float] | None = None,
        rate_limits: bool = True,
        verbose: bool = False,
        max_log: int = 100_000,
    ) -> None:
        self.host = host
        if port_base is not None:
            self._ports = {role: port_base + i for i, role in enumerate(HOST_ROLES)}
        else:
            self._ports = {role: 0 for role in HOST_ROLES}
        self._ports.update(ports or {})
        unknown = set(self._ports) - set(HOST_ROLES)
        if unknown:
            raise ValueError(f"unknown host roles: {sorted(unknown)}")
        # Per call, applied to every request; set_latency() overrides it per host.
        self.latency_ms = latency_ms
        # (lowest, highest): each call draws its latency from a triangular distribution over
        # that range whose mean is `latency_ms` (real round trips vary and have a long tail).
        self.latency_spread_ms = latency_spread_ms
        self.rate_limits_enabled = rate_limits
        self.verbose = verbose
        # The IP the simulated exchanges believe the caller has (for IP whitelists).
        self.caller_ip = "127.0.0.1"
        self._latency_by_role: dict[str, float] = {}
        self._keys: dict[str, dict[str, SimKey]] = {exchange: {} for exchange in EXCHANGES}
        self._keys_lock = threading.Lock()
        self._uid = 100_000_000
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._clock_offsets: dict[str, int] = {}
        self._limiter = _RateLimiter()
        self._stats = _Stats()
        self._log: deque[RequestRecord] = deque(maxlen=max_log)
        self._apis: dict[str, HostAPI] = {
            role: api(self)
            for exchange in SIM_EXCHANGES.values()
            for role, api in exchange.hosts.items()
        }
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self._stop_event = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> ExchangeSimulator:
        if self._servers:
            return self
        self._stop_event = threading.Event()
        try:
            for role in HOST_ROLES:
                server = _Server((self.host, self._ports[role]), self, role)
                self._servers[role] = server
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"exchange-sim-{role}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        # Wake sleeping handlers (latency, timeout fault) before shutting listeners down.
        self._stop_event.set()
        for server in self._servers.values():
            server.shutdown()
            with server.connections_lock:
                open_connections = list(server.connections)
            for connection in open_connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> ExchangeSimulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    @property
    def urls(self) -> dict[str, str]:
        if not self._servers:
            raise RuntimeError("the simulator is not running; call start() first")
        return {
            role: f"http://{self.host}:{self._servers[role].server_address[1]}"
            for role in HOST_ROLES
        }

    def urls_setting(self) -> str:
        """The EXCHANGE_URLS setting value: `mexc=http://...,mexc_futures=...`."""
        return ",".join(f"{role}={url}" for role, url in self.urls.items())

    # -- keys -----------------------------------------------------------------------------

    def add_key(
        self,
        exchange: str,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        *,
        trade: bool = True,
        futures: bool = True,
        withdrawal: bool = False,
        ip_whitelist: Iterable[str] | None = None,
        key_version: int = 2,
        balances: Mapping[str, Any] | None = None,
        remark: str = "backfuture-sim",
        expires_at_ms: int | None = None,
        demo: bool = False,
        **extra: Any,
    ) -> SimKey:
        """Register a key. `withdrawal` on KuCoin shows as `Transfer` in the permission list;
        `ip_whitelist` makes the key work only while `caller_ip` is in it; `balances` maps an
        asset to its free amount or to `(free, locked)`; `expires_at_ms` is the expiry an
        exchange reports; `demo` makes it a key of the exchange's demo environment; other
        keywords are exchange-specific traits (`SimKey.extra`)."""
        self._check_exchange(exchange)
        if SIM_EXCHANGES[exchange].needs_passphrase and passphrase is None:
            raise ValueError(f"{exchange} keys need a passphrase")
        if key_version not in (1, 2, 3):
            raise ValueError("key_version must be 1, 2 or 3")
        source = data.DEFAULT_BALANCES if balances is None else balances
        with self._keys_lock:
            self._uid += 1
            key = SimKey(
                exchange=exchange,
                api_key=api_key,
                secret=secret,
                passphrase=passphrase,
                trade=trade,
                futures=futures,
                withdrawal=withdrawal,
                ip_whitelist=tuple(ip_whitelist) if ip_whitelist else None,
                key_version=key_version,
                balances={asset: split_amount(value) for asset, value in source.items()},
                uid=self._uid,
                created_at_ms=int(time.time() * 1000) - 86_400_000,
                remark=remark,
                expires_at_ms=expires_at_ms,
                demo=demo,
                extra=dict(extra),
            )
            self._keys[exchange][api_key] = key
        return key

    def new_key(self, exchange: str, *, rng: random.Random | None = None, **options: Any) -> SimKey:
        """Generate plausible key material (see data.py) and register it."""
        self._check_exchange(exchange)
        api_key, secret, passphrase = SIM_EXCHANGES[exchange].credentials(rng or random.Random())
        passphrase = options.pop("passphrase", None) or passphrase
        return self.add_key(exchange, api_key, secret, passphrase, **options)

    def seed_keys(
        self, n: int, exchange: str, *, seed: int | None = None, **options: Any
    ) -> list[SimKey]:
        """Register n generated keys (benchmarks); deterministic when `seed` is given."""
        rng = random.Random(seed)
        return [self.new_key(exchange, rng=rng, **options) for _ in range(n)]

    def seed_demo_keys(self) -> list[SimKey]:
        keys = []
        for entry in data.DEMO_KEYS:
            options = {k: v for k, v in entry.items() if k not in ("label", "exchange")}
            keys.append(self.add_key(entry["exchange"], **options))
        return keys

    def get_key(self, exchange: str, api_key: str) -> SimKey | None:
        return self._keys[exchange].get(api_key)

    def remove_key(self, exchange: str, api_key: str) -> bool:
        """Revoke a key: later requests get the exchange's unknown-key error."""
        self._check_exchange(exchange)
        with self._keys_lock:
            return self._keys[exchange].pop(api_key, None) is not None

    def keys(self, exchange: str) -> list[SimKey]:
        with self._keys_lock:
            return list(self._keys[exchange].values())

    # -- faults, latency, clock -----------------------------------------------------------

    def set_fault(
        self,
        exchange: str,
        fault: str,
        *,
        times: int | None = None,
        path: str | None = None,
        **opts: Any,
    ) -> None:
        """Make an exchange ("mexc", "kucoin") or one host role ("kucoin_futures") fail.

        `times`: only the next N matching requests; `path`: only that exact path. Options:
        `ip` (ip_not_allowed), `seconds` (timeout, default 30), `retry_after` (rate_limited,
        ip_banned), `offset_ms` (clock_skew), `status` (override the HTTP status),
        `short_read` (truncated_json: announce the full length, then close), `body` (replace
        the answer's body, str/bytes/JSON-able, for error faults).
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(FAULTS)}")
        roles = self._roles(exchange)
        if fault == "clock_skew":
            offset = int(opts.get("offset_ms", 10_000))
            for role in roles:
                self._clock_offsets[role] = offset
            return
        with self._faults_lock:
            self._faults.append(_Fault(fault, roles, path, times, dict(opts)))

    def clear_faults(self, exchange: str | None = None) -> None:
        roles = self._roles(exchange) if exchange else frozenset(HOST_ROLES)
        with self._faults_lock:
            self._faults = [f for f in self._faults if not f.roles & roles]
        for role in roles:
            self._clock_offsets.pop(role, None)

    def set_latency(self, exchange: str, latency_ms: float | None) -> None:
        """Per-host latency overriding `latency_ms`; None removes the override."""
        for role in self._roles(exchange):
            if latency_ms is None:
                self._latency_by_role.pop(role, None)
            else:
                self._latency_by_role[role] = latency_ms

    def _draw_latency(self) -> float:
        if not self.latency_spread_ms or not self.latency_ms:
            return self.latency_ms
        low, high = self.latency_spread_ms
        # A triangle's mean is (low + high + mode) / 3: the mode that gives `latency_ms`.
        mode = min(high, max(low, 3 * self.latency_ms - low - high))
        return random.triangular(low, high, mode)

    def server_time_ms(self, role: str) -> int:
        return int(time.time() * 1000) + self._clock_offsets.get(role, 0)

    def _take_fault(self, role: str, path: str, names: frozenset[str]) -> _Fault | None:
        if not self._faults:
            return None
        with self._faults_lock:
            for fault in self._faults:
                if fault.name not in names or role not in fault.roles:
                    continue
                if fault.path is not None and fault.path != path:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # -- rate limits ----------------------------------------------------------------------

    def set_rate_limit(
        self,
        exchange: str,
        pool: str | None = None,
        *,
        limit: int | None = None,
        window_s: float | None = None,
        scale: float | None = None,
        enabled: bool | None = None,
    ) -> None:
        """Change documented quotas, e.g. `set_rate_limit("kucoin", "management", limit=40)`
        or `set_rate_limit("mexc", scale=0.01)`. Pools: mexc `spot`, `futures_private`,
        `futures_public`; kucoin `management`, `spot`, `futures`, `public`."""
        self._check_exchange(exchange)
        pools = [
            p
            for (ex, name), p in self._limiter.pools.items()
            if ex == exchange and (pool is None or name == pool)
        ]
        if not pools:
            raise ValueError(f"no rate-limit pool {pool!r} for {exchange}")
        for p in pools:
            if scale is not None:
                p.limit = max(1, math.floor(p.default_limit * scale))
            if limit is not None:
                p.limit = limit
            if window_s is not None:
                p.window_s = window_s
            if enabled is not None:
                p.enabled = enabled
        self._limiter.reset()

    def reset_rate_limits(self) -> None:
        """Documented quotas again, with empty counters."""
        self._limiter.pools = _default_pools()
        self._limiter.reset()

    def rate_limit(self, exchange: str, pool: str) -> RatePool:
        return self._limiter.pools[(exchange, pool)]

    def _rate_check(self, api: HostAPI, route: Route, request: SimRequest) -> SimResponse | None:
        pool = self._limiter.pools[(api.exchange, route.pool)]
        if not pool.enabled:
            return None
        # Private quotas belong to the account (the key stands in for the UID), public
        # ones to the caller's IP.
        identity = (api.key_id(request) if route.signed else None) or f"ip:{request.caller_ip}"
        decision = self._limiter.check(pool, identity, request.path, route.weight)
        rate_headers = SIM_EXCHANGES[api.exchange].rate_headers
        request.rate_headers = rate_headers(decision) if rate_headers else []
        if decision.allowed:
            return None
        retry_after = max(1, math.ceil(decision.reset_s))
        response = api.error("rate_limited", request, retry_after=retry_after)
        response.headers = [h for h in response.headers if h[0] != "gw-ratelimit-reset"]
        response.headers.extend(request.rate_headers)
        return response

    # -- statistics -----------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """`{"mexc": {"requests", "rate_limited", "peak_rps", "hosts": {role: {...}}}, ...}`;
        `rate_limited` counts HTTP 429 answers, `peak_rps` the most requests that arrived
        within any one second."""
        return self._stats.snapshot()

    @property
    def requests(self) -> list[RequestRecord]:
        return list(self._log)

    def reset_stats(self) -> None:
        self._stats.reset()
        self._log.clear()

    def reset(self) -> None:
        """Everything but the keys back to the start: faults, latency, quotas, stats."""
        self.clear_faults()
        self._latency_by_role.clear()
        self.latency_ms = 0
        self.caller_ip = "127.0.0.1"
        self.reset_rate_limits()
        self.reset_stats()

    # -- request handling -----------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            # Interruptible, so stop() does not wait for sleeping handlers.
            self._stop_event.wait(seconds)

    def handle(self, role: str, method: str, target: str, headers: Any, body: bytes) -> SimResponse:
        self._stats.arrival(role, time.monotonic())
        # The log keeps when the call arrived, as an exchange's rate limiter counts it, not
        # when it was answered (after the latency, which varies with a spread).
        arrived = time.time()
        api = self._apis[role]
        request = SimRequest(role, method, target, headers, body, self.caller_ip)
        latency = self._latency_by_role.get(role)
        if latency is None:
            latency = self._draw_latency()
        self.sleep(latency / 1000)
        response = self._respond(api, request)
        status = 0 if response.action == "reset" else response.status
        self._stats.answered(role, status)
        self._log.append(RequestRecord(role, method, request.path, status, arrived))
        if self.verbose:
            logger.info("%s %s %s -> %s", role, method, request.path, status or "reset")
        return response

    def _respond(self, api: HostAPI, request: SimRequest) -> SimResponse:
        mangle: _Fault | None = None
        delay_s = 0.0
        fault = self._take_fault(api.role, request.path, TRANSPORT_FAULTS)
        if fault is not None:
            if fault.name == "timeout":
                # The request is processed now and its answer held back.
                delay_s = float(fault.opts.get("seconds", 30))
            elif fault.name == "reset":
                return SimResponse(0, action="reset")
            elif fault.name in ("malformed_json", "truncated_json"):
                mangle = fault
            else:
                return _with_body(api.error(fault.name, request, **fault.opts), fault)
        response = self._route(api, request)
        if mangle is not None:
            response = _mangle(response, mangle)
        response.delay_s = delay_s
        return response

    def _route(self, api: HostAPI, request: SimRequest) -> SimResponse:
        route = api.match(request.method, request.path)
        if route is None:
            kind = "method_not_allowed" if request.path in api.paths else "not_found"
            return api.error(kind, request)
        if self.rate_limits_enabled:
            limited = self._rate_check(api, route, request)
            if limited is not None:
                return limited
        if not route.signed:
            response = route.handler(request, None)
        else:
            key = api.authenticate(request)
            if isinstance(key, SimResponse):
                return key
            fault = self._take_fault(api.role, request.path, AUTH_FAULTS)
            if fault is not None:
                return _with_body(api.error(fault.name, request, **fault.opts), fault)
            response = route.handler(request, key)
        response.headers.extend(request.rate_headers)
        return response

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _check_exchange(exchange: str) -> None:
        if exchange not in EXCHANGES:
            raise ValueError(f"unknown exchange {exchange!r}; use one of {EXCHANGES}")

    @staticmethod
    def _roles(exchange: str) -> frozenset[str]:
        """Roles of an exchange ("mexc": both MEXC hosts) or of one host ("mexc_futures")."""
        if exchange in EXCHANGES:
            return frozenset(r for r in HOST_ROLES if EXCHANGE_OF_ROLE[r] == exchange)
        if exchange in HOST_ROLES:
            return frozenset({exchange})
        raise ValueError(f"unknown exchange or host {exchange!r}")


def _with_body(response: SimResponse, fault: _Fault) -> SimResponse:
    """A fault's `body` option replaces the simulator's wording, e.g. to replay a body
    observed in the wild; dicts and lists are sent as JSON."""
    body = fault.opts.get("body")
    if body is None:
        return response
    if isinstance(body, dict | list):
        response.body, response.content_type = json.dumps(body).encode(), "application/json"
    else:
        response.body = body.encode() if isinstance(body, str) else body
    return response


def _mangle(response: SimResponse, fault: _Fault) -> SimResponse:
    body = response.body.rstrip()
    if fault.name == "malformed_json":
        # A trailing comma before the closing bracket: valid-looking, not JSON.
        response.body = (body[:-1] + b",}") if body else b"{,}"
    elif fault.opts.get("short_read"):
        response.action = "short_read"
    else:
        response.body = body[: max(1, len(body) // 2)]
    response.status = fault.opts.get("status", response.status)
    return response
