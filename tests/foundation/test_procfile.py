"""The Procfile's workers (issue 20): the worker takes both queues, tests people start first,
at a lower CPU priority; the tests-worker takes only `tests`, under a node name of its own,
with the concurrency the priority benchmark starts it with."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from backfuture.celery import DEFAULT_QUEUE, TESTS_QUEUE
from benchmarks import common

ROOT = Path(__file__).resolve().parents[2]


def _processes() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        # ${VAR:-default} as a shell without VAR set expands it.
        command = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command)
        processes[name.strip()] = shlex.split(command)
    return processes


def _option(argv: list[str], *names: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg in names:
            return argv[index + 1]
    return None


def test_the_worker_takes_both_queues_tests_people_start_first_at_a_lower_cpu_priority():
    worker = _processes()["worker"]
    # Re-checks are background work: on a machine that also runs the web and the
    # tests-worker, they get the CPU those leave (the priority benchmark starts it alike).
    # `exec`: the shell a process manager runs the line with hands its place, and so the
    # session it leads, to the worker, which then lowers the session's CPU share too
    # (backfuture/niceness.py; dash would otherwise fork and stay the session's leader).
    assert worker[:4] == ["exec", "nice", "-n", str(common.WORKER_NICE)]
    worker = worker[4:]
    assert worker[:4] == ["celery", "-A", "backfuture", "worker"]
    assert _option(worker, "-Q", "--queues") == f"{TESTS_QUEUE},{DEFAULT_QUEUE}"
    assert _option(worker, "-n", "--hostname") is None  # celery@host


def test_the_tests_worker_takes_only_tests_people_start_under_its_own_name():
    tests_worker = _processes()["tests-worker"]
    assert tests_worker[:4] == ["celery", "-A", "backfuture", "worker"]
    assert _option(tests_worker, "-Q", "--queues") == TESTS_QUEUE
    # Two workers of one host need two node names (celery@host is the worker's).
    assert _option(tests_worker, "-n", "--hostname") == "tests@%h"
    assert int(_option(tests_worker, "--concurrency", "-c")) == common.TESTS_WORKER_CONCURRENCY
    assert _option(tests_worker, "--pool", "-P") == _option(_processes()["worker"][4:], "--pool")


def test_the_web_and_the_tests_worker_keep_the_default_cpu_priority():
    processes = _processes()
    assert processes["web"][0] == "gunicorn"
    assert processes["tests-worker"][0] == "celery"
