"""The text of tokens and keys: a random secret shown once, stored as its SHA-256 only."""

from __future__ import annotations

import hashlib
import re
import secrets as random_secrets
from dataclasses import dataclass

TOKEN_PREFIX = "jsxt"
KEY_PREFIX = "jsxk"
VISIBLE = 6  # characters of the secret kept visible after the type (and county) marker
KEY_PATTERN = re.compile(rf"^{KEY_PREFIX}_(\d{{1,18}})_([A-Za-z0-9_-]{{20,100}})$")
TOKEN_PATTERN = re.compile(rf"^{TOKEN_PREFIX}_([A-Za-z0-9_-]{{20,100}})$")


@dataclass(frozen=True)
class NewSecret:
    raw: str  # shown to the user once, never stored
    prefix: str
    key_hash: str


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token() -> NewSecret:
    body = random_secrets.token_urlsafe(32)
    raw = f"{TOKEN_PREFIX}_{body}"
    return NewSecret(raw=raw, prefix=f"{TOKEN_PREFIX}_{body[:VISIBLE]}", key_hash=digest(raw))


def new_key(county_id: int) -> NewSecret:
    body = random_secrets.token_urlsafe(32)
    raw = f"{KEY_PREFIX}_{county_id}_{body}"
    return NewSecret(
        raw=raw, prefix=f"{KEY_PREFIX}_{county_id}_{body[:VISIBLE]}", key_hash=digest(raw)
    )


def key_county(raw: str) -> int | None:
    """The county id an API key's text carries, or None when it is not a key's shape."""
    match = KEY_PATTERN.match(raw)
    return int(match.group(1)) if match else None
