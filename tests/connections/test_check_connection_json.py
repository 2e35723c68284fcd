"""`check_connection --json` prints JSON and nothing else on stdout (issue 19, point 20)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from tests.connections.factories import make_connection
from tests.connections.test_checks import failed


@pytest.mark.django_db(transaction=True)  # the failure email goes out at the real commit
def test_json_output_stays_pure_when_the_development_email_is_printed(
    alice, monkeypatch, settings, capsys
):
    from connections.exchanges import registry
    from tests.connections.test_checks import FakeClient

    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    connection = make_connection(alice, name="MEXC Spot Main")
    client = FakeClient(failed("ip_not_allowed"))
    monkeypatch.setattr(registry, "build_client", lambda *a, **k: client)

    call_command("check_connection", str(connection.pk), "--sync", "--json")

    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["status"] == "failed"
    assert result["category"] == "ip_not_allowed"
    # The email is still shown, on stderr, where it does not break a JSON reader.
    assert "MEXC Spot Main" in captured.err
