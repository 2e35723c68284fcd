"""`python -m benchmarks [--quick]`: the benchmarks one after the other (about 27 min;
`--quick` runs the fleet and the priority benchmark on 2,000 connections and the memory
benchmark on 2,000 tests)."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.common import ROOT

RUNS = ("latency", "dashboard", "fleet", "memory", "outage", "priority", "peer")
QUICK = {"fleet": ["--quick"], "memory": ["--checks", "2000"], "priority": ["--quick"]}


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    failed = []
    for name in RUNS:
        extra = QUICK.get(name, []) if quick else []
        # One process per benchmark: each sets up Django with its own environment.
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *extra], cwd=ROOT)
        if code:
            failed.append(name)
    print("\nall targets met" if not failed else f"\ntargets missed in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
