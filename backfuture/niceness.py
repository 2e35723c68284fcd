"""Make a worker's lower CPU priority (`nice`) hold against the rest of the machine.

The Procfile starts the re-check worker under `nice -n 10`, so that on a machine that also
runs the web, the tests-worker and the database, re-checks get the CPU those leave. On Linux
with autogrouping on (`/proc/sys/kernel/sched_autogroup_enabled`, the default of most
distributions' kernels) a process's nice value only ranks it against the processes of its own
session: the scheduler first shares the CPU fairly between sessions ("autogroups"), each
with its group's own nice value (man 7 sched, "The autogroup feature"). A process manager
starts each process in a session of its own (systemd for every service; honcho; the
benchmarks' `tests/workers.py`), so the worker's `nice` ranked it against nothing: a
saturated re-check worker took as much CPU as the web or the tests-worker. Measured on this
machine: two busy processes at nice 0 in one session got 1.4 s of CPU each in 4 s, two at
nice 19 in sessions of their own 2.7 s each.

So a worker that leads its own session also gives its session's group its nice value, which
is what `nice` was asked for. A worker that does not lead its session (started from a
terminal, or by a shell that did not `exec` it) shares its group with the session's other
processes, whose priority is not the worker's to lower: it is left alone, and there the
nice value ranks the worker against its session's other processes, as before. Lowering a
priority needs no privilege; a refusal is logged and changes nothing else.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

logger = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")
_AUTOGROUP_NICE = re.compile(r"\bnice\s+(-?\d+)")


def carry_nice_to_autogroup(autogroup: Path = AUTOGROUP) -> str:
    """Give this process's autogroup the process's nice value when the process leads its
    session (and so its group) and the group's is lower. Returns what was done, for the log
    and the tests: "not niced", "no autogroup", "not session leader", "already" or "set"."""
    nice = os.nice(0)
    if nice <= 0:
        return "not niced"
    try:
        current = autogroup.read_text()
    except OSError:
        return "no autogroup"  # another OS, or a kernel built without autogrouping
    if os.getsid(0) != os.getpid():
        logger.info(
            "Running at nice %s within a session this process does not lead: the nice value "
            "ranks it against that session's other processes only.",
            nice,
        )
        return "not session leader"
    match = _AUTOGROUP_NICE.search(current)
    if match and int(match.group(1)) >= nice:
        return "already"
    try:
        autogroup.write_text(str(nice))
    except OSError as error:
        logger.warning("Could not lower this worker's autogroup to nice %s: %s", nice, error)
        return "refused"
    logger.info("This worker's session (autogroup) now runs at nice %s, as the worker does.", nice)
    return "set"
