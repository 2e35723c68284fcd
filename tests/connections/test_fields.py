from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection as db

from backfuture.fields import DecryptionError, Sealed, check_encryption_keys, reveal
from connections.models import Connection
from tests.connections.factories import make_connection

pytestmark = pytest.mark.django_db

K1, K2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SECRET = "s3cr3t-plaintext-value-0123456789abcdef"


def raw_column(pk: int, column: str) -> str:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM connections_connection WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_round_trip(alice, settings):
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    conn = make_connection(alice, api_secret="a" * 32)
    loaded = Connection.objects.get(pk=conn.pk)
    assert isinstance(loaded.api_secret, Sealed)
    assert loaded.api_secret.reveal() == "a" * 32


def test_raw_column_never_holds_plaintext(alice, settings):
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    conn = make_connection(alice, exchange="kucoin", passphrase=SECRET)
    stored = raw_column(conn.pk, "passphrase")
    assert SECRET not in stored
    assert Fernet(K1).decrypt(stored.encode()).decode() == SECRET


def test_sealed_value_never_shows_in_repr_or_str(alice):
    conn = Connection.objects.get(pk=make_connection(alice, api_secret="b" * 32).pk)
    assert "b" * 32 not in repr(conn.api_secret) + str(conn.api_secret) + repr(conn) + str(conn)


def test_rotation_keeps_every_value(alice, settings):
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    conns = [
        make_connection(alice, exchange="kucoin", passphrase=f"{SECRET}-{i}") for i in range(7)
    ]
    settings.FIELD_ENCRYPTION_KEYS = [K2, K1]
    assert all(
        reveal(Connection.objects.get(pk=c.pk).passphrase) == f"{SECRET}-{i}"
        for i, c in enumerate(conns)
    )
    call_command("rotate_encryption_keys", batch_size=3, stdout=open("/dev/null", "w"))  # noqa: SIM115
    # Running it again is safe: nothing is left to rotate.
    call_command("rotate_encryption_keys", batch_size=3, stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    for i, c in enumerate(conns):
        loaded = Connection.objects.get(pk=c.pk)
        assert loaded.passphrase.reveal() == f"{SECRET}-{i}"
        assert loaded.api_key.reveal() == reveal(c.api_key)


def test_wrong_key_raises_and_never_returns_ciphertext(alice, settings):
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    conn = make_connection(alice)
    settings.FIELD_ENCRYPTION_KEYS = [K2]
    loaded = Connection.objects.get(pk=conn.pk)
    with pytest.raises(DecryptionError) as raised:
        loaded.api_secret.reveal()
    assert loaded.api_secret.ciphertext not in str(raised.value)


def test_only_isnull_lookups_are_allowed(alice):
    make_connection(alice, exchange="kucoin")
    assert Connection.objects.filter(passphrase__isnull=False).count() == 1
    with pytest.raises(FieldError):
        list(Connection.objects.filter(api_secret="anything"))
    with pytest.raises(FieldError):
        list(Connection.objects.filter(api_key__startswith="mx0"))


def test_system_check_validates_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    assert [m.id for m in check_encryption_keys()] == ["backfuture.E002"]
    settings.FIELD_ENCRYPTION_KEYS = []
    assert [m.id for m in check_encryption_keys()] == ["backfuture.E001"]
    settings.FIELD_ENCRYPTION_KEYS = [K1, K1]
    assert [m.id for m in check_encryption_keys()] == ["backfuture.W001"]
    settings.FIELD_ENCRYPTION_KEYS = [K1]
    assert check_encryption_keys() == []
    assert any(
        c.__name__ == "check_encryption_keys" for c in checks.registry.registry.registered_checks
    )


def test_dumpdata_exports_ciphertext_only(alice, capsys):
    conn = make_connection(alice, api_secret="c" * 32)
    call_command("dumpdata", "connections.connection", stdout=None)
    out = capsys.readouterr().out
    assert str(conn.pk) in out
    assert "c" * 32 not in out


def test_dumpdata_then_loaddata_restores_secrets_unchanged(alice, tmp_path):
    conn = make_connection(alice, exchange="kucoin", passphrase=SECRET)
    key = reveal(conn.api_key)
    dump = tmp_path / "connections.json"
    call_command("dumpdata", "connections.connection", output=str(dump))
    Connection.objects.all().delete()
    call_command("loaddata", str(dump), verbosity=0)
    restored = Connection.objects.get(pk=conn.pk)
    assert restored.passphrase.reveal() == SECRET
    assert restored.api_key.reveal() == key
