"""Passwords, access tokens, refresh-token families and one-time tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2id). Async because hashing takes real CPU time
    and must not block the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True if `password` matches; never raises for a malformed or unknown hash."""

    def needs_rehash(self, password_hash: str) -> bool:
        """True for hashes from older schemes or parameters (bcrypt, weaker argon2)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str
    role: str
    token_id: str
    issued_at: datetime
    expires_at: datetime
    epoch: int = 0  # the user's token epoch when issued (0 for tokens that carry none)


class TokenIssuer(Protocol):
    """Signs and checks short-lived access tokens (JWT)."""

    def issue_access_token(self, *, subject: str, role: str, epoch: int = 0) -> IssuedToken:
        """A signed token for user `subject`, carrying the user's token `epoch`."""

    def decode_access_token(self, token: str) -> AccessClaims:
        """Checks signature, algorithm, exp, iat, iss, aud and the token type; raises
        `InvalidToken` on any failure."""


@dataclass(frozen=True, slots=True)
class RefreshFamily:
    """All refresh tokens descended from one login. Only `current_hash` may be spent."""

    family_id: str
    user_id: str
    current_hash: str
    expires_at: datetime
    epoch: int = 0  # the user's token epoch at sign-in: the family dies when it moves on


class RotationResult(enum.Enum):
    ROTATED = "rotated"
    REUSED = "reused"  # an already spent token: the family is now revoked
    UNKNOWN = "unknown"  # no such family, or it was revoked or expired


@dataclass(frozen=True, slots=True)
class Rotation:
    result: RotationResult
    user_id: str | None = None
    epoch: int = 0


class TokenStore(Protocol):
    async def create_family(self, family: RefreshFamily) -> None: ...

    async def rotate(
        self, family_id: str, presented_hash: str, new_hash: str, now: datetime
    ) -> Rotation:
        """Atomically swap `presented_hash` for `new_hash`. Presenting anything but the
        current hash of a live family revokes the whole family (reuse detection)."""

    async def family_owner(self, family_id: str, now: datetime) -> str | None:
        """The user id of a live family, or None."""

    async def revoke_family(self, family_id: str) -> None: ...

    async def revoke_user(self, user_id: str) -> None:
        """Revoke every refresh-token family of the user."""

    async def put_one_time(
        self, purpose: str, token_hash: str, subject: str, expires_at: datetime
    ) -> None: ...

    async def take_one_time(self, purpose: str, token_hash: str, now: datetime) -> str | None:
        """Return the subject and forget the token (atomically), or None if unknown,
        expired or already taken."""
