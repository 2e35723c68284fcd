"""Re-encrypt every encrypted value under the newest key in FIELD_ENCRYPTION_KEYS.

Covers every `EncryptedTextField` and the two-factor secrets in allauth's authenticators
(backfuture/users/mfa.py). Runbook (also in the README): put the new key FIRST in
FIELD_ENCRYPTION_KEYS and keep the old ones after it, deploy, run this command, then remove the
old keys and deploy again. Safe to run again at any time: values already under the newest key
are skipped, and each batch commits on its own so an interrupted run simply continues. Rows are
locked and re-read before they are rewritten (backfuture/batches.py), so a key a user replaces
during the run is never reverted.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backfuture.batches import rewrite_in_locked_batches
from backfuture.fields import DecryptionError, EncryptedTextField, Sealed, rotate
from backfuture.users import mfa


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the newest FIELD_ENCRYPTION_KEYS entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        newest = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
        total_rotated = total_seen = 0
        for model in apps.get_models():
            names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not names:
                continue

            def change(row, names=names, label=model._meta.label):
                changes = {}
                for name in names:
                    value = getattr(row, name)
                    if value is None or _is_under(newest, value.ciphertext):
                        continue
                    changes[name] = Sealed(_rotate(value.ciphertext, f"{label} {row.pk}: {name}"))
                return changes

            rotated, seen = rewrite_in_locked_batches(
                model._base_manager.all(), columns=names, change=change, batch_size=batch_size
            )
            self.stdout.write(f"{model._meta.label}: {rotated} of {seen} rows re-encrypted")
            total_rotated += rotated
            total_seen += seen

        def change_authenticator(row):
            def rotate_secret(value: str) -> str:
                ciphertext = value[len(mfa.PREFIX) :]
                if not mfa.is_encrypted(value) or _is_under(newest, ciphertext):
                    # Plaintext is the data migration's job; this command never encrypts it
                    # silently so a missed migration stays visible.
                    return value
                where = f"two-factor authenticator {row.pk}"
                return mfa.PREFIX + _rotate(ciphertext, where)

            data = mfa.map_secrets(row.data, rotate_secret)
            return {"data": data} if data != row.data else None

        rotated, seen = rewrite_in_locked_batches(
            Authenticator.objects.all(),
            columns=["data"],
            change=change_authenticator,
            batch_size=batch_size,
        )
        self.stdout.write(f"{Authenticator._meta.label}: {rotated} of {seen} rows re-encrypted")
        total_rotated += rotated
        total_seen += seen
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total_rotated} of {total_seen} rows re-encrypted.")
        )


def _rotate(ciphertext: str, where: str) -> str:
    try:
        return rotate(ciphertext)
    except DecryptionError:
        raise CommandError(
            f"{where} cannot be decrypted with any configured key; nothing in this batch was "
            "changed."
        ) from None


def _is_under(key: Fernet, ciphertext: str) -> bool:
    try:
        key.decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True
