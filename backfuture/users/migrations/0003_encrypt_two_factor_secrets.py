"""Encrypt the two-factor secrets allauth stored in plaintext (backfuture/users/mfa.py).

Idempotent: values already encrypted are left alone, so running it on a database where some
rows were written by the new adapter is safe. The reverse decrypts them again.
"""

from __future__ import annotations

from django.db import migrations


def encrypt_secrets(apps, schema_editor):
    from backfuture.users import mfa

    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.select_for_update().only("pk", "data").iterator():
        data = mfa.map_secrets(
            row.data, lambda value: value if mfa.is_encrypted(value) else mfa.encrypt(value)
        )
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


def decrypt_secrets(apps, schema_editor):
    from backfuture.users import mfa

    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.select_for_update().only("pk", "data").iterator():
        data = mfa.map_secrets(
            row.data, lambda value: mfa.decrypt(value) if mfa.is_encrypted(value) else value
        )
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


class Migration(migrations.Migration):
    atomic = True

    dependencies = [
        ("users", "0002_support_group"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_secrets, decrypt_secrets)]
