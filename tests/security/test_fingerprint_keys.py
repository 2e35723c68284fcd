"""FINGERPRINT_KEYS: required in production, never derived, and rotatable (issue 14).

Fingerprints were keyed by material derived from SECRET_KEY when FINGERPRINT_KEY was unset, so
anyone holding the Django secret and a database dump could test guessed API keys, and the key
could never be changed without breaking duplicate detection.
"""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backfuture import fields
from connections import services
from connections.models import Connection
from tests.connections.factories import MEXC_SECRET, make_connection, mexc_key
from tests.foundation.test_settings import PRODUCTION_ENV, run_manage
from tests.integration.conftest import require_services
from tests.security.test_rotation_races import interleave_once

OLD = "an-old-fingerprint-key-0123456789abcdef"
NEW = "a-new-fingerprint-key-fedcba9876543210"


def test_production_refuses_to_start_without_fingerprint_keys():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "FINGERPRINT_KEYS"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "FINGERPRINT_KEYS" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (PRODUCTION_ENV["DJANGO_SECRET_KEY"], "must not reuse"),
        (PRODUCTION_ENV["FIELD_ENCRYPTION_KEYS"], "must not reuse"),
        ("short", "at least 32"),
        ("dev-only-fingerprint-key-never-use-in-production", "development key"),
    ],
)
def test_production_refuses_a_weak_or_reused_fingerprint_key(value, message):
    result = run_manage("check", env={**PRODUCTION_ENV, "FINGERPRINT_KEYS": value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


@pytest.mark.django_db
def test_rotation_recomputes_every_fingerprint(alice, bob, settings):
    settings.FINGERPRINT_KEYS = [OLD]
    conns = [make_connection(alice if i % 2 else bob, name=f"c{i}") for i in range(7)]
    Connection.objects.filter(pk=conns[0].pk).update(key_verified=True)
    settings.FINGERPRINT_KEYS = [NEW, OLD]
    with open(os.devnull, "w") as out:
        call_command("rotate_fingerprint_key", batch_size=3, stdout=out)
        call_command("rotate_fingerprint_key", batch_size=3, stdout=out)  # again: a no-op
    settings.FINGERPRINT_KEYS = [NEW]
    for conn in Connection.objects.all():
        assert conn.key_fingerprint == fields.fingerprint(conn.api_key.reveal())


@pytest.mark.django_db
def test_own_duplicate_is_found_under_the_old_key_during_the_rotation(alice, settings):
    settings.FINGERPRINT_KEYS = [OLD]
    key = mexc_key()
    make_connection(alice, api_key=key, name="First")
    settings.FINGERPRINT_KEYS = [NEW, OLD]  # deployed, command not run yet
    with pytest.raises(Exception, match="already used by your connection"):
        make_connection(alice, api_key=key, name="Second")


@pytest.mark.django_db
def test_two_verified_holders_are_reported_not_merged(alice, bob, settings):
    settings.FINGERPRINT_KEYS = [OLD]
    key = mexc_key()
    first = make_connection(alice, api_key=key, name="A")
    Connection.objects.filter(pk=first.pk).update(key_verified=True)
    settings.FINGERPRINT_KEYS = [NEW, OLD]
    second = make_connection(bob, api_key=key, name="B")  # fingerprinted under NEW
    Connection.objects.filter(pk=second.pk).update(key_verified=True)
    with open(os.devnull, "w") as out, pytest.raises(CommandError, match=str(first.pk)):
        call_command("rotate_fingerprint_key", stdout=out)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_key_replaced_during_fingerprint_rotation_keeps_its_new_fingerprint(
    alice, settings, monkeypatch
):
    require_services()
    from connections.management.commands import rotate_fingerprint_key as command

    settings.FINGERPRINT_KEYS = [OLD]
    conn = make_connection(alice, name="Main")
    for i in range(3):
        make_connection(alice, name=f"other {i}")
    settings.FINGERPRINT_KEYS = [NEW, OLD]
    new_key = mexc_key()

    def replace():
        services.connection_replace_key(
            connection=Connection.objects.get(pk=conn.pk),
            api_key=new_key,
            api_secret=MEXC_SECRET,
            withdrawal_off_confirmed=True,
            actor=alice,
        )

    done = interleave_once(monkeypatch, command, replace, name="fingerprint")
    with open(os.devnull, "w") as out:
        call_command("rotate_fingerprint_key", batch_size=2, stdout=out)
    done["thread"].join()
    assert "error" not in done["state"], done["state"].get("error")
    fresh = Connection.objects.get(pk=conn.pk)
    assert fresh.api_key.reveal() == new_key
    assert fresh.key_fingerprint == fields.fingerprint(new_key)
