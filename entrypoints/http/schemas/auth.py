"""Sign-up, sign-in, token refresh, sign-out and password reset."""

from __future__ import annotations

import msgspec

from application.auth import TokenPair
from entrypoints.http.schemas.users import User, user_out


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str
    full_name: str


class Login(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    password: str


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: str


class PasswordResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: str


class PasswordResetConfirmation(msgspec.Struct, forbid_unknown_fields=True):
    token: str
    new_password: str


class Tokens(msgspec.Struct):
    """A short-lived access JWT and a refresh token that can be spent once."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: User


def tokens_out(pair: TokenPair) -> Tokens:
    return Tokens(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        user=user_out(pair.user),
    )
