"""Review of the eight new exchanges: private keys pasted where they do not belong.

The API key input is re-rendered after a form error (docs/security.md, "Form errors keep the API
key"): that is only safe while it holds an API key. A Coinbase key file or a PEM private key
pasted into it (the wrong field, or the whole file) must never come back in the HTML, nor reach
the key hint, the fingerprint or a log line.
"""

from __future__ import annotations

import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.urls import reverse

from tests.exchanges.test_coinbase import SDK_EC_PEM, SDK_KEY_NAME

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ED25519_PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    .decode()
)


def _body_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and "-----" not in line]


def _assert_no_private_key(text: str, pem: str) -> None:
    for line in _body_lines(pem):
        assert line[:24] not in text, "a line of the private key came back"


KEY_FILES = {
    "key file": json.dumps({"name": SDK_KEY_NAME, "privateKey": SDK_EC_PEM}),
    "key file, line breaks dropped": json.dumps(
        {"name": SDK_KEY_NAME, "privateKey": SDK_EC_PEM}, indent=2
    ).replace("\n", ""),
    "key file without a name": json.dumps({"privateKey": SDK_EC_PEM}),
    "PEM alone": SDK_EC_PEM,
}


@pytest.mark.parametrize("pasted", KEY_FILES.values(), ids=KEY_FILES.keys())
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "full page"])
def test_a_coinbase_key_file_in_the_key_field_never_comes_back_after_a_form_error(
    alice_client, pasted, htmx, caplog
):
    caplog.set_level(logging.DEBUG)
    # The name is missing: the form errs whatever the key field holds.
    data = {"exchange": "coinbase", "name": "", "market": "spot", "api_key": pasted}
    response = alice_client.post(reverse("connections:new"), data, **(HTMX if htmx else {}))
    assert response.status_code == 422
    html = response.content.decode()
    _assert_no_private_key(html, SDK_EC_PEM)
    _assert_no_private_key(caplog.text, SDK_EC_PEM)


def test_a_key_file_in_the_key_field_still_keeps_its_key_name(alice_client):
    data = {
        "exchange": "coinbase",
        "name": "",
        "market": "spot",
        "api_key": KEY_FILES["key file"],
    }
    html = alice_client.post(reverse("connections:new"), data, **HTMX).content.decode()
    assert SDK_KEY_NAME in html


@pytest.mark.parametrize(
    "pasted", [ED25519_PEM, ED25519_PEM.replace("\n", ""), ED25519_PEM.replace("\n", " ")]
)
def test_a_binance_private_key_in_the_key_field_never_comes_back(alice_client, pasted):
    data = {"exchange": "binance", "name": "Binance", "market": "spot", "api_key": pasted}
    data["api_secret"] = "x" * 64
    response = alice_client.post(reverse("connections:new"), data, **HTMX)
    assert response.status_code == 422
    _assert_no_private_key(response.content.decode(), ED25519_PEM)


def test_a_private_key_in_the_key_field_of_the_replace_form_never_comes_back(alice_client, alice):
    from tests.connections.factories import make_connection

    conn = make_connection(alice, exchange="coinbase", name="Coinbase")
    response = alice_client.post(
        reverse("connections:replace_key", args=[conn.pk]),
        {"api_key": SDK_EC_PEM, "api_secret": ""},
        **HTMX,
    )
    assert response.status_code == 422
    _assert_no_private_key(response.content.decode(), SDK_EC_PEM)


HOSTILE = {
    "deeply nested key file": '{"privateKey": "x", "a": ' + "[" * 3000 + "]" * 3000 + "}",
    "unclosed nesting": '{"a": ' + "[" * 3900,
    "nested in the secret": '{"privateKey": ' + "[" * 3900,
}


@pytest.mark.parametrize("field", ["api_key", "api_secret"])
@pytest.mark.parametrize("pasted", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_deeply_nested_paste_is_a_form_error_not_a_500(alice_client, pasted, field):
    data = {"exchange": "coinbase", "name": "Coinbase", "market": "spot"}
    data.update({"api_key": SDK_KEY_NAME, "api_secret": SDK_EC_PEM, field: pasted})
    response = alice_client.post(reverse("connections:new"), data, **HTMX)
    assert response.status_code == 422


def test_a_secret_pasted_into_the_key_field_is_not_shown_again_where_its_shape_tells(
    alice_client,
):
    from tests.connections.factories import KUCOIN_SECRET
    from tests.exchanges.test_coinbase import SDK_ED25519

    cases = [
        {"exchange": "coinbase", "api_key": SDK_ED25519},
        {"exchange": "kucoin", "api_key": KUCOIN_SECRET, "passphrase": "pass phrase"},
    ]
    for case in cases:
        data = {"name": "", "market": "spot", "api_secret": "", **case}
        response = alice_client.post(reverse("connections:new"), data, **HTMX)
        assert response.status_code == 422
        assert case["api_key"][:20] not in response.content.decode(), case["exchange"]
