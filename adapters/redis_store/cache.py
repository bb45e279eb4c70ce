"""The `Cache` port on Redis, shared by every app process."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from adapters.redis_store.client import DEFAULT_PREFIX
from adapters.redis_store.outages import REDIS_FAILURES, OutageLog

log = logging.getLogger(__name__)


class RedisCache:
    """Values are stored as they are given, under `<prefix>cache:<key>`, with Redis's own
    expiry (so time is the Redis server's). `incr` is Redis INCR: a missing key starts at
    0 and never expires; an existing one keeps its TTL.

    Best effort, as the port says: when Redis fails, `get` reads as a miss, `set` and
    `delete` do nothing, and `incr` returns 0 (no counter could be kept); the outage is
    logged as a warning, once and then every half minute, never raised. Consequence: a
    generation counter bumped during an outage is not bumped, so entries cached before
    the outage may be served again afterwards, until their TTL; keep cache TTLs short
    for data that must not go stale. Programming errors (a non-integer under `incr`, a
    TTL that is not positive) still raise `ValueError`, as in the in-process cache.
    """

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = f"{prefix}cache:"
        self._outage = OutageLog(log, "cache")

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except REDIS_FAILURES as error:
            self._outage.failed(error, "reading as a miss")
            return None
        self._outage.succeeded()
        return None if value is None else bytes(value)

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"a cache TTL must be positive, got {ttl_seconds}")
        try:
            await self._redis.set(self._prefix + key, bytes(value), ex=ttl_seconds)
        except REDIS_FAILURES as error:
            self._outage.failed(error, "not caching")
            return
        self._outage.succeeded()

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except REDIS_FAILURES as error:
            self._outage.failed(error, "entry not deleted (it expires by its TTL)")
            return
        self._outage.succeeded()

    async def incr(self, key: str) -> int:
        try:
            value = int(await self._redis.incr(self._prefix + key))
        except REDIS_FAILURES as error:
            if _is_not_an_integer(error):
                raise ValueError(f"cache key {key!r} does not hold an integer") from None
            self._outage.failed(error, "counter not incremented")
            return 0
        self._outage.succeeded()
        return value


def _is_not_an_integer(error: BaseException) -> bool:
    return "not an integer" in str(error)
