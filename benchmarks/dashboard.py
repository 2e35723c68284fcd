"""Issue 11.2 — dashboard cost: SQL queries per page for 1, 10 and 500 connections (with as
many strategies), and the dashboard's throughput against a trivial Django view.

    python -m benchmarks.dashboard [--connections 50] [--seconds 4] [--rounds 3]

gunicorn serves the benchmark settings on 127.0.0.1 (workers as the Procfile's default), a
load generator (`wrk` when installed, else a threaded Python loop) requests the dashboard of
a logged-in user with `--connections` connections and the trivial view in alternating
rounds of `--seconds`, so both see the same machine; the figure is the ratio of their
throughputs.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks import common

TARGET_SHARE = 1 / 3
QUERY_SIZES = (1, 10, 500)
PAGES = ("home", "connections:list", "strategies:list")


# --- Query counts --------------------------------------------------------------------------


def query_counts(sizes: Sequence[int] = QUERY_SIZES) -> dict[str, list[int]]:
    """Queries per page for one user as it grows to each size (connections = strategies)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    user = get_user_model().objects.create_user(email=f"queries-{time.time_ns()}@example.com")
    client = Client()
    client.force_login(user)
    counts: dict[str, list[int]] = {page: [] for page in PAGES}
    for size in sizes:
        common.populate(user, size)
        for page in PAGES:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(page))
            if response.status_code != 200:
                raise RuntimeError(f"{page} answered {response.status_code}")
            counts[page].append(len(queries))
    return counts


def query_figures(counts: dict[str, list[int]], sizes: Sequence[int]) -> list[common.Figure]:
    return [
        common.Figure(
            f"SQL queries of {page} for {'/'.join(map(str, sizes))} connections+strategies",
            " / ".join(map(str, per_size)),
            "the same for every size",
            len(set(per_size)) == 1,
        )
        for page, per_size in counts.items()
    ]


# --- Load generation -----------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int  # non-2xx answers and socket errors

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(ms|s|m)")
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> Load:
    match = _WRK_REQUESTS.search(output)
    if not match:
        raise ValueError(f"unexpected wrk output:\n{output}")
    count, amount, unit = int(match[1]), float(match[2]), match[3]
    seconds = amount / 1000 if unit == "ms" else amount * 60 if unit == "m" else amount
    errors = int(m[1]) if (m := _WRK_ERRORS.search(output)) else 0
    if m := _WRK_SOCKET.search(output):
        # gunicorn's sync workers close every connection; wrk counts nothing else here.
        errors += int(m[1]) + int(m[4])
    return Load(count, seconds, errors)


def wrk_load(url: str, cookie: str, seconds: float, connections: int) -> Load:
    output = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    return parse_wrk(output)


def python_load(url: str, cookie: str, seconds: float, connections: int) -> Load:
    """A threaded loop of GETs for `seconds` (when wrk is not installed)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    counts = [0] * connections
    errors = [0] * connections
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            try:
                conn.request("GET", parts.path or "/", headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                if 200 <= response.status < 300:
                    counts[index] += 1
                else:
                    errors[index] += 1
            except OSError:
                errors[index] += 1
            finally:
                conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(sum(counts), time.monotonic() - started, sum(errors))


def load_generator() -> tuple[str, Callable[[str, str, float, int], Load]]:
    if shutil.which("wrk"):
        return "wrk", wrk_load
    return "python threads", python_load


def compare(
    run: Callable[[str, float], Load], urls: dict[str, str], seconds: float, rounds: int
) -> dict[str, Load]:
    """Alternating rounds per URL; the totals per URL."""
    totals = {name: Load(0, 0.0, 0) for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            load = run(url, seconds)
            total = totals[name]
            totals[name] = Load(
                total.requests + load.requests,
                total.seconds + load.seconds,
                total.errors + load.errors,
            )
    return totals


def throughput_figure(totals: dict[str, Load], tool: str) -> common.Figure:
    dashboard, trivial = totals["dashboard"], totals["trivial"]
    share = dashboard.rps / trivial.rps if trivial.rps else 0.0
    errors = sum(load.errors for load in totals.values())
    detail = f"dashboard {dashboard.rps:.0f} req/s, trivial view {trivial.rps:.0f} req/s"
    logged_in = totals.get("trivial logged in")
    if logged_in and logged_in.rps:
        detail += (
            f"; for diagnosis: a trivial view for a logged-in user {logged_in.rps:.0f} req/s "
            f"(dashboard / that = {dashboard.rps / logged_in.rps:.2f})"
        )
    return common.Figure(
        "dashboard throughput / trivial view throughput",
        share,
        f">= 1/3 ({TARGET_SHARE:.2f})",
        share >= TARGET_SHARE and errors == 0,
        detail=f"{detail} ({tool}; {errors} errors)",
    )


# --- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": common.SETTINGS_MODULE,
        "DATABASE_URL": common.database_url(),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backfuture.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=common.ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("gunicorn did not listen in 30 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboard", description=__doc__)
    parser.add_argument("--connections", type=int, default=50, help="of the dashboard's user")
    parser.add_argument("--seconds", type=float, default=4.0, help="per round and URL")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    args = parser.parse_args(argv)

    common.setup_django()
    common.require_services()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    common.use_bench_database()
    figures = query_figures(query_counts(), QUERY_SIZES)

    user = get_user_model().objects.create_user(email="dashboard@example.com")
    common.populate(user, args.connections)
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    from django.db import connection

    connection.close()  # gunicorn's workers get the database to themselves

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    urls = {
        "dashboard": f"{base}/",
        "trivial": f"{base}/__bench__/trivial",
        "trivial logged in": f"{base}/__bench__/trivial-logged-in",
    }
    tool, generator = load_generator()
    server = start_gunicorn(port, args.workers)
    try:
        page = python_load(urls["dashboard"], cookie, 0.2, 1)  # warm-up, and a sanity check
        if page.requests == 0:
            raise RuntimeError("the dashboard did not answer 200 to the logged-in user")
        totals = compare(
            lambda url, seconds: generator(url, cookie, seconds, args.clients),
            urls,
            args.seconds,
            args.rounds,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    figures.append(throughput_figure(totals, tool))
    print(
        f"\ndashboard of a user with {args.connections} connections and as many strategies; "
        f"gunicorn --workers {args.workers} on 127.0.0.1, {args.clients} concurrent clients, "
        f"{args.rounds} alternating rounds of {args.seconds:g} s per URL"
    )
    ok = common.print_figures("2. Dashboard cost", figures, common.command_line())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
