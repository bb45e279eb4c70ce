"""Scoped API keys for third-party programs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from application.api_keys import IssuedApiKey
from domain import users
from entrypoints.http.schemas.common import rfc3339


class NewApiKey(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    scopes: Annotated[list[users.Scope], msgspec.Meta(min_length=1, max_length=10)]


class ApiKey(msgspec.Struct):
    """An API key without its secret; `prefix` helps tell keys apart."""

    id: str
    name: str
    scopes: list[users.Scope]
    prefix: str
    created_at: datetime


class IssuedKey(msgspec.Struct):
    """`key` is shown this once; only its hash is stored."""

    id: str
    name: str
    scopes: list[users.Scope]
    key: str
    created_at: datetime


class ApiKeyPage(msgspec.Struct):
    items: list[ApiKey]
    next_cursor: str | None


def _scopes(key: users.ApiKey) -> list[users.Scope]:
    return sorted(key.scopes, key=lambda scope: scope.value)


def api_key_out(key: users.ApiKey) -> ApiKey:
    return ApiKey(
        id=key.id,
        name=key.name,
        scopes=_scopes(key),
        prefix=key.prefix,
        created_at=rfc3339(key.created_at),
    )


def issued_key_out(issued: IssuedApiKey) -> IssuedKey:
    key = issued.api_key
    return IssuedKey(
        id=key.id,
        name=key.name,
        scopes=_scopes(key),
        key=issued.key,
        created_at=rfc3339(key.created_at),
    )
