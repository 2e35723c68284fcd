"""Two-factor secrets are encrypted at rest, rotated with the other keys, hidden in the admin.

Issue 14, point 7: TOTP secrets and recovery-code seeds sat in plaintext in
`mfa_authenticator.data` and on the superuser's admin page.
"""

from __future__ import annotations

import importlib
import os
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection as db
from django.test import Client
from django.urls import reverse

from backfuture.fields import DecryptionError
from backfuture.users import mfa
from tests.conftest import PASSWORD, passed_two_factor

pytestmark = pytest.mark.django_db

migration = importlib.import_module("backfuture.users.migrations.0003_encrypt_two_factor_secrets")


def raw_data() -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator")
        return " ".join(str(row[0]) for row in cursor.fetchall())


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def log_in(client: Client, email: str) -> None:
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302


def test_totp_enabled_through_the_pages_is_stored_encrypted(client, alice):
    log_in(client, alice.email)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})
    assert response.status_code == 302
    totp = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP)
    codes = RecoveryCodes(
        Authenticator.objects.get(user=alice, type=Authenticator.Type.RECOVERY_CODES)
    )
    stored = raw_data()
    assert secret not in stored
    assert mfa.decrypt(totp.data["secret"]) == secret
    seed = mfa.decrypt(codes.instance.data["seed"])
    assert seed not in stored and "fernet:" in stored
    assert all(code not in stored for code in codes.generate_codes())


def test_login_with_totp_still_works(alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    client = Client()
    log_in(client, alice.email)
    client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert client.get(reverse("account")).status_code == 200


def test_login_with_a_recovery_code_still_works_once(alice):
    TOTP.activate(alice, generate_totp_secret())
    code = RecoveryCodes.activate(alice).generate_codes()[0]
    first = Client()
    log_in(first, alice.email)
    first.post(reverse("mfa_authenticate"), {"code": code})
    assert first.get(reverse("account")).status_code == 200
    second = Client()
    log_in(second, alice.email)
    second.post(reverse("mfa_authenticate"), {"code": code})
    assert second.get(reverse("account")).status_code == 302


def test_a_plaintext_secret_is_refused_not_used(alice):
    totp = TOTP.activate(alice, generate_totp_secret()).instance
    Authenticator.objects.filter(pk=totp.pk).update(data={"secret": "JBSWY3DPEHPK3PXP"})
    totp.refresh_from_db()
    with pytest.raises(DecryptionError):
        totp.wrap().validate_code("123456")


def test_migration_encrypts_plaintext_secrets_once(alice, bob):
    totp = TOTP.activate(alice, generate_totp_secret()).instance
    codes = RecoveryCodes.activate(bob).instance
    Authenticator.objects.filter(pk=totp.pk).update(data={"secret": "JBSWY3DPEHPK3PXP"})
    Authenticator.objects.filter(pk=codes.pk).update(
        data={"seed": "ab" * 40, "used_mask": 5, "migrated_codes": ["12345678"]}
    )
    migration.encrypt_secrets(django_apps, None)
    once = {a.pk: a.data for a in Authenticator.objects.all()}
    migration.encrypt_secrets(django_apps, None)  # idempotent
    assert {a.pk: a.data for a in Authenticator.objects.all()} == once
    stored = raw_data()
    assert "JBSWY3DPEHPK3PXP" not in stored and "ab" * 40 not in stored
    assert "12345678" not in stored
    assert mfa.decrypt(once[totp.pk]["secret"]) == "JBSWY3DPEHPK3PXP"
    assert once[codes.pk]["used_mask"] == 5
    assert [mfa.decrypt(c) for c in once[codes.pk]["migrated_codes"]] == ["12345678"]
    migration.decrypt_secrets(django_apps, None)
    assert Authenticator.objects.get(pk=totp.pk).data == {"secret": "JBSWY3DPEHPK3PXP"}


def test_rotation_re_encrypts_two_factor_secrets(alice, bob, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    codes = RecoveryCodes.activate(bob).generate_codes()
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    with open(os.devnull, "w") as out:
        call_command("rotate_encryption_keys", batch_size=1, stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key is gone: everything still works
    totp = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP)
    assert mfa.decrypt(totp.data["secret"]) == secret
    recovery = Authenticator.objects.get(user=bob, type=Authenticator.Type.RECOVERY_CODES)
    assert RecoveryCodes(recovery).generate_codes() == codes
    assert recovery.wrap().validate_code(codes[1])


def test_admin_shows_no_two_factor_secret(client, django_user_model, alice):
    secret = generate_totp_secret()
    totp = TOTP.activate(alice, secret).instance
    root = django_user_model.objects.create_superuser(email="root@example.com", password="x")
    TOTP.activate(root, generate_totp_secret())
    client.force_login(root)
    passed_two_factor(client, root)
    for url in (
        reverse("admin:mfa_authenticator_changelist"),
        reverse("admin:mfa_authenticator_change", args=[totp.pk]),
        reverse("admin:mfa_authenticator_delete", args=[totp.pk]),
    ):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200
        assert secret not in body and "fernet:" not in body
        assert totp.data["secret"][len(mfa.PREFIX) : len(mfa.PREFIX) + 20] not in body
    change = client.get(reverse("admin:mfa_authenticator_change", args=[totp.pk]))
    assert b'name="data"' not in change.content
    client.post(reverse("admin:mfa_authenticator_change", args=[totp.pk]), {"data": "{}"})
    assert Authenticator.objects.get(pk=totp.pk).data == totp.data
