"""BingX on the add-connection page: its guide, its demo checkbox, no withdrawal confirmation."""

from __future__ import annotations

import dataclasses

from connections.exchanges import registry
from connections.forms import ConnectionCreateForm
from tests.connections.test_page_content import new_form, steps


def test_bingx_form_shows_its_guide_and_api_management_link(alice_client):
    html = new_form(alice_client, "bingx")
    assert 'href="https://bingx.com/en/account/api/"' in steps(html)
    assert "tick Spot Trading" in html
    assert "Perpetual Futures Trading" in html
    assert "Leave Withdraw unticked" in html


def test_bingx_withdrawal_is_verified_so_the_form_asks_no_confirmation(alice_client):
    html = new_form(alice_client, "bingx")
    assert 'name="withdrawal_off_confirmed"' not in html


def test_bingx_demo_checkbox_says_the_same_key_serves_demo(alice_client):
    html = new_form(alice_client, "bingx")
    assert 'name="demo"' in html
    assert "Use BingX&#x27;s demo trading (VST)" in html or "Use BingX's demo trading (VST)" in html
    assert "BingX uses the same key for live and demo trading." in html
    assert "Demo keys do not work on the live exchange" not in html


def test_an_exchange_without_its_own_demo_wording_keeps_the_default():
    spec = dataclasses.replace(registry.get("bingx"), slug="unguided", label="Unguided")
    form = ConnectionCreateForm(spec=spec)
    assert str(form.fields["demo"].label) == "This is a key of Unguided's demo trading"
    assert "Demo keys do not work on the live exchange" in str(form.fields["demo"].help_text)
    bingx = ConnectionCreateForm(spec=registry.get("bingx"))
    assert str(bingx.fields["demo"].label) == "Use BingX's demo trading (VST)"
