"""`python -m tests.simulator --port-base 8900 [--latency-ms 100] [--seed-demo-keys]`

Prints the EXCHANGE_URLS setting (and the demo keys when seeded), then serves until Ctrl-C or
SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .core import ExchangeSimulator
from .data import DEMO_KEYS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port-base",
        type=int,
        default=None,
        help="the hosts (mexc, mexc_futures, kucoin, kucoin_futures, bitget, in registry "
        "order) listen on this port and the following ones (default: ports picked by the OS)",
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every request")
    parser.add_argument("--seed-demo-keys", action="store_true", help="register the demo keys")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="log one line per request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    sim = ExchangeSimulator(
        host=args.host,
        port_base=args.port_base,
        latency_ms=args.latency_ms,
        rate_limits=not args.no_rate_limits,
        verbose=args.verbose,
    )
    sim.start()
    print(f"EXCHANGE_URLS={sim.urls_setting()}", flush=True)
    if args.seed_demo_keys:
        sim.seed_demo_keys()
        # Demo keys exist only inside this simulator; printing them is how a person or a
        # browser test learns what to paste.
        print("# demo keys (simulator only):")
        for entry in DEMO_KEYS:
            passphrase = f" passphrase={entry['passphrase']!r}" if entry.get("passphrase") else ""
            print(
                f"#   {entry['label']}: api_key={entry['api_key']} "
                f"secret={entry['secret']}{passphrase}"
            )
        sys.stdout.flush()

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
