"""Issue 20 — the ccxt peer: what a ccxt-based bot does to validate a key, against our
whole connection test, per exchange, on the same simulator.

    python -m benchmarks.peer [--runs 3] [--latency-ms 100 250] [--exchanges mexc kucoin]

A bot validates a key with a fresh `ccxt.<id>()` instance (rate limiter on, as ccxt ships
it) and `fetch_balance()`: ccxt first loads its markets (and currencies), then reads the
balance, one call after another, sleeping between calls as its rate limiter says. Futures:
`fetch_balance({"type": "swap"})` on a fresh instance, where our test covers futures. Our
side is the whole test as the worker runs it, without the queue and the database: the
exchange client `connection_run_check` builds (`registry.build_client`) and its
`run_checks` (every check, the verdict and the report), then the session closed.

Both run against the simulator at `--latency-ms` per call; ccxt is pointed at it by
overriding `urls["api"]`, and the endpoints only ccxt calls come from
`tests/simulator/ccxt_routes.py`. HTTP calls and sequential rounds are counted from the
simulator's request log. ccxt is a test dependency; the product never imports it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from benchmarks import common

TARGET_RATIO = 3.0


# --- Pointing ccxt at the simulator --------------------------------------------------------


def _role_by_host(futures_hosts: tuple[str, ...]) -> Callable[[str, tuple[str, ...], str], str]:
    def role(slug: str, path: tuple[str, ...], netloc: str) -> str:
        return f"{slug}_futures" if netloc.startswith(futures_hosts) else slug

    return role


def _role_by_key(futures_keys: tuple[str, ...]) -> Callable[[str, tuple[str, ...], str], str]:
    def role(slug: str, path: tuple[str, ...], netloc: str) -> str:
        return f"{slug}_futures" if path and path[0] in futures_keys else slug

    return role


def _one_host(slug: str, path: tuple[str, ...], netloc: str) -> str:
    return slug


# Which simulator host serves each of ccxt's base URLs (`urls["api"]`, by its key path and
# its host name); exchanges with one host in the simulator send everything there.
ROLES: dict[str, Callable[[str, tuple[str, ...], str], str]] = {
    "mexc": _role_by_key(("contract",)),
    "kucoin": _role_by_host(("api-futures.",)),
    "binance": _role_by_host(("fapi.", "dapi.", "eapi.", "papi.")),
    "htx": _role_by_key(("contract",)),
}


def point_at(exchange: Any, slug: str, urls: dict[str, str]) -> None:
    """Replace every base URL of a ccxt instance by the simulator's host for it."""
    role_of = ROLES.get(slug, _one_host)

    def remap(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {k: remap(v, (*path, k)) for k, v in value.items()}
        parts = urlsplit(value.replace("{hostname}", "host"))
        return urls[role_of(slug, path, parts.netloc)] + parts.path

    exchange.urls["api"] = remap(exchange.urls["api"], ())
    if slug == "coinbase":
        # ccxt signs "GET host/path", taking the scheme off an https:// URL only; the
        # simulator speaks plain HTTP, so sign the URL as it would read over HTTPS.
        create_auth_token = exchange.create_auth_token

        def https_token(seconds: int, method: str | None = None, url: str | None = None, *a):
            if url is not None:
                url = url.replace("http://", "https://", 1)
            return create_auth_token(seconds, method, url, *a)

        exchange.create_auth_token = https_token
    if slug == "htx":
        # HTX signs the host name the request goes to; ccxt takes it from these.
        host = {role: urlsplit(urls[role]).netloc for role in ("htx", "htx_futures")}
        exchange.hostname = host["htx"]
        exchange.urls["hostnames"] = {"spot": host["htx"], "contract": host["htx_futures"]}


def ccxt_instance(slug: str, key: Any, urls: dict[str, str], *, rate_limit: bool = True) -> Any:
    """A fresh ccxt instance as a bot makes it (rate limiter on, ccxt's default)."""
    import ccxt

    config = {"apiKey": key.api_key, "secret": key.secret, "enableRateLimit": rate_limit}
    if key.passphrase:
        config["password"] = key.passphrase
    exchange = getattr(ccxt, slug)(config)
    point_at(exchange, slug, urls)
    return exchange


def ccxt_validate(
    slug: str, market: str, key: Any, urls: dict[str, str], *, rate_limit: bool = True
) -> dict:
    """What a bot does to validate a key: `fetch_balance()` (a swap balance for futures)."""
    exchange = ccxt_instance(slug, key, urls, rate_limit=rate_limit)
    try:
        return exchange.fetch_balance({} if market == "spot" else {"type": "swap"})
    finally:
        exchange.session.close()


# --- Measuring -----------------------------------------------------------------------------


@dataclass
class Run:
    """One validation of a fresh key: how long, and what the simulator saw of it."""

    seconds: float
    calls: int
    rounds: int
    rate_limited: int
    ok: bool


def rounds_of(timestamps: Sequence[float], latency_s: float) -> int:
    """Sequential rounds in a request log: answers closer together than half the latency
    were in flight together (the simulator answers each call after the latency)."""
    rounds, last = 0, None
    for at in sorted(timestamps):
        if last is None or at - last > latency_s / 2:
            rounds += 1
        last = at
    return rounds


def _observe(sim: Any, latency_s: float, validate: Callable[..., bool], *args: Any) -> Run:
    sim.reset_stats()
    started = time.perf_counter()
    ok = validate(*args)
    seconds = time.perf_counter() - started
    records = sim.requests
    return Run(
        seconds=seconds,
        calls=len(records),
        rounds=rounds_of([r.timestamp for r in records], latency_s),
        rate_limited=sum(1 for r in records if r.status == 429),
        ok=ok,
    )


def ours_validate(slug: str, market: str, key: Any, urls: dict[str, str]) -> bool:
    """The whole test as `connection_run_check` runs it, minus the queue and the database."""
    from django.conf import settings

    from connections.exchanges import registry
    from connections.exchanges.base import Credentials, Market

    client = registry.build_client(
        slug,
        urls,
        connect_timeout=settings.EXCHANGE_CONNECT_TIMEOUT,
        read_timeout=settings.EXCHANGE_READ_TIMEOUT,
        budget=settings.EXCHANGE_TEST_BUDGET,
    )
    credentials = Credentials(key.api_key, key.secret, key.passphrase or "")
    try:
        report = client.run_checks(credentials, Market(market))
    finally:
        session = getattr(client, "session", None)
        if session is not None:
            session.close()
    return report.verdict == "online"


def ccxt_ok(slug: str, market: str, key: Any, urls: dict[str, str]) -> bool:
    balance = ccxt_validate(slug, market, key, urls)
    return balance.get("USDT", {}).get("total") is not None


@dataclass
class Row:
    exchange: str
    market: str
    latency_ms: float
    ours: list[Run]
    ccxt: list[Run]

    @property
    def ratio(self) -> float:
        ours = common.median([r.seconds for r in self.ours])
        return common.median([r.seconds for r in self.ccxt]) / ours

    @property
    def ok(self) -> bool:
        runs = self.ours + self.ccxt
        return all(r.ok and not r.rate_limited for r in runs)


def kinds(exchanges: Sequence[str] | None = None, futures: bool = True) -> list[tuple[str, str]]:
    """(exchange, market) for every live exchange of the registry (the demo exchange calls
    no network), futures where our test covers them."""
    from connections.exchanges import registry

    result = []
    for spec in registry.all_specs():
        if exchanges and spec.slug not in exchanges:
            continue
        for market in spec.markets:
            if market.value == "spot" or futures:
                result.append((spec.slug, market.value))
    return result


def measure(
    latency_ms: float, kinds_: Sequence[tuple[str, str]], runs: int, pause: float = 0.2
) -> list[Row]:
    """Ours and ccxt in turn, each on a fresh key, `runs` times per exchange and market."""
    from tests.simulator import ExchangeSimulator, ccxt_routes

    rows = []
    latency_s = latency_ms / 1000
    with ExchangeSimulator(latency_ms=latency_ms) as sim:
        ccxt_routes.install(sim)
        urls = sim.urls
        for exchange, market in kinds_:
            row = Row(exchange, market, latency_ms, [], [])
            for _ in range(runs):
                for side, validate in ((row.ours, ours_validate), (row.ccxt, ccxt_ok)):
                    key = sim.new_key(exchange)
                    side.append(_observe(sim, latency_s, validate, exchange, market, key, urls))
                    time.sleep(pause)  # the rate limits: neither side pays for the other
            rows.append(row)
            print(_row_line(row), flush=True)
    return rows


def _describe(runs: Sequence[Run]) -> str:
    seconds = common.median([r.seconds for r in runs]) * 1000
    calls = sorted({r.calls for r in runs})
    rounds = sorted({r.rounds for r in runs})
    text = "/".join(map(str, calls)) + " calls in " + "/".join(map(str, rounds)) + " rounds"
    return f"{seconds:.0f} ms, {text}"


def _row_line(row: Row) -> str:
    return (
        f"  {row.exchange}/{row.market} at {row.latency_ms:g} ms: ccxt {_describe(row.ccxt)}; "
        f"ours {_describe(row.ours)}; ratio {row.ratio:.2f}x"
    )


def figures(rows: Sequence[Row]) -> list[common.Figure]:
    result = []
    for row in rows:
        limited = sum(r.rate_limited for r in row.ours + row.ccxt)
        failed = sum(1 for r in row.ours + row.ccxt if not r.ok)
        problems = (f"; {limited} answers 429" if limited else "") + (
            f"; {failed} validations failed" if failed else ""
        )
        result.append(
            common.Figure(
                f"{row.exchange}/{row.market} at {row.latency_ms:g} ms: ccxt / ours (median)",
                row.ratio,
                f">= {TARGET_RATIO:g}x",
                row.ratio >= TARGET_RATIO and row.ok,
                unit="x",
                detail=(
                    f"ccxt {_describe(row.ccxt)}; ours {_describe(row.ours)}; rounds "
                    f"{row.ccxt[0].rounds}:{row.ours[0].rounds}{problems}"
                ),
            )
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="validations per side (default 3)")
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[100.0, 250.0])
    parser.add_argument("--exchanges", nargs="+", help="only these (default: every live one)")
    parser.add_argument("--spot-only", action="store_true", help="leave futures out")
    args = parser.parse_args(argv)

    common.setup_django()
    import ccxt  # noqa: F401  (once, as a bot imports it once: not part of a validation)

    chosen = kinds(args.exchanges, futures=not args.spot_only)
    rows = []
    for latency_ms in args.latency_ms:
        print(f"\nsimulator latency {latency_ms:g} ms per call, {args.runs} runs per side")
        rows += measure(latency_ms, chosen, args.runs)
    ok = common.print_figures("7. ccxt peer: key validation", figures(rows), common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
