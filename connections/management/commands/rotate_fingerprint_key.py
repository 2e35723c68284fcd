"""Recompute every API-key fingerprint under the newest key in FINGERPRINT_KEYS.

Runbook (also in the README): put the new key FIRST in FINGERPRINT_KEYS and keep the old one
after it, deploy, run this command, then remove the old key and deploy again. It decrypts each
API key (in batches, rows locked and re-read as in `rotate_encryption_keys`, so a key replaced
during the run keeps its new fingerprint) and is safe to run again: rows already under the
newest key are skipped.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from backfuture.batches import rewrite_in_locked_batches
from backfuture.fields import DecryptionError, fingerprint
from connections.models import Connection


class Command(BaseCommand):
    help = "Recompute API-key fingerprints under the newest FINGERPRINT_KEYS entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        conflicts: list[int] = []

        def change(row: Connection):
            try:
                new = fingerprint(row.api_key.reveal())
            except DecryptionError:
                raise CommandError(
                    f"Connection {row.pk}: the API key cannot be decrypted with any configured "
                    "key; nothing in this batch was changed."
                ) from None
            if new == row.key_fingerprint:
                return None
            # Two verified connections with one key can only exist if each claimed it under a
            # different fingerprint key during the rotation window. The unique constraint
            # would refuse the second; leave it for an operator rather than pick a winner.
            if (
                row.key_verified
                and Connection.objects.filter(key_fingerprint=new, key_verified=True)
                .exclude(pk=row.pk)
                .exists()
            ):
                conflicts.append(row.pk)
                return None
            return {"key_fingerprint": new}

        changed, seen = rewrite_in_locked_batches(
            Connection.objects.all(),
            columns=["api_key", "key_fingerprint", "key_verified"],
            change=change,
            batch_size=batch_size,
        )
        self.stdout.write(f"{changed} of {seen} fingerprints recomputed.")
        if conflicts:
            raise CommandError(
                "These connections share a key with another verified connection and keep their "
                "old fingerprint: " + ", ".join(map(str, conflicts)) + ". Keep the old key "
                "listed until one of each pair has replaced or deleted its key, then run again."
            )
        self.stdout.write(self.style.SUCCESS("Done."))
