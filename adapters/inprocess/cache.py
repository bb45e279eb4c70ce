"""An in-process cache whose entries expire by the injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.runtime import Clock


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: datetime | None  # None: a counter made by `incr`, which lives until deleted


class InMemoryCache:
    """The `Cache` port in a dict, for one process.

    An entry set with `ttl_seconds` is visible until `ttl_seconds` have passed on the
    clock. `incr` behaves like Redis INCR: a missing key starts from 0 and never expires,
    an existing one keeps its expiry, and the value is stored as ASCII digits (so `get`
    after `incr` returns b"1"); `get_versioned` reads a counter and the value under it
    with no await in between, so no other task can bump the counter halfway. At most
    `max_entries` are kept: beyond that, the oldest written go first (expired entries are
    otherwise dropped when next read).
    """

    def __init__(self, clock: Clock, *, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("the cache must be able to hold at least one entry")
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, _Entry] = {}

    async def get(self, key: str) -> bytes | None:
        entry = self._live_entry(key)
        return None if entry is None else entry.value

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"a cache TTL must be positive, got {ttl_seconds}")
        self._entries.pop(key, None)  # re-inserting moves the key to the newest end
        expires_at = self._clock.now() + timedelta(seconds=ttl_seconds)
        self._entries[key] = _Entry(bytes(value), expires_at)
        self._make_room()

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def incr(self, key: str) -> int:
        entry = self._live_entry(key)
        if entry is None:
            self._entries[key] = _Entry(b"1", None)
            self._make_room()
            return 1
        try:
            value = int(entry.value) + 1
        except ValueError:
            raise ValueError(f"cache key {key!r} does not hold an integer") from None
        entry.value = str(value).encode("ascii")
        return value

    async def get_versioned(
        self, version_key: str, key_prefix: str, key_suffix: str = ""
    ) -> tuple[int, bytes | None]:
        counter = self._live_entry(version_key)
        try:
            version = 0 if counter is None else int(counter.value)
        except ValueError:
            raise ValueError(f"cache key {version_key!r} does not hold an integer") from None
        entry = self._live_entry(f"{key_prefix}{version}{key_suffix}")
        return version, None if entry is None else entry.value

    def _live_entry(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at is not None and entry.expires_at <= self._clock.now():
            del self._entries[key]
            return None
        return entry

    def _make_room(self) -> None:
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]
