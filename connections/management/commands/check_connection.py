"""Run a connection test from the shell, for support staff and operations."""

from __future__ import annotations

import contextlib
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from connections import presenters, services
from connections.exchanges.base import ExchangeError
from connections.models import CheckTrigger, Connection


class Command(BaseCommand):
    help = "Test a connection and print the result (never prints a secret)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("connection_id", type=int)
        parser.add_argument(
            "--sync", action="store_true", help="run the test here instead of in a worker"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, connection_id: int, sync: bool, json: bool, **options) -> None:
        try:
            connection = Connection.objects.get(pk=connection_id)
        except Connection.DoesNotExist:
            raise CommandError(f"No connection with id {connection_id}.") from None
        # With --json, stdout carries the JSON alone: whatever else the test prints on the way
        # (the development console email backend writes the failure email to sys.stdout) goes
        # to stderr. self.stdout was bound to the real stdout when the command was created.
        quiet = contextlib.redirect_stdout(sys.stderr) if json else contextlib.nullcontext()
        try:
            with quiet:
                check = (
                    self._sync_check(connection)
                    if sync
                    else services.connection_request_check(
                        connection=connection, trigger=CheckTrigger.COMMAND
                    )
                )
        except services.CheckNotStarted as refused:
            raise CommandError(f"Test not started: {refused.reason}.") from None
        connection.refresh_from_db()
        check.refresh_from_db()
        result = {
            "connection": connection.pk,
            "name": connection.name,
            "exchange": connection.exchange,
            "market": connection.market,
            "check": check.pk,
            "status": connection.status,
            "category": connection.problem_category or None,
            "message": connection.problem_message or None,
            "checks": [
                {"check": row.name, "outcome": row.outcome, "detail": row.detail}
                for row in presenters.report_rows(check.report)
            ],
        }
        if json:
            self.stdout.write(_dumps(result))
            return
        if not sync:
            self.stdout.write(f"Test {check.pk} queued; status is now {connection.status}.")
            return
        self.stdout.write(
            f"{connection.name} ({connection.exchange}/{connection.market}): {connection.status}"
        )
        if result["category"]:
            self.stdout.write(f"Problem: {result['category']} — {result['message']}")
        for row in result["checks"]:
            self.stdout.write(f"  [{row['outcome']}] {row['check']}: {row['detail']}")

    def _sync_check(self, connection: Connection):
        # No broker involved: the check row is created, then run right here.
        check = services.connection_request_check(
            connection=connection, trigger=CheckTrigger.COMMAND, enqueue=False
        )
        try:
            services.connection_run_check(check_id=check.pk)
        except ExchangeError as error:
            services.connection_record_error(check_id=check.pk, error=error)
        return check


def _dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
