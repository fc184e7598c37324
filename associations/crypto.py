"""Encryption at rest of personal identifiers (ID numbers, phones; next, bank accounts).

- An authenticated cipher (AES-256-GCM from `cryptography`): a changed byte of a stored value,
  or a value moved to another column, fails to decrypt, loudly (`DecryptionError`).
- Keys come from settings: FIELD_ENCRYPTION_KEYS, an ordered {key id: base64 key of 32 bytes},
  the first one current (new values are written under it; the others still read). Every
  stored value names its key: ``k1:`` + base64(nonce + ciphertext + tag).
- The associated data is the value's table and column ("households_person.id_number"): a
  ciphertext copied into another column (or another table) does not decrypt there.
- A blind index: HMAC-SHA256 under a separate key (BLIND_INDEX_KEY) of the normalised value
  and its column, stored beside the ciphertext, serves exact lookups and the uniqueness
  constraint (associations.encrypted_fields). Rotating that key is not supported: it would
  re-index every row at once (`rotate_keys` rotates the encryption keys only).

A new key: ``manage.py generate_encryption_key`` (or
``python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"``)."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[a-z0-9]{1,8}$")
SEPARATOR = ":"


class DecryptionError(ValueError):
    """A stored value that does not decrypt: tampered with, moved from another column, or
    under a key this installation does not have. Never carries the value."""


def generate_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _key_bytes(name: str, text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{name} must be {KEY_BYTES} random bytes in base64 "
            "(manage.py generate_encryption_key makes one)."
        )
    return raw


def parse_keys(text: str) -> dict[str, str]:
    """FIELD_ENCRYPTION_KEYS from the environment: "k2:base64,k1:base64", current first."""
    keys: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key_id, _, key = item.partition(SEPARATOR)
        keys[key_id.strip()] = key.strip()
    return keys


def check_keys(keys: dict[str, str], index_key: str) -> None:
    """Raise ImproperlyConfigured with a clear message unless the keys are usable."""
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set: ID numbers and phones are encrypted in the "
            'database. Set it to "k1:<base64 key>" (manage.py generate_encryption_key).'
        )
    for key_id, key in keys.items():
        if not KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key id {key_id!r} must be 1-8 lower-case letters "
                "or digits."
            )
        _key_bytes(f"FIELD_ENCRYPTION_KEYS[{key_id}]", key)
    if not index_key:
        raise ImproperlyConfigured(
            "BLIND_INDEX_KEY is not set: exact lookups of encrypted ID numbers and phones need "
            "it. Set it to a base64 key (manage.py generate_encryption_key); never change it."
        )
    _key_bytes("BLIND_INDEX_KEY", index_key)


@dataclass(frozen=True)
class Keyring:
    current: str
    ciphers: dict[str, AESGCM]
    index_key: bytes


@functools.lru_cache(maxsize=8)
def _keyring(keys: tuple[tuple[str, str], ...], index_key: str) -> Keyring:
    check_keys(dict(keys), index_key)
    return Keyring(
        current=keys[0][0],
        ciphers={key_id: AESGCM(_key_bytes(key_id, key)) for key_id, key in keys},
        index_key=_key_bytes("BLIND_INDEX_KEY", index_key),
    )


def keyring() -> Keyring:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or {}
    return _keyring(tuple(keys.items()), getattr(settings, "BLIND_INDEX_KEY", "") or "")


def current_key_id() -> str:
    return keyring().current


def encrypt(value: str, *, context: str, key_id: str | None = None) -> str:
    """The stored form of `value` in the column named by `context` ("table.column")."""
    ring = keyring()
    key_id = key_id or ring.current
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[key_id].encrypt(nonce, value.encode(), context.encode())
    return f"{key_id}{SEPARATOR}{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(stored: str) -> str:
    key_id, separator, _rest = stored.partition(SEPARATOR)
    return key_id if separator else ""


def decrypt(stored: str, *, context: str) -> str:
    ring = keyring()
    key_id, separator, body = stored.partition(SEPARATOR)
    cipher = ring.ciphers.get(key_id) if separator else None
    if cipher is None:
        raise DecryptionError(
            f"{context}: the stored value names no known key ({key_id or 'none'!r}); "
            "is it encrypted, and is its key in FIELD_ENCRYPTION_KEYS?"
        )
    try:
        raw = base64.b64decode(body, validate=True)
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError) as error:
        raise DecryptionError(
            f"{context}: a stored value under key {key_id!r} fails authentication "
            "(altered, or moved from another column)."
        ) from error


def normalise(value: str) -> str:
    """What the blind index compares: the text without surrounding space, upper case (the
    check character X of an ID number). Services store identifiers normalised already."""
    return str(value).strip().upper()


def blind_index(value: str, *, context: str) -> str:
    """HMAC-SHA256 (hex) of the normalised value, keyed and bound to its column."""
    message = f"{context}\x00{normalise(value)}".encode()
    return hmac.new(keyring().index_key, message, hashlib.sha256).hexdigest()
