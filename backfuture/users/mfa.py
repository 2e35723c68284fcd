"""Two-factor secrets encrypted at rest with the same Fernet keys as the exchange secrets.

allauth stores a TOTP secret (`data["secret"]`) and a recovery-code seed (`data["seed"]`, or
`data["migrated_codes"]` for codes imported from elsewhere) in `mfa_authenticator.data`, passing
each through the MFA adapter's `encrypt()`/`decrypt()` hooks. Encrypted values carry a prefix so
a plaintext value (stored before this adapter, until the data migration ran) is recognised; it
is never accepted as a secret: decryption raises, as for any value no key can decrypt.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.adapter import DefaultMFAAdapter

from backfuture import fields

PREFIX = "fernet:"


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def encrypt(text: str) -> str:
    return PREFIX + fields.encrypt(text)


def decrypt(value: str) -> str:
    if not is_encrypted(value):
        raise fields.DecryptionError(
            "A two-factor secret is stored unencrypted; run `manage.py migrate`."
        )
    return fields.decrypt(value[len(PREFIX) :])


def map_secrets(data: dict[str, Any], change) -> dict[str, Any]:
    """A copy of an authenticator's data with `change` applied to every secret value in it."""
    data = dict(data)
    for name in ("secret", "seed"):
        if isinstance(data.get(name), str):
            data[name] = change(data[name])
    if isinstance(data.get("migrated_codes"), list):
        data["migrated_codes"] = [change(code) for code in data["migrated_codes"]]
    return data


def secret_values(data: dict[str, Any]) -> list[str]:
    found: list[str] = []
    map_secrets(data, lambda value: found.append(value) or value)
    return found


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt(encrypted_text)
