"""Opaque secrets handed to clients (refresh tokens, reset tokens, API keys).

Only a SHA-256 digest of each is ever stored: they carry 256 bits of randomness, so a fast
hash is enough (slow hashing is for low-entropy passwords).
"""

from __future__ import annotations

import hashlib
import secrets

from domain.errors import InvalidToken

API_KEY_PREFIX = "hxm_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_refresh_token(family_id: str) -> str:
    """`<family id>.<secret>`: the family id lets us find, rotate or revoke its family."""
    return f"{family_id}.{new_secret()}"


def refresh_token_family(token: str) -> str:
    family_id, dot, secret = token.partition(".")
    if not dot or not family_id or not secret or len(token) > 512:
        raise InvalidToken("malformed refresh token")
    return family_id


def new_api_key() -> str:
    return API_KEY_PREFIX + new_secret()
