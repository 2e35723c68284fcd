"""Run the whole app on one machine with no servers: web, Celery worker and beat.

Used by `scripts/dev run`. Ctrl-C (SIGINT) or SIGTERM stops every process it started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from backfuture.celery import DEFAULT_QUEUE, TESTS_QUEUE

DEMO_EMAIL = "demo@backfuture.local"
# How long the children get to finish after SIGTERM before they are killed.
STOP_GRACE_SECONDS = 10


class Stop(Exception):
    """Raised by the signal handlers so the `finally` that stops the children always runs."""


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    if not port.isdigit() or not host:
        raise CommandError(f"--addr must be host:port, e.g. 127.0.0.1:8001 (got {addr!r}).")
    return host.strip("[]"), int(port)


def port_is_free(host: str, port: int) -> bool:
    """Bind as runserver will (SO_REUSEADDR), so a port left in TIME_WAIT still counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def demo_password_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-password"


class Command(BaseCommand):
    help = "Run web + worker + beat for local development (embedded SQLite and broker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")
        parser.add_argument(
            "--no-demo-user", action="store_true", help="do not create or reset the demo login"
        )

    def handle(self, *args, addr: str, no_demo_user: bool, **options) -> None:
        host, port = split_addr(addr)
        # Before anything is printed or started: a taken port would otherwise show up only
        # after the URL and the demo login, as runserver's "That port is already in use".
        if not port_is_free(host, port):
            raise CommandError(
                f"Port {port} on {host} is already in use (another `scripts/dev run`?). "
                f"Stop that process, or pick another port: scripts/dev run --addr {host}:{port + 1}"
            )
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        self.stdout.write(self.style.SUCCESS("Database ready: migrations applied."))
        demo_password = None if no_demo_user else self._demo_user()

        def stop(signum, frame):
            raise Stop(signal.Signals(signum).name)

        # Ctrl-C in a terminal and SIGTERM from a supervisor or `kill` take the same path.
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        processes: list[subprocess.Popen] = []
        try:
            processes = self._start(addr)
            # The URL and the login come last, below runserver's start-up lines.
            while not port_accepts(host, port) and all(p.poll() is None for p in processes):
                time.sleep(0.2)
            if all(p.poll() is None for p in processes):
                self.stdout.write("")
                self.stdout.write(self.style.SUCCESS(f"BackFuture is running at http://{addr}/"))
                if demo_password:
                    self.stdout.write(f"Demo login: {DEMO_EMAIL} / {demo_password}")
                    self.stdout.write("(or sign up with any email; emails are printed here)")
                self.stdout.write("Press Ctrl-C to stop.")
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            self.stderr.write("A process exited; stopping the others.")
        except Stop:
            self.stdout.write("\nStopping…")
        finally:
            # A second Ctrl-C while stopping must not leave children behind.
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
            stop_all(processes)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    def _start(self, addr: str) -> list[subprocess.Popen]:
        python = sys.executable
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Each child leads its own process group, so whatever it leaves behind (a pool
        # process) can be killed as a group once the leader is gone.
        runserver = [python, "manage.py", "runserver", addr, "--noreload"]
        # The worker embeds beat (-B) so periodic re-checks run too; one process fewer to start.
        # WARNING keeps beat's "Sending due task" lines and per-task lines off the console,
        # so the printed emails and the URL stay readable; errors still show.
        worker = [
            python,
            "-m",
            "celery",
            "-A",
            "backfuture",
            "--quiet",  # no start-up banner
            "worker",
            "-B",
            # Both queues, tests people start first, as the Procfile's worker.
            "--queues",
            f"{TESTS_QUEUE},{DEFAULT_QUEUE}",
            "--loglevel",
            "WARNING",
            "--concurrency",
            "2",
            "--schedule",
            str(Path(settings.VAR_DIR) / "celerybeat-schedule"),
        ]
        processes = []
        try:
            for command in (runserver, worker):
                processes.append(subprocess.Popen(command, env=env, start_new_session=True))
        except BaseException:
            stop_all(processes)
            raise
        return processes

    def _demo_user(self) -> str:
        """The demo login keeps one password per checkout, stored under var/."""
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model

        path = demo_password_file()
        password = path.read_text().strip() if path.exists() else ""
        if not password:
            password = secrets.token_urlsafe(9)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(password + "\n")
        user, _ = get_user_model().objects.get_or_create(email=DEMO_EMAIL)
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        # Sign-up needs a confirmed address (mandatory verification); the demo login is one.
        EmailAddress.objects.update_or_create(
            user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
        return password


def stop_all(processes: list[subprocess.Popen]) -> None:
    # SIGTERM to the leaders only: Celery's main process then stops its pool in order
    # (a signal to the pool processes themselves is logged as an error).
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait()
    # The group leader has exited; anything it left in its group (a pool process) goes too.
    for process in processes:
        signal_group(process, signal.SIGKILL)


def signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
