"""Canary secrets: run the whole flow with unique key, secret and passphrase strings, then look
for them everywhere they must never be: every HTTP response body and header, the application
and worker logs, every message through the broker, emails, and the raw database (where only
ciphertext may hold them, and it must not decrypt without the key)."""

from __future__ import annotations

import logging
import threading

import pytest
import redis
from cryptography.fernet import Fernet, InvalidToken
from django.core import mail
from django.db import connection as db
from django.test import Client
from django.urls import reverse

from connections.models import Connection
from tests.conftest import enable_totp, passed_two_factor
from tests.integration.conftest import wait_for_status

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

KEY = "CANARYk3y0000000000000A1"  # KuCoin shape: 24 alphanumerics
SECRET = "c4nary5e-cret-4aaa-9b20-dea10bdcf8e3"
PASSPHRASE = "canary passphrase 71f3"
KEY2 = "CANARYk3y0000000000000B2"
SECRET2 = "c4nary5e-cret-4bbb-9b20-dea10bdcf8e4"
PASSPHRASE2 = "canary passphrase 82a4"
CANARIES = [KEY, SECRET, PASSPHRASE, KEY2, SECRET2, PASSPHRASE2]


class RecordingClient(Client):
    """A test client that keeps every response it got."""

    def __init__(self, sink, **kwargs):
        super().__init__(**kwargs)
        self.sink = sink

    def request(self, **request):
        response = super().request(**request)
        self.sink.append(response)
        return response


class BrokerTap:
    """Everything sent to Redis while the flow runs (MONITOR sees every command)."""

    def __init__(self, url):
        self.client = redis.Redis.from_url(url)
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with self.client.monitor() as monitor:
            for command in monitor.listen():
                self.lines.append(command["command"])
                if self._stop.is_set():
                    return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.client.ping()  # wakes the monitor so it notices the stop
        self._thread.join(timeout=5)


def find(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def test_canaries_never_leak(celery_worker, simulator, alice, admin_user, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.CONNECTION_TEST_COOLDOWN = 0
    settings.ADMINS = [("Ops", "ops@example.com")]
    simulator.add_key("kucoin", KEY, SECRET, PASSPHRASE)
    simulator.add_key("kucoin", KEY2, SECRET2, PASSPHRASE2)
    responses: list = []
    echoes: list = []  # form errors, which may show the API key to the person who typed it
    user = RecordingClient(responses)
    user.force_login(alice)

    with BrokerTap(settings.REDIS_URL) as broker:
        # Add the connection through the real form.
        user.get(reverse("connections:new"), {"exchange": "kucoin"})
        user.post(
            reverse("connections:new"),
            {
                "exchange": "kucoin",
                "name": "Canary",
                "market": "spot",
                "api_key": KEY,
                "api_secret": SECRET,
                "passphrase": PASSPHRASE,
            },
            follow=True,
        )
        conn = Connection.objects.get(owner=alice)
        detail = reverse("connections:detail", args=[conn.pk])

        # A passing test, then a failing one, through the real worker.
        user.post(reverse("connections:test", args=[conn.pk]), HTTP_HX_REQUEST="true")
        wait_for_status(conn)
        assert conn.status == "online"
        simulator.set_fault("kucoin", "ip_not_allowed")
        user.post(reverse("connections:test", args=[conn.pk]))
        wait_for_status(conn)
        assert conn.status == "failed"
        simulator.clear_faults()

        # Form errors with the secrets in the POST (a full page and an htmx partial), then a
        # key replacement. A form error gives the typed API key back to the person who typed
        # it, as the input's value and nowhere else; the secret and passphrase never come back.
        for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
            form_error = user.post(
                reverse("connections:new"),
                {
                    "exchange": "kucoin",
                    "name": "Canary",
                    "market": "spot",
                    "api_key": KEY,
                    "api_secret": SECRET,
                    "passphrase": PASSPHRASE,
                },
                **extra,
            )
            assert form_error.status_code == 422
            echoes.append(form_error)
        user.post(
            reverse("connections:replace_key", args=[conn.pk]),
            {
                "api_key": KEY2,
                "api_secret": SECRET2,
                "passphrase": PASSPHRASE2,
            },
            follow=True,
        )
        user.post(reverse("connections:test", args=[conn.pk]))
        wait_for_status(conn)

        # Every page the user can see.
        for url in (
            reverse("home"),
            reverse("connections:list"),
            detail,
            reverse("connections:status", args=[conn.pk]),
            reverse("connections:replace_key", args=[conn.pk]),
            reverse("connections:delete", args=[conn.pk]),
            reverse("strategies:list"),
            reverse("account"),
        ):
            user.get(url)
            user.get(url, HTTP_HX_REQUEST="true")
        user.get("/no-such-page/")

        # Support staff in the admin.
        staff = RecordingClient(responses)
        enable_totp(admin_user)  # the admin opens only with two-factor authentication
        staff.force_login(admin_user)
        passed_two_factor(staff, admin_user)
        for url in (
            reverse("admin:connections_connection_changelist"),
            reverse("admin:connections_connection_change", args=[conn.pk]),
            reverse("admin:connections_connection_history", args=[conn.pk]),
            reverse("admin:connections_connectioncheck_changelist"),
            reverse("admin:connections_auditevent_changelist"),
            reverse("admin:users_user_change", args=[alice.pk]),
        ):
            staff.get(url)

        # A request that crashes with DEBUG off, while secrets are in its POST body.
        from connections import services

        def crash(**kwargs):
            raise RuntimeError("deliberate failure")

        original = services.connection_create
        services.connection_create = crash
        try:
            crashing = RecordingClient(responses, raise_request_exception=False)
            crashing.force_login(alice)
            response = crashing.post(
                reverse("connections:new"),
                {
                    "exchange": "kucoin",
                    "name": "Crash",
                    "market": "spot",
                    "api_key": "CANARYk3y0000000000000C3",
                    "api_secret": SECRET,
                    "passphrase": PASSPHRASE,
                },
            )
            assert response.status_code == 500
        finally:
            services.connection_create = original

    hits = []
    for response in responses:
        body = response.content.decode(errors="replace")
        if response in echoes:
            echoed = f'name="api_key" value="{KEY}"'
            assert body.count(KEY) == 1 and echoed in body, "the typed API key was not kept"
            assert "no-store" in response["Cache-Control"], "a page with the key may be stored"
            body = body.replace(echoed, "")
        headers = str(response.headers) + str(response.cookies)
        if find(body + headers):
            hits.append((response.request["PATH_INFO"], find(body + headers)))
    assert not hits, f"canaries in responses: {hits}"
    assert not find("\n".join(r.getMessage() for r in caplog.records)), "canary in app logs"
    assert not find(celery_worker.log_path.read_text()), "canary in worker log"
    assert broker.lines, "the broker tap saw nothing: the test would prove nothing"
    assert not find("\n".join(broker.lines)), "canary went through the broker"
    for message in mail.outbox:
        assert not find(message.subject + message.body + str(message.alternatives)), message.subject
    assert any(
        "deliberate failure" in m.body or "RuntimeError" in m.subject for m in mail.outbox
    ), "the crash was not reported to ADMINS, so the error-report path went unchecked"

    # The raw database: every text-like column of every table.
    leaks, ciphertexts = [], []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from introspection)
            columns = [c.name for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = str(value)
                    if find(text):
                        leaks.append((table, column))
                    if (
                        table == "connections_connection"
                        and column in ("api_key", "api_secret", "passphrase")
                        and value
                    ):
                        ciphertexts.append(value)
    assert not leaks, f"canaries stored in clear: {leaks}"
    assert ciphertexts
    stranger = Fernet(Fernet.generate_key())
    for value in ciphertexts:
        with pytest.raises(InvalidToken):
            stranger.decrypt(value.encode())
