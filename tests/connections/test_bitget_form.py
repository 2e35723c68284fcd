"""Bitget's add-connection form: its guide, the passphrase, the demo choice and the withdrawal
confirmation (Bitget cannot always say whether a key may withdraw)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections.guides import GUIDES

pytestmark = pytest.mark.django_db


def new_form(client) -> str:
    return client.get(reverse("connections:new"), {"exchange": "bitget"}).content.decode()


def test_form_shows_bitgets_guide_and_links_its_api_management(alice_client):
    html = new_form(alice_client)
    guide = GUIDES["bitget"]
    for line in guide.hints:
        assert str(line).replace("'", "&#x27;") in html
    assert f'href="{guide.api_management_url}"' in html


def test_form_asks_for_passphrase_demo_choice_and_withdrawal_confirmation(alice_client):
    html = new_form(alice_client)
    assert 'name="passphrase"' in html
    assert 'name="demo"' in html
    assert "demo trading" in html
    assert 'name="withdrawal_off_confirmed"' in html


def test_picker_card_says_bitget_does_not_report_withdrawal_or_expiry(alice_client):
    html = alice_client.get(reverse("connections:new")).content.decode()
    start = html.index('id="exchange-card-bitget"')
    text = html[start : html.index("</li>\n", html.index('<a class="button', start))]
    verified, _, unreported = text.partition("does not report")
    assert "withdrawal off" in unreported
    assert "key limited to our server IPs" in verified
