"""Refresh the exchanges' lists of API-tradable pairs now, for operations and first deploys."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.exchanges import registry
from strategies import services


class Command(BaseCommand):
    help = "Fetch the pairs each exchange allows over its API and store them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--exchange", choices=[s.slug for s in registry.all_specs()])
        parser.add_argument("--market", choices=["spot", "futures"])

    def handle(self, *args, exchange: str | None, market: str | None, **options) -> None:
        results = services.symbol_lists_refresh(exchange=exchange, market=market)
        for key, outcome in sorted(results.items()):
            self.stdout.write(f"{key}: {outcome}")
        if any(outcome != "ok" for outcome in results.values()):
            raise CommandError("Some symbol lists could not be refreshed (kept the old ones).")
