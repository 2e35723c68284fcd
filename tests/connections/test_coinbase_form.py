"""The add-connection form for Coinbase: the guide's field names, PEM and key-file pastes, and
old HMAC keys told to make a CDP key."""

from __future__ import annotations

import json

import pytest

from connections.exchanges import registry
from connections.forms import ConnectionCreateForm, ReplaceKeyForm
from tests.exchanges.test_coinbase import SDK_EC_PEM, SDK_ED25519, SDK_KEY_NAME

SPEC = registry.get("coinbase")


def form(**data):
    return ConnectionCreateForm({"name": "Coinbase Spot Main", "market": "spot", **data}, spec=SPEC)


def test_fields_carry_coinbases_own_names_and_room_for_a_key_file():
    fields = form().fields
    assert str(fields["api_key"].label) == "API key name"
    assert str(fields["api_secret"].label) == "Private key"
    assert "BEGIN and END lines" in str(fields["api_secret"].help_text)
    assert fields["api_secret"].max_length >= 2000 and fields["api_key"].max_length >= 2000
    assert "market" in fields and [c[0] for c in fields["market"].choices] == ["spot"]
    # Withdrawal is read from the key (can_transfer): no confirmation box.
    assert "withdrawal_off_confirmed" not in fields


def test_other_exchanges_keep_the_generic_names():
    fields = ReplaceKeyForm(spec=registry.get("mexc")).fields
    assert str(fields["api_key"].label) == "API key"
    assert str(fields["api_secret"].label) == "Secret key"


def test_pem_pasted_into_a_password_input_without_its_line_breaks_is_accepted():
    f = form(api_key=SDK_KEY_NAME, api_secret=SDK_EC_PEM.replace("\n", ""))
    assert f.is_valid(), f.errors
    assert f.cleaned_data["api_secret"] == SDK_EC_PEM


@pytest.mark.parametrize("field", ["api_key", "api_secret"])
def test_downloaded_key_file_pasted_whole_fills_both_values(field):
    text = json.dumps({"name": SDK_KEY_NAME, "privateKey": SDK_EC_PEM, "scopes": ["rat#view"]})
    f = form(**{field: text, ("api_secret" if field == "api_key" else "api_key"): ""})
    assert f.is_valid(), f.errors
    assert (f.cleaned_data["api_key"], f.cleaned_data["api_secret"]) == (SDK_KEY_NAME, SDK_EC_PEM)


def test_ed25519_base64_key_is_accepted():
    assert form(api_key=SDK_KEY_NAME, api_secret=SDK_ED25519).is_valid()


def test_legacy_hmac_key_is_told_to_create_a_cdp_key():
    f = form(api_key="Ab12Cd34Ef56Gh78", api_secret="0123456789abcdef0123456789abcdef")
    assert not f.is_valid()
    assert "Coinbase Developer Platform" in f.errors["api_key"][0]
    assert "Coinbase Developer Platform" in f.errors["api_secret"][0]


def test_empty_fields_are_still_required():
    f = form(api_key="", api_secret="")
    assert not f.is_valid()
    assert f.errors["api_key"] == ["This field is required."]
    assert f.errors["api_secret"] == ["This field is required."]
