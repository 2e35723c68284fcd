"""The add-connection form for Binance: the exchange's own name for the secret field, and an
Ed25519 PEM whose line breaks the password input dropped, rebuilt before it is stored."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from connections.exchanges import registry
from connections.forms import ConnectionCreateForm, ReplaceKeyForm

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    .decode()
    .strip()
)


def form(secret: str, **extra) -> ConnectionCreateForm:
    data = {"name": "Binance", "market": "spot", "api_key": KEY, "api_secret": secret, **extra}
    return ConnectionCreateForm(data, spec=registry.get("binance"))


def test_binance_names_its_secret_field_as_binance_does():
    fields = form(PEM).fields
    assert str(fields["api_secret"].label) == "Secret key or Ed25519 private key (PEM)"
    assert "BEGIN PRIVATE KEY" in str(fields["api_secret"].help_text)
    assert "demo" in fields
    replace = ReplaceKeyForm(spec=registry.get("binance")).fields
    assert str(replace["api_secret"].label) == "Secret key or Ed25519 private key (PEM)"


def test_other_exchanges_keep_the_generic_labels():
    fields = ConnectionCreateForm(spec=registry.get("mexc")).fields
    assert str(fields["api_secret"].label) == "Secret key"
    assert str(fields["api_key"].label) == "API key"


@pytest.mark.parametrize("pasted", [PEM.replace("\n", ""), PEM.replace("\n", " "), PEM])
def test_a_flattened_pem_is_rebuilt_and_accepted(pasted):
    bound = form(pasted)
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["api_secret"] == PEM


def test_hmac_secret_is_accepted_and_garbage_refused():
    assert form("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j").is_valid()
    bound = form("-----BEGIN PUBLIC KEY-----MCowBQYDK2VwAyEA-----END PUBLIC KEY-----")
    assert not bound.is_valid()
    assert "api_secret" in bound.errors
