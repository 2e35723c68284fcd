"""Re-encrypt every encrypted value under the newest key in FIELD_ENCRYPTION_KEYS.

Runbook (also in the README): put the new key FIRST in FIELD_ENCRYPTION_KEYS and keep the old
ones after it, deploy, run this command, then remove the old keys and deploy again. Safe to run
again at any time: values already under the newest key are skipped, and each batch commits on
its own so an interrupted run simply continues.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backfuture.fields import DecryptionError, EncryptedTextField, Sealed, rotate


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the newest FIELD_ENCRYPTION_KEYS entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        newest = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
        total_rotated = total_seen = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            rotated = seen = 0
            last_pk = None
            while True:
                rows = model._base_manager.order_by("pk")
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.values_list("pk", *fields)[:batch_size])
                if not batch:
                    break
                with transaction.atomic():
                    for pk, *values in batch:
                        seen += 1
                        changes = {}
                        for name, value in zip(fields, values, strict=True):
                            if value is None or _is_under(newest, value):
                                continue
                            try:
                                changes[name] = Sealed(rotate(value.ciphertext))
                            except DecryptionError:
                                raise CommandError(
                                    f"{model._meta.label} {pk}: {name} cannot be decrypted with "
                                    "any configured key; nothing in this batch was changed."
                                ) from None
                        if changes:
                            model._base_manager.filter(pk=pk).update(**changes)
                            rotated += 1
                last_pk = batch[-1][0]
            self.stdout.write(f"{model._meta.label}: {rotated} of {seen} rows re-encrypted")
            total_rotated += rotated
            total_seen += seen
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total_rotated} of {total_seen} rows re-encrypted.")
        )


def _is_under(key: Fernet, value: Sealed) -> bool:
    try:
        key.decrypt(value.ciphertext.encode())
    except InvalidToken:
        return False
    return True
