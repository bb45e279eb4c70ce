"""Nothing the Redis adapters write stays in Redis forever: every key has an expiry that
follows what it holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from adapters.redis_store.cache import COUNTER_LIFETIME_SECONDS, RedisCache
from adapters.redis_store.heartbeats import RedisWorkerHeartbeats
from adapters.redis_store.rate_limiter import RedisRateLimiter
from adapters.redis_store.token_store import RedisTokenStore
from application.ports.security import RefreshFamily
from application.ports.workers import WorkerHeartbeat
from tests.contract.time_control import RealTime
from tests.real_services import shared_redis

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000
GRACE_MS = 5 * 60 * 1000


@pytest.fixture
async def redis_and_prefix() -> AsyncIterator[tuple[Redis, str]]:
    async with shared_redis() as redis_and_prefix:
        yield redis_and_prefix


def a_family(family_id: str, expires_at: datetime) -> RefreshFamily:
    return RefreshFamily(family_id, "ann", "h0", expires_at)


async def test_a_family_and_its_user_index_expire_with_the_family(
    redis_and_prefix: tuple[Redis, str],
) -> None:
    redis, prefix = redis_and_prefix
    store = RedisTokenStore(redis, prefix=prefix)
    await store.create_family(a_family("fam", datetime.now(UTC) + timedelta(days=1)))

    family_ttl = await redis.pttl(f"{prefix}refresh:family:fam")
    user_ttl = await redis.pttl(f"{prefix}refresh:user:ann")
    assert DAY_MS + GRACE_MS - 5_000 < family_ttl <= DAY_MS + GRACE_MS
    assert family_ttl - 1_000 < user_ttl <= DAY_MS + GRACE_MS


async def test_a_one_time_token_expires_with_its_expiry(
    redis_and_prefix: tuple[Redis, str],
) -> None:
    redis, prefix = redis_and_prefix
    store = RedisTokenStore(redis, prefix=prefix)
    await store.put_one_time("reset", "t", "ann", datetime.now(UTC) + timedelta(hours=1))
    ttl = await redis.pttl(f"{prefix}once:reset:t")
    assert 3_600_000 + GRACE_MS - 5_000 < ttl <= 3_600_000 + GRACE_MS


async def test_families_that_expired_on_their_own_leave_the_user_index(
    redis_and_prefix: tuple[Redis, str],
) -> None:
    redis, prefix = redis_and_prefix
    store = RedisTokenStore(redis, prefix=prefix, expiry_grace=timedelta(milliseconds=50))
    await store.create_family(a_family("old", datetime.now(UTC) - timedelta(seconds=1)))

    async def gone() -> bool:
        return not await redis.exists(f"{prefix}refresh:family:old")

    assert await RealTime().holds_after(0.05, gone)

    await store.create_family(a_family("new", datetime.now(UTC) + timedelta(days=1)))

    assert await redis.smembers(f"{prefix}refresh:user:ann") == {b"new"}


async def test_rate_limit_and_cache_keys_expire(redis_and_prefix: tuple[Redis, str]) -> None:
    redis, prefix = redis_and_prefix
    await RedisRateLimiter(redis, prefix=prefix).hit("ip:1", limit=5, window_seconds=60)
    await RedisCache(redis, prefix=prefix).set("page", b"v", ttl_seconds=30)
    assert 59_000 < await redis.pttl(f"{prefix}rate:60:ip:1") <= 60_000
    assert 29_000 < await redis.pttl(f"{prefix}cache:page") <= 30_000


async def test_a_counter_expires_long_after_any_entry_and_a_set_ttl_is_kept(
    redis_and_prefix: tuple[Redis, str],
) -> None:
    redis, prefix = redis_and_prefix
    cache = RedisCache(redis, prefix=prefix)
    await cache.incr("generation")
    await cache.set("short", b"41", ttl_seconds=30)
    assert await cache.incr("short") == 42
    lifetime_ms = COUNTER_LIFETIME_SECONDS * 1000
    assert lifetime_ms - 5_000 < await redis.pttl(f"{prefix}cache:generation") <= lifetime_ms
    assert 29_000 < await redis.pttl(f"{prefix}cache:short") <= 30_000


async def test_a_worker_heartbeat_expires_with_its_ttl(
    redis_and_prefix: tuple[Redis, str],
) -> None:
    redis, prefix = redis_and_prefix
    now = datetime.now(UTC)
    beat = WorkerHeartbeat("w-1", "host", 42, now, now, 3)
    await RedisWorkerHeartbeats(redis, prefix=prefix).beat(beat, ttl_seconds=15)
    assert 14_000 < await redis.pttl(f"{prefix}worker:w-1") <= 15_000
