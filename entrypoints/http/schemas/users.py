"""Users: the `user` object, the profile and administrator changes, and their pages."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain import users
from entrypoints.http.schemas.common import rfc3339


class User(msgspec.Struct):
    id: str
    email: str
    full_name: str
    role: users.Role
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(msgspec.Struct):
    items: list[User]
    next_cursor: str | None


class ProfileChanges(msgspec.Struct, forbid_unknown_fields=True):
    """Rename, and/or change the password (both password fields together)."""

    full_name: str | msgspec.UnsetType = msgspec.UNSET
    current_password: str | msgspec.UnsetType = msgspec.UNSET
    new_password: str | msgspec.UnsetType = msgspec.UNSET


class UserChanges(msgspec.Struct, forbid_unknown_fields=True):
    role: users.Role | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


def user_out(user: users.User) -> User:
    return User(
        id=user.id,
        email=user.email.value,
        full_name=user.full_name,
        role=user.role,
        is_active=user.is_active,
        created_at=rfc3339(user.created_at),
        updated_at=rfc3339(user.updated_at),
    )
