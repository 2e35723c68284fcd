"""What the benchmarks share: Django set-up on their own database, the exchange simulator,
a real Celery worker process, fleets of connections, RSS readings and the figure table.

Every figure is printed next to its target and judged as a ratio of two things measured in
the same run, so a busy machine slows both sides alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.workers import WorkerFailed, spawn_worker, stop_worker

ROOT = Path(__file__).resolve().parent.parent
# BENCHMARK_SETTINGS may name a module that extends benchmarks.settings, to try a change.
SETTINGS_MODULE = os.environ.get("BENCHMARK_SETTINGS", "benchmarks.settings")
# The Procfile's `tests-worker`: `--concurrency ${CELERY_TESTS_WORKER_CONCURRENCY:-8}`
# (tests/foundation/test_procfile.py keeps the two equal).
TESTS_WORKER_CONCURRENCY = int(os.environ.get("CELERY_TESTS_WORKER_CONCURRENCY", "8"))
# The Procfile's `worker` runs under `nice -n 10`: on a machine that also hosts the web and
# the tests-worker, re-checks get the CPU that people's requests and tests leave. Each worker
# here runs in a session of its own, as under a process manager, and carries its nice value
# to its session's autogroup (backfuture/niceness.py), without which it would rank it
# against nothing else on the machine.
WORKER_NICE = 10


def setup_django() -> None:
    # Never a DJANGO_SETTINGS_MODULE left in the shell: that could be the real database.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    import django

    django.setup()


def require_services() -> None:
    """The benchmarks measure the deployed shape: PostgreSQL and Redis."""
    from django.conf import settings

    problems = []
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL must be set")
    if problems:
        sys.exit(
            "benchmarks need PostgreSQL and Redis: "
            + "; ".join(problems)
            + "\n  e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/backfuture "
            "REDIS_URL=redis://127.0.0.1:6379/0"
        )


def use_bench_database() -> str:
    """Create (or reuse, migrated) the benchmark database, empty it, and switch to it."""
    from django.core.management import call_command
    from django.db import connection

    name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=True, serialize=False
    )
    call_command("flush", interactive=False, verbosity=0)
    from django.core.cache import cache

    cache.clear()
    return name


def database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


# --- Figures -------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float | str
    target: str
    passed: bool
    unit: str = ""
    detail: str = ""

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        value = f"{self.value:.3g}{self.unit}" if isinstance(self.value, float) else self.value
        text = f"  {verdict}  {self.name}: {value}   (target {self.target})"
        return text + (f"\n        {self.detail}" if self.detail else "")


def print_figures(title: str, figures: Sequence[Figure], command: str) -> bool:
    print(f"\n== {title} ==")
    print(f"   command: {command}")
    for figure in figures:
        print(figure.line())
    passed = all(f.passed for f in figures)
    print(f"   => {'all targets met' if passed else 'TARGET MISSED'}", flush=True)
    return passed


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile, q in [0, 1]."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- Memory --------------------------------------------------------------------------------


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size from /proc (VmRSS, kB); 0 if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def child_pids(pid: int) -> list[int]:
    pids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return pids
    for task in tasks:
        try:
            pids.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and its children (a prefork worker: the parent and its pool)."""
    return rss_kb(pid) + sum(rss_kb(child) for child in child_pids(pid))


# --- Fleets of connections -----------------------------------------------------------------


def create_connections(
    keys: Sequence[Any],
    *,
    markets: Sequence[str] = ("spot",),
    per_owner: int = 100,
    status: str = "untested",
    tested_ago_s: float | None = None,
    email_prefix: str = "bench",
) -> list[int]:
    """Bulk-create one connection per simulator key, `per_owner` to a user; the markets
    take turns.

    `status`/`tested_ago_s` make them e.g. online and due for a re-check. Returns the pks.
    """
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from backfuture.fields import fingerprint
    from connections.models import Connection
    from connections.services import mask_key

    user_model = get_user_model()
    now = timezone.now()
    last_tested = now - timedelta(seconds=tested_ago_s) if tested_ago_s is not None else None
    owners = user_model.objects.bulk_create(
        [
            user_model(
                email=f"{email_prefix}{i}-{time.time_ns()}@example.com",
                password=make_password(None),
            )
            for i in range((len(keys) + per_owner - 1) // per_owner)
        ]
    )
    rows = []
    for index, key in enumerate(keys):
        rows.append(
            Connection(
                owner=owners[index // per_owner],
                name=f"{key.exchange} {index}",
                exchange=key.exchange,
                market=markets[index % len(markets)],
                api_key=key.api_key,
                api_secret=key.secret,
                passphrase=key.passphrase,
                key_hint=mask_key(key.api_key),
                key_fingerprint=fingerprint(key.api_key),
                withdrawal_off_confirmed=True,
                status=status,
                last_tested_at=last_tested,
                last_online_at=last_tested,
            )
        )
    created = Connection.objects.bulk_create(rows, batch_size=1000)
    return [c.pk for c in created]


def populate(owner, n: int) -> None:
    """Give `owner` n connections, each with one strategy, in bulk: mixed exchanges, markets
    and statuses so every branch of the pages renders (the dashboard and list benchmarks)."""
    from backfuture.fields import fingerprint
    from connections.models import Connection
    from connections.services import mask_key
    from strategies.models import Strategy
    from tests.connections.factories import MEXC_SECRET
    from tests.strategies.factories import values

    have = Connection.objects.filter(owner=owner).count()
    if n <= have:
        return
    # "testing" needs a check row (a database constraint); the other statuses are enough.
    statuses = ("online", "failed", "untested")
    exchanges = ("mexc", "kucoin", "demo")
    connections = Connection.objects.bulk_create(
        [
            Connection(
                owner=owner,
                name=f"Connection {i}",
                exchange=exchanges[i % 3],
                market=("spot", "futures")[i % 2],
                api_key=f"mx0vgl{i:012d}",
                api_secret=MEXC_SECRET,
                key_hint=mask_key(f"mx0vgl{i:012d}"),
                key_fingerprint=fingerprint(f"mx0vgl{i:012d}-{owner.pk}"),
                status=statuses[i % 3],
                problem_category="ip_not_allowed" if statuses[i % 3] == "failed" else "",
            )
            for i in range(have, n)
        ]
    )
    base = values(connections[0])
    base.pop("name")
    base.pop("connection")
    Strategy.objects.bulk_create(
        [
            Strategy(
                owner=owner,
                connection=connection,
                name=f"Strategy {have + i}",
                status=("draft", "enabled", "paused")[i % 3],
                pause_reason="connection_failed" if i % 3 == 2 else "",
                **{**base, "new_groups_connection": connections[0] if i % 2 else None},
            )
            for i, connection in enumerate(connections)
        ]
    )


# --- The simulator and a real worker -------------------------------------------------------


@contextmanager
def simulator(**options: Any) -> Iterator[Any]:
    from tests.simulator import ExchangeSimulator

    with ExchangeSimulator(**options) as sim:
        yield sim


def worker_env(exchange_urls: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a benchmark's worker: the benchmark database, its Redis database and
    the simulator's URLs."""
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EXCHANGE_URLS": exchange_urls,
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }


@contextmanager
def celery_worker(
    *,
    exchange_urls: str,
    concurrency: int | None = None,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    loglevel: str = "INFO",
    pool: str | None = None,
    nice: int = 0,
) -> Iterator[subprocess.Popen]:
    """`celery worker` as the Procfile runs it (its pool: the CELERY_WORKER_POOL setting,
    unless `pool` says otherwise), on the benchmark database; `nice` as the Procfile's
    `worker` (WORKER_NICE), or 0 for a worker alone on its machine."""
    from django.conf import settings

    log_path = log_path or Path(tempfile.gettempdir()) / "backfuture-bench-worker.log"
    log_path.write_text("")
    full_env = worker_env(exchange_urls, env)
    try:
        process = spawn_worker(
            full_env,
            log_path,
            concurrency=concurrency,
            loglevel=loglevel,
            name="bench",
            pool=pool or settings.CELERY_WORKER_POOL,
            nice=nice,
        )
    except WorkerFailed as failure:
        raise RuntimeError(str(failure)) from None
    try:
        yield process
    finally:
        stop_worker(process)
        from django.db import connection

        connection.close()


@contextmanager
def celery_workers(
    *,
    count: int,
    exchange_urls: str,
    log_dir: Path,
    pool: str | None = None,
    concurrency: int | None = None,
    loglevel: str = "INFO",
    tests_worker: bool = False,
) -> Iterator[list[subprocess.Popen]]:
    """`count` worker processes on this machine, as the Procfile's `worker` scaled out: the
    same queues, pool (unless `pool` says otherwise), broker and throttle state in Redis.

    With `tests_worker`, each of them comes with the Procfile's `tests-worker` beside it (the
    queue `tests` only, TESTS_WORKER_CONCURRENCY threads) and runs at the Procfile's lower CPU
    priority (WORKER_NICE): the Procfile's shape on `count` machines."""
    from backfuture.celery import TESTS_QUEUE

    full_env = worker_env(exchange_urls)
    processes: list[subprocess.Popen] = []
    try:
        for index in range(count):
            log_path = log_dir / f"backfuture-bench-worker-{index}.log"
            log_path.write_text("")
            processes.append(
                spawn_worker(
                    full_env,
                    log_path,
                    concurrency=concurrency,
                    loglevel=loglevel,
                    name=f"bench{index}",
                    pool=pool,
                    nice=WORKER_NICE if tests_worker else 0,
                )
            )
            if tests_worker:
                log_path = log_dir / f"backfuture-bench-tests-worker-{index}.log"
                log_path.write_text("")
                processes.append(
                    spawn_worker(
                        full_env,
                        log_path,
                        concurrency=TESTS_WORKER_CONCURRENCY,
                        loglevel=loglevel,
                        name=f"bench-tests{index}",
                        pool=pool,
                        queues=(TESTS_QUEUE,),
                    )
                )
        yield processes
    except WorkerFailed as failure:
        raise RuntimeError(str(failure)) from None
    finally:
        for process in processes:
            stop_worker(process)
        from django.db import connection

        connection.close()


def command_line() -> str:
    args = " ".join(sys.argv[1:])
    module = Path(sys.argv[0]).stem
    return f"python -m benchmarks.{module}" + (f" {args}" if args else "")
