"""The add-connection form for Gate: the exchange's own name for the key, no passphrase, and
the withdrawal confirmation (Gate reports no withdrawal flag)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections.exchanges import registry
from connections.forms import ConnectionCreateForm


def test_gate_form_names_the_apiv4_key_and_asks_to_confirm_withdrawal_off():
    form = ConnectionCreateForm(spec=registry.get("gate"))
    assert str(form.fields["api_key"].label) == "APIv4 key"
    assert str(form.fields["api_secret"].label) == "Secret key"
    assert "passphrase" not in form.fields
    assert "withdrawal_off_confirmed" in form.fields


def test_exchanges_without_their_own_labels_keep_the_generic_ones():
    form = ConnectionCreateForm(spec=registry.get("kucoin"))
    assert str(form.fields["api_key"].label) == "API key"


def test_a_real_gate_key_shape_passes_and_a_pasted_sentence_does_not():
    spec = registry.get("gate")
    assert spec.validate("0123456789abcdef0123456789abcdef", "ab" * 32) == {}
    assert spec.validate("not a key", "ab" * 32) == {"api_key": "malformed"}


@pytest.mark.django_db
def test_gate_add_page_shows_the_guide_and_the_apiv4_label(alice_client):
    html = alice_client.get(reverse("connections:new"), {"exchange": "gate"}).content.decode()
    assert "APIv4 key" in html
    assert "https://www.gate.com/myaccount/profile/api-key/manage" in html
    assert "Wallet" in html and "90 days" in html
