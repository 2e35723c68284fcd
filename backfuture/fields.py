"""An encrypted text field over cryptography's MultiFernet.

Keys come from settings.FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first), never
from SECRET_KEY. New values are encrypted with the newest key; any key in the list decrypts, so
keys can be rotated without downtime (see `manage.py rotate_encryption_keys`).

Loaded values stay sealed: the model attribute holds a `Sealed` object carrying the ciphertext,
and only `.reveal()` decrypts. That keeps decryption in the one place that needs plaintext (the
exchange call path) instead of every query that happens to load the row, and means a stray
`repr()` or template render of the attribute can never show the secret.
"""

from __future__ import annotations

import functools
import hmac
from hashlib import sha256

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key."""


@functools.cache
def _multifernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise DecryptionError("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(key) for key in keys])


@receiver(setting_changed)
def _reset_keys(*, setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _multifernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _multifernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _multifernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        # Never fall back to returning the stored text: it is ciphertext, not a secret.
        raise DecryptionError(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS."
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the newest key (decrypting with any configured key)."""
    try:
        return _multifernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted for rotation.") from None


def fingerprint(value: str) -> str:
    """Keyed HMAC of a secret under the newest FINGERPRINT_KEYS entry, for equality checks
    without decrypting anything."""
    return _hmac(settings.FINGERPRINT_KEYS[0], value)


def fingerprints(value: str) -> list[str]:
    """The value's fingerprint under every listed key, newest first: while
    `rotate_fingerprint_key` runs, a stored fingerprint may still be under an older key."""
    return [_hmac(key, value) for key in settings.FINGERPRINT_KEYS]


def _hmac(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), sha256).hexdigest()


# Marks ciphertext in serialised data, so loaddata restores it instead of encrypting it again.
SERIALISED_PREFIX = "sealed:"


class Sealed:
    """An encrypted value as loaded from the database. `.reveal()` decrypts it."""

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str) -> None:
        self.ciphertext = ciphertext

    def reveal(self) -> str:
        return decrypt(self.ciphertext)

    def __repr__(self) -> str:
        return "<Sealed secret>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


def reveal(value: Sealed | str | None) -> str | None:
    """Plaintext of a field value, whether just assigned (str) or loaded (Sealed)."""
    if value is None or isinstance(value, str):
        return value
    return value.reveal()


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees `Sealed` (loaded) or `str` (just assigned)."""

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Sealed(value)

    def to_python(self, value):
        # A serialised value (dumpdata) is marked as ciphertext; load it sealed, never
        # encrypting it a second time.
        if isinstance(value, str) and value.startswith(SERIALISED_PREFIX):
            return Sealed(value[len(SERIALISED_PREFIX) :])
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.ciphertext
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str):
        # Equality or containment on ciphertext is meaningless (Fernet is randomised) and would
        # invite code that compares secrets; duplicate detection uses a fingerprint column.
        if lookup_name != "isnull":
            raise FieldError(
                f"EncryptedTextField supports only 'isnull' lookups, not {lookup_name!r}."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, name: str):
        return None

    def value_to_string(self, obj) -> str:
        # Serialisers (dumpdata) get ciphertext, never plaintext.
        value = self.value_from_object(obj)
        ciphertext = self.get_prep_value(value)
        return SERIALISED_PREFIX + ciphertext if ciphertext else ""


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []))
    if not keys:
        return [
            checks.Error(
                "FIELD_ENCRYPTION_KEYS is empty.",
                hint="Generate one with Fernet.generate_key() and list it (newest first).",
                id="backfuture.E001",
            )
        ]
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                checks.Error(
                    f"FIELD_ENCRYPTION_KEYS entry {index + 1} is not a valid Fernet key.",
                    hint="A Fernet key is 32 random bytes, url-safe base64 encoded (44 characters).",
                    id="backfuture.E002",
                )
            )
        if key == settings.SECRET_KEY:
            errors.append(
                checks.Error(
                    "FIELD_ENCRYPTION_KEYS must not reuse SECRET_KEY.",
                    id="backfuture.E003",
                )
            )
    if len(set(keys)) != len(keys):
        errors.append(
            checks.Warning("FIELD_ENCRYPTION_KEYS lists a key twice.", id="backfuture.W001")
        )
    return errors
