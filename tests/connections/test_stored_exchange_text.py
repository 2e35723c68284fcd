"""What the services store from an exchange holds no credential, whatever the client did."""

from __future__ import annotations

import json
import time

import pytest
import responses
from django.urls import reverse

from connections import services
from connections.exchanges import registry
from connections.exchanges.base import (
    CheckName,
    Market,
    Outcome,
    ReportBuilder,
    TemporaryExchangeError,
    mask_key,
)
from connections.models import Connection, ConnectionCheck
from tests.connections.factories import KUCOIN_SECRET, make_connection

pytestmark = pytest.mark.django_db

PASSPHRASE = "canary passphrase 4242"


@pytest.fixture
def conn(alice):
    return make_connection(alice, exchange="kucoin", passphrase=PASSPHRASE)


def stored_texts(conn: Connection) -> str:
    conn = Connection.objects.get(pk=conn.pk)
    checks = list(ConnectionCheck.objects.filter(connection=conn).values("message", "report"))
    return json.dumps([conn.problem_message, conn.last_report, checks], default=str)


def api_key_of(conn: Connection) -> str:
    return Connection.objects.get(pk=conn.pk).api_key.reveal()


def test_key_echoed_by_the_exchange_is_stored_masked(conn, no_internet, client, django_user_model):
    key = api_key_of(conn)
    echo = {"code": "400003", "msg": f"KC-API-KEY not exists: {key} / {PASSPHRASE}"}
    no_internet.add(
        responses.GET,
        "https://api.kucoin.com/api/v1/timestamp",
        json={"code": "200000", "data": int(time.time() * 1000)},
    )
    no_internet.add(
        responses.GET, "https://api.kucoin.com/api/v1/user/api-key", json=echo, status=401
    )
    no_internet.add(responses.GET, "https://api.kucoin.com/api/v1/accounts", json=echo, status=401)
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)
    assert services.connection_run_check(check_id=check.pk) == "failed"
    stored = stored_texts(conn)
    assert key not in stored and PASSPHRASE not in stored and key[4:-4] not in stored
    assert mask_key(key) in Connection.objects.get(pk=conn.pk).problem_message

    root = django_user_model.objects.create_superuser(email="root@example.com", password="x")
    client.force_login(root)
    for url in (
        reverse("admin:connections_connection_change", args=[conn.pk]),
        reverse("admin:connections_connectioncheck_change", args=[check.pk]),
    ):
        body = client.get(url).content.decode()
        assert key not in body and key[4:-4] not in body


class EchoingClient:
    """A client that forgets to scrub: the services must not store what it echoes."""

    def __init__(self, *args, mode: str, **kwargs) -> None:
        self.mode = mode

    def run_checks(self, credentials, market):
        echo = f"{'y' * 280}{credentials.api_key} {credentials.api_secret} {credentials.passphrase}"
        if self.mode == "raise":
            raise TemporaryExchangeError(message=echo)
        builder = ReportBuilder("kucoin", Market(market), None)
        builder.set(CheckName.CREDENTIALS, Outcome.FAILED, "x", {"echo": echo})
        builder.note_message(echo)
        return builder.finish(None)


@pytest.mark.parametrize("mode", ["report", "raise"])
def test_services_scrub_whatever_a_client_returns(conn, monkeypatch, mode):
    key = api_key_of(conn)
    monkeypatch.setattr(registry, "build_client", lambda *a, **k: EchoingClient(mode=mode))
    check = services.connection_request_check(connection=conn, trigger="user", enqueue=False)
    if mode == "raise":
        with pytest.raises(TemporaryExchangeError) as raised:
            services.connection_run_check(check_id=check.pk)
        # What the task records after its last retry.
        services.connection_record_error(check_id=check.pk, error=raised.value)
    else:
        services.connection_run_check(check_id=check.pk)
    stored = stored_texts(conn)
    for value in (key, KUCOIN_SECRET, PASSPHRASE):
        assert value not in stored
        assert value[:9] not in stored
