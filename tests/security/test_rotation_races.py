"""Key rotation against concurrent writes on PostgreSQL: a value replaced meanwhile survives.

The rotation is interrupted deterministically: the hook that re-encrypts the first value of a
batch starts a key replacement on another database connection and waits until that
replacement has either committed or is blocked on the rotation's row lock. Only then does the
rotation write. Without the lock the replacement commits and the rotation writes the old
ciphertext back over it.
"""

from __future__ import annotations

import os
import threading

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.db import connections

from backfuture import fields
from connections import services
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.integration.conftest import require_services

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def blocked_on_a_lock(thread_backend_pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [thread_backend_pid]
        )
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def run_beside(action) -> tuple[threading.Thread, dict]:
    """Run `action` on its own database connection; wait until it finished or waits on a lock."""
    state: dict = {}
    started = threading.Event()

    def run():
        try:
            with db.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                state["pid"] = cursor.fetchone()[0]
            started.set()
            state["result"] = action()
        except Exception as exc:  # reported by the test's assertions
            state["error"] = exc
        finally:
            started.set()
            db.close()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait()
    # Poll the database until the other transaction is done or blocked on our row lock.
    while thread.is_alive() and not blocked_on_a_lock(state.get("pid", -1)):
        thread.join(0.05)
    return thread, state


def interleave_once(monkeypatch, module, action, name: str = "rotate") -> dict:
    """Patch `module.<name>`: its first call runs `action` beside the command first."""
    real = getattr(module, name)
    done: dict = {}

    def patched(value: str) -> str:
        if "thread" not in done:
            done["thread"], done["state"] = run_beside(action)
        return real(value)

    monkeypatch.setattr(module, name, patched)
    return done


def test_key_replaced_during_rotation_keeps_the_new_key(alice, settings, monkeypatch):
    require_services()
    from backfuture.users.management.commands import rotate_encryption_keys as command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    conn = make_connection(alice, exchange="kucoin", passphrase="old phrase")
    others = [make_connection(alice, exchange="kucoin") for _ in range(3)]
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    def replace():
        services.connection_replace_key(
            connection=Connection.objects.get(pk=conn.pk),
            api_key="6705f5c311545bNEWKEY0001",
            api_secret="new-secret-0001",
            passphrase="new phrase",
            actor=alice,
        )

    done = interleave_once(monkeypatch, command, replace)
    with open(os.devnull, "w") as out:
        call_command("rotate_encryption_keys", batch_size=2, stdout=out)
    done["thread"].join()
    assert "error" not in done["state"], done["state"].get("error")

    settings.FIELD_ENCRYPTION_KEYS = [new]
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.api_key.reveal() == "6705f5c311545bNEWKEY0001"
    assert fresh.api_secret.reveal() == "new-secret-0001"
    assert fresh.passphrase.reveal() == "new phrase"
    assert fresh.key_fingerprint == fields.fingerprint("6705f5c311545bNEWKEY0001")
    for other in others:  # and everything else was rotated
        assert Connection.objects.get(pk=other.pk).api_secret.reveal()


def test_recovery_code_used_during_rotation_stays_used(alice, settings, monkeypatch):
    require_services()
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from backfuture.users.management.commands import rotate_encryption_keys as command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    codes = RecoveryCodes.activate(alice)
    first = codes.generate_codes()[0]
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    def use_code():
        instance = Authenticator.objects.get(pk=codes.instance.pk)
        return RecoveryCodes(instance).validate_code(first)

    done = interleave_once(monkeypatch, command, use_code)
    with open(os.devnull, "w") as out:
        call_command("rotate_encryption_keys", stdout=out)
    done["thread"].join()
    assert done["state"].get("result") is True, done["state"]

    settings.FIELD_ENCRYPTION_KEYS = [new]
    fresh = RecoveryCodes(Authenticator.objects.get(pk=codes.instance.pk))
    assert first not in fresh.get_unused_codes()
    assert not fresh.validate_code(first)
