"""Make a worker's lower CPU priority (`nice`) hold against the rest of the machine.

The Procfile starts the re-check worker under `nice -n 10`, so that on a machine that also
runs the web, the tests-worker and the database, re-checks get the CPU those leave. On Linux
with autogrouping on (`/proc/sys/kernel/sched_autogroup_enabled`, the default of most
distributions' kernels) a process's nice value only ranks it against the processes of its own
session: the scheduler first shares the CPU fairly between sessions ("autogroups"), each
with its group's own nice value (man 7 sched, "The autogroup feature"). A process manager
that starts each process in a session of its own (honcho; systemd; the benchmarks'
`tests/workers.py`) thereby made the worker's `nice` rank it against nothing: a saturated
re-check worker took as much CPU as the web or the tests-worker. Measured on this machine:
two busy processes at nice 0 in one session got 1.4 s of CPU each in 4 s, two at nice 19 in
sessions of their own 2.7 s each.

So a worker that leads its own session also gives its session's group its nice value, which
is what `nice` was asked for. Left alone:

- a worker that does not lead its session (started from a terminal, by a shell that did not
  `exec` it, or `--detach`ed): its group is shared with other processes whose priority is
  not the worker's to lower; its nice value ranks it within its session, as before;
- a process in a CPU cgroup of its own (a container, systemd with the cgroup v2 CPU
  controller): autogrouping does not apply there (`task_wants_autogroup` in the kernel), the
  nice value ranks it within its cgroup and the cgroup's CPU weight against the others
  (`CPUWeight=`, `docker --cpu-shares`): set that weight to rank the worker's machine share;
- a kernel without autogrouping, or with it off: `nice` already ranks against everything.

Lowering a priority needs no privilege; the kernel takes one autogroup change a machine per
100 ms from unprivileged processes and answers EAGAIN to the next, so a refusal of that kind
is tried again for a few seconds. Any other refusal is logged and changes nothing else.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

logger = logging.getLogger(__name__)

_AUTOGROUP_NICE = re.compile(r"\bnice\s+(-?\d+)")
_BUSY_TRIES = 20  # EAGAIN: another autogroup changed within the kernel's 100 ms


@dataclass(frozen=True)
class Proc:
    """Where the kernel says what applies (other paths in the tests)."""

    autogroup: Path = Path("/proc/self/autogroup")
    autogroup_enabled: Path = Path("/proc/sys/kernel/sched_autogroup_enabled")
    cgroup: Path = Path("/proc/self/cgroup")
    cgroup2_root: Path = Path("/sys/fs/cgroup")


def in_cpu_cgroup(proc: Proc) -> bool:
    """Whether this process sits in a CPU cgroup other than the root one, where the kernel
    does not autogroup it. cgroup v1: the path of the hierarchy with the `cpu` controller;
    v2: whether the CPU controller is on for the process's cgroup or a parent below the root
    (a `cpu.weight` file). Inside a cgroup namespace the container's own cgroup reads as the
    root: there the write is harmless and has no effect."""
    try:
        lines = proc.cgroup.read_text().splitlines()
    except OSError:
        return False
    unified = None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            unified = path
        elif "cpu" in controllers.split(","):
            return path != "/"
    if not unified or unified == "/":
        return False
    group = PurePosixPath(unified)
    for candidate in (group, *group.parents):
        if str(candidate) == "/":
            break
        if (proc.cgroup2_root / str(candidate).lstrip("/") / "cpu.weight").exists():
            return True
    return False


def why_not_autogrouped(proc: Proc) -> str | None:
    """None when the kernel autogroups this process; otherwise why not: "no autogroup"
    (another OS, a kernel without it, or turned off: nice ranks against everything) or
    "cpu cgroup" (its CPU cgroup's weight ranks it against the others)."""
    try:
        enabled = proc.autogroup_enabled.read_text().strip() == "1"
        enabled = enabled and proc.autogroup.exists()
    except OSError:
        enabled = False
    if not enabled:
        return "no autogroup"
    if in_cpu_cgroup(proc):
        return "cpu cgroup"
    return None


def carry_nice_to_autogroup(proc: Proc | None = None) -> str:
    """Give this process's autogroup the process's nice value when the process leads its
    session (and so its group), the kernel autogroups it, and the group's value is lower.
    Returns what was done, for the log and the tests: "not niced", "no autogroup",
    "cpu cgroup", "not session leader", "already", "set" or "refused"."""
    proc = proc or Proc()
    nice = os.nice(0)
    if nice <= 0:
        return "not niced"
    why_not = why_not_autogrouped(proc)
    if why_not:
        return why_not
    if os.getsid(0) != os.getpid():
        logger.info(
            "Running at nice %s within a session this process does not lead: the nice value "
            "ranks it against that session's other processes only.",
            nice,
        )
        return "not session leader"
    try:
        current = proc.autogroup.read_text()
    except OSError:
        return "no autogroup"
    match = _AUTOGROUP_NICE.search(current)
    if match and int(match.group(1)) >= nice:
        return "already"
    for attempt in range(_BUSY_TRIES):
        try:
            proc.autogroup.write_text(str(nice))
            break
        except OSError as error:
            if error.errno == errno.EAGAIN and attempt + 1 < _BUSY_TRIES:
                time.sleep(random.uniform(0.1, 0.2))  # spread the retries of several workers
                continue
            logger.warning("Could not lower this worker's autogroup to nice %s: %s", nice, error)
            return "refused"
    logger.info("This worker's session (autogroup) now runs at nice %s, as the worker does.", nice)
    return "set"
