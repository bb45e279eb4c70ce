"""Time, identifiers, caching and rate limiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique, opaque identifier."""


class Cache(Protocol):
    """A best-effort cache: a miss or an outage is never an error, only slower."""

    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def incr(self, key: str) -> int:
        """Atomically add one and return the new value (used as a generation counter)."""

    async def get_versioned(
        self, version_key: str, key_prefix: str, key_suffix: str = ""
    ) -> tuple[int, bytes | None]:
        """The counter under `version_key` (0 if missing) and the value under
        f"{key_prefix}{counter}{key_suffix}", read together in one step: the value is
        never one stored under an older counter. A cache that is down reads as (0, None);
        a counter that is not an integer raises `ValueError`, as in `incr`."""


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    remaining: int
    retry_after_seconds: int


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        """Count one request against `key`; allowed while at most `limit` fall in a window."""

    async def peek(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        """Whether a hit against `key` would be allowed now, without counting one (for
        limits that count only some outcomes, such as failed sign-ins)."""
