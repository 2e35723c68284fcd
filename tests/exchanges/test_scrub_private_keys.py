"""Review of the eight new exchanges: a private key (PEM) as the secret.

`Credentials.scrub` found a secret only as typed (and URL-, JSON- or space-collapsed). A PEM
reaches text in other shapes: its line breaks dropped or doubled (`\\r\\n`), escaped in JSON,
re-wrapped at another width, its base64 body without the BEGIN/END lines, or one line of it.
Each must be scrubbed like the secret itself.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from connections.exchanges.base import Category, Credentials, PermanentExchangeError
from tests.exchanges.test_coinbase import SDK_EC_PEM, SDK_KEY_NAME

ED_PEM = (
    Ed25519PrivateKey.generate()
    .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    .decode()
)


def body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def shapes(pem: str) -> dict[str, str]:
    text = body(pem)
    return {
        "line breaks dropped": pem.replace("\n", ""),
        "CRLF": pem.replace("\n", "\r\n"),
        "JSON-escaped": json.dumps(pem)[1:-1],
        "body alone": text,
        "body re-wrapped at 76": "\n".join(text[i : i + 76] for i in range(0, len(text), 76)),
        "body with spaces": " ".join(text[i : i + 10] for i in range(0, len(text), 10)),
        "one line": pem.splitlines()[1],
    }


CASES = [(pem, name, shape) for pem in (SDK_EC_PEM, ED_PEM) for name, shape in shapes(pem).items()]


@pytest.mark.parametrize(
    ("pem", "shape"),
    [(pem, shape) for pem, _, shape in CASES],
    ids=[f"{'ec' if pem == SDK_EC_PEM else 'ed25519'}-{name}" for pem, name, _ in CASES],
)
def test_a_private_key_in_any_shape_is_scrubbed(pem, shape):
    credentials = Credentials(SDK_KEY_NAME, pem)
    text = credentials.scrub(f"refused: {shape} (end)")
    compact = "".join(text.split())
    for line in (line for line in pem.splitlines() if "-----" not in line):
        assert line[:12] not in compact
    assert text.startswith("refused: ") and text.endswith("(end)")


def test_an_error_carrying_a_flattened_pem_is_stored_without_it():
    credentials = Credentials(SDK_KEY_NAME, SDK_EC_PEM)
    error = PermanentExchangeError(
        Category.INVALID_KEY, "bad key " + SDK_EC_PEM.replace("\n", " ").replace(" ", "")
    ).scrub(credentials)
    assert body(SDK_EC_PEM)[:12] not in error.message and "***" in error.message


def test_ordinary_text_is_left_alone():
    credentials = Credentials(SDK_KEY_NAME, SDK_EC_PEM)
    text = "HTTP 401 unauthorized: invalid signature for GET /api/v3/brokerage/accounts"
    assert credentials.scrub(text) == text
