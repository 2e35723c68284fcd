"""Key list: rotation over many rows loses nothing; a bad key list fails loudly at startup."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from backfuture.fields import reveal
from connections.models import Connection
from tests.connections.factories import make_connection
from tests.foundation.test_settings import PRODUCTION_ENV, ROOT


@pytest.mark.django_db
def test_rotation_over_many_rows_loses_nothing(alice, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    expected = {}
    for i in range(1200):
        conn = make_connection(alice, exchange="kucoin", passphrase=f"phrase-{i}", name=f"c{i}")
        expected[conn.pk] = (reveal(conn.api_key), f"phrase-{i}")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    with open(os.devnull, "w") as out:
        call_command("rotate_encryption_keys", batch_size=250, stdout=out)
    settings.FIELD_ENCRYPTION_KEYS = [new]
    rows = Connection.objects.only("api_key", "passphrase")
    assert {c.pk: (c.api_key.reveal(), c.passphrase.reveal()) for c in rows} == expected


@pytest.mark.parametrize(
    "keys", ["", "not-a-fernet-key", Fernet.generate_key().decode() + ",garbage"]
)
def test_missing_or_malformed_key_list_fails_at_startup(keys):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "FIELD_", "FINGERPRINT_"))
    }
    env.update(
        {
            **PRODUCTION_ENV,
            "FIELD_ENCRYPTION_KEYS": keys,
            "DJANGO_SETTINGS_MODULE": "backfuture.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_production_refuses_the_public_development_key():
    from backfuture.settings import _DEV_FIELD_KEY

    env = {
        **PRODUCTION_ENV,
        "FIELD_ENCRYPTION_KEYS": _DEV_FIELD_KEY,
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "backfuture.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "development key" in result.stderr
