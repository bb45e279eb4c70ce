"""The `Cache` port on Redis, shared by every app process."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from adapters.redis_store.client import DEFAULT_PREFIX
from adapters.redis_store.outages import REDIS_FAILURES, OutageLog

log = logging.getLogger(__name__)

# A counter and the entry stored under its current value, in one round trip and one
# atomic step. The entry's key is built on the server, so it is not declared in KEYS:
# fine on one Redis, not on Redis Cluster, where the two keys could live on different
# nodes (there, `get_versioned` is two single-key GETs instead). The counter comes back
# raw so Python decides what an integer is, as for `incr`.
_GET_VERSIONED = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', ARGV[1] .. version .. ARGV[2])}
"""

# INCR, and an expiry for a counter that has none, in one atomic step.
_INCR = """
local value = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return value
"""

# A counter made by `incr` lives this long, so that no key hexmart writes stays for ever.
# Far longer than any cached entry: when it expires, it reads as 0 again, and every entry
# cached under a number it had since has long expired.
COUNTER_LIFETIME_SECONDS = 30 * 24 * 3600


class RedisCache:
    """Values are stored as they are given, under `<prefix>cache:<key>`, with Redis's own
    expiry (so time is the Redis server's). `incr` is Redis INCR: a missing key starts at
    0 and expires `COUNTER_LIFETIME_SECONDS` later; an existing one keeps its TTL.

    `get_versioned` is one Lua script (EVALSHA), so the counter and the entry come in a
    single round trip.

    Best effort, as the port says: when Redis fails, `get` reads as a miss and
    `get_versioned` as (0, None), `set` and `delete` do nothing, and `incr` returns 0 (no
    counter could be kept); the outage is logged as a warning, once and then every half
    minute, never raised. Consequence: a generation counter bumped during an outage is
    not bumped, so entries cached before the outage may be served again afterwards,
    until their TTL; keep cache TTLs short for data that must not go stale. Programming
    errors (a non-integer counter under `incr` or `get_versioned`, a TTL that is not
    positive) still raise `ValueError`, as in the in-process cache.
    """

    def __init__(
        self, redis: Redis | RedisCluster, *, prefix: str = DEFAULT_PREFIX, cluster: bool = False
    ) -> None:
        self._redis = redis
        # On Redis Cluster every command touches one key (no cross-slot script).
        self._cluster = cluster
        self._prefix = f"{prefix}cache:"
        self._get_versioned = redis.register_script(_GET_VERSIONED)
        self._incr = redis.register_script(_INCR)
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
            value = int(
                await self._incr(keys=[self._prefix + key], args=[COUNTER_LIFETIME_SECONDS])
            )
        except REDIS_FAILURES as error:
            if _is_not_an_integer(error):
                raise ValueError(f"cache key {key!r} does not hold an integer") from None
            self._outage.failed(error, "counter not incremented")
            return 0
        self._outage.succeeded()
        return value

    async def get_versioned(
        self, version_key: str, key_prefix: str, key_suffix: str = ""
    ) -> tuple[int, bytes | None]:
        try:
            if self._cluster:
                # The counter first, then the entry stored under it: an entry read is
                # always one of the version read (a newer one is simply a miss).
                raw_version = await self._redis.get(self._prefix + version_key) or b"0"
                value = await self._redis.get(
                    f"{self._prefix}{key_prefix}{raw_version.decode()}{key_suffix}"
                )
            else:
                raw_version, value = await self._get_versioned(
                    keys=[self._prefix + version_key],
                    args=[self._prefix + key_prefix, key_suffix],
                )
        except REDIS_FAILURES as error:
            self._outage.failed(error, "reading as a miss")
            return 0, None
        self._outage.succeeded()
        try:
            version = int(raw_version)
        except ValueError:
            raise ValueError(f"cache key {version_key!r} does not hold an integer") from None
        return version, None if value is None else bytes(value)


def _is_not_an_integer(error: BaseException) -> bool:
    return "not an integer" in str(error)
