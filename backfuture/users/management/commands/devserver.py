"""Run the whole app on one machine with no servers: web, Celery worker and beat.

Used by `scripts/dev run`. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_EMAIL = "demo@backfuture.local"


class Command(BaseCommand):
    help = "Run web + worker + beat for local development (embedded SQLite and broker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")
        parser.add_argument(
            "--no-demo-user", action="store_true", help="do not create or reset the demo login"
        )

    def handle(self, *args, addr: str, no_demo_user: bool, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        self.stdout.write(self.style.SUCCESS("Database ready: migrations applied."))
        demo_password = None if no_demo_user else self._reset_demo_user()

        python = sys.executable
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # The worker embeds beat (-B) so periodic re-checks run too; one process fewer to start.
        processes = [
            subprocess.Popen([python, "manage.py", "runserver", addr, "--noreload"], env=env),
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "backfuture",
                    "worker",
                    "-B",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                    "--schedule",
                    str(settings.VAR_DIR / "celerybeat-schedule"),
                ],
                env=env,
            ),
        ]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"BackFuture is running at http://{addr}/"))
        if demo_password:
            self.stdout.write(f"Demo login: {DEMO_EMAIL} / {demo_password}")
            self.stdout.write(
                "(or sign up with any email; emails, with the confirmation link, are printed here)"
            )
        self.stdout.write("Press Ctrl-C to stop.")
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            self.stderr.write("A process exited; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stdout.write("Stopped.")

    def _reset_demo_user(self) -> str:
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model

        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(email=DEMO_EMAIL)
        user.set_password(password)
        user.save()
        # Sign-up needs a confirmed address (mandatory verification); the demo login is one.
        EmailAddress.objects.update_or_create(
            user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
        return password
