"""Refresh-token families and one-time tokens, kept in process memory."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from application.ports.security import RefreshFamily, Rotation, RotationResult

# Every so many writes, expired entries are dropped, so memory follows the live tokens.
_SWEEP_EVERY = 1024


@dataclass(frozen=True, slots=True)
class _OneTimeToken:
    subject: str
    expires_at: datetime


class InMemoryTokenStore:
    """The `TokenStore` port for one process.

    A family lives until its `expires_at` (rotation does not extend it) or until it is
    revoked; revoked and expired families are forgotten, so they read as UNKNOWN. The
    store has no clock of its own: expired entries that nobody asks about again are
    dropped every so often, judged by the latest `now` a caller passed in. Every
    operation runs under one `asyncio.Lock`, so a rotation's compare-and-swap can never
    interleave with another rotation of the same family.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._families: dict[str, RefreshFamily] = {}
        self._families_by_user: dict[str, set[str]] = {}
        self._one_time: dict[tuple[str, str], _OneTimeToken] = {}
        self._latest_now: datetime | None = None
        self._writes_since_sweep = 0

    async def create_family(self, family: RefreshFamily) -> None:
        async with self._lock:
            self._count_write()
            self._forget_family(family.family_id)
            self._families[family.family_id] = family
            self._families_by_user.setdefault(family.user_id, set()).add(family.family_id)

    async def rotate(
        self, family_id: str, presented_hash: str, new_hash: str, now: datetime
    ) -> Rotation:
        async with self._lock:
            family = self._live_family(family_id, now)
            if family is None:
                return Rotation(RotationResult.UNKNOWN)
            if presented_hash != family.current_hash:
                # Someone holds a token that was already spent (or never issued): the
                # thief or the victim, we cannot tell which, so nobody keeps the family.
                self._forget_family(family_id)
                return Rotation(RotationResult.REUSED, family.user_id)
            self._families[family_id] = RefreshFamily(
                family_id=family_id,
                user_id=family.user_id,
                current_hash=new_hash,
                expires_at=family.expires_at,
                epoch=family.epoch,
            )
            return Rotation(RotationResult.ROTATED, family.user_id, family.epoch)

    async def family_owner(self, family_id: str, now: datetime) -> str | None:
        async with self._lock:
            family = self._live_family(family_id, now)
            return None if family is None else family.user_id

    async def revoke_family(self, family_id: str) -> None:
        async with self._lock:
            self._forget_family(family_id)

    async def revoke_user(self, user_id: str) -> None:
        async with self._lock:
            for family_id in list(self._families_by_user.get(user_id, ())):
                self._forget_family(family_id)

    async def put_one_time(
        self, purpose: str, token_hash: str, subject: str, expires_at: datetime
    ) -> None:
        async with self._lock:
            self._count_write()
            self._one_time[(purpose, token_hash)] = _OneTimeToken(subject, expires_at)

    async def take_one_time(self, purpose: str, token_hash: str, now: datetime) -> str | None:
        async with self._lock:
            self._saw(now)
            token = self._one_time.pop((purpose, token_hash), None)
            if token is None or token.expires_at <= now:
                return None
            return token.subject

    def _live_family(self, family_id: str, now: datetime) -> RefreshFamily | None:
        self._saw(now)
        family = self._families.get(family_id)
        if family is not None and family.expires_at <= now:
            self._forget_family(family_id)
            return None
        return family

    def _forget_family(self, family_id: str) -> None:
        family = self._families.pop(family_id, None)
        if family is None:
            return
        user_families = self._families_by_user.get(family.user_id)
        if user_families is not None:
            user_families.discard(family_id)
            if not user_families:
                del self._families_by_user[family.user_id]

    def _saw(self, now: datetime) -> None:
        if self._latest_now is None or now > self._latest_now:
            self._latest_now = now

    def _count_write(self) -> None:
        self._writes_since_sweep += 1
        if self._writes_since_sweep < _SWEEP_EVERY or self._latest_now is None:
            return
        self._writes_since_sweep = 0
        now = self._latest_now
        for family_id in [f.family_id for f in self._families.values() if f.expires_at <= now]:
            self._forget_family(family_id)
        self._one_time = {
            key: token for key, token in self._one_time.items() if token.expires_at > now
        }
