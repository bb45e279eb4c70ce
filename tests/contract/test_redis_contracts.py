"""The Redis adapters (cache, rate limiter, token store) and the arq task queue against
their ports' contracts, on the real Redis (see tests/real_services.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from adapters.arq_queue.serialization import deserialize
from adapters.arq_queue.task_queue import ArqTaskQueue, create_arq_redis
from adapters.redis_store.cache import RedisCache
from adapters.redis_store.client import create_redis_client
from adapters.redis_store.rate_limiter import RedisRateLimiter
from adapters.redis_store.token_store import RedisTokenStore
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import TaskQueue
from application.ports.runtime import Cache, RateLimiter
from application.ports.security import TokenStore
from tests.contract.cache_contract import CacheContract
from tests.contract.rate_limiter_contract import RateLimiterContract
from tests.contract.task_queue_contract import AcceptedJob, TaskQueueOutageContract
from tests.contract.time_control import Condition, RealTime, TimeControl
from tests.contract.token_store_contract import TokenStoreContract
from tests.real_services import SHARED_REDIS_URL, PrivateRedis, free_port, shared_redis

pytestmark = pytest.mark.integration


class OnSharedRedis:
    """Gives each test `self.redis` (a client of the shared Redis) and `self.prefix` (a
    key prefix of its own, deleted afterwards)."""

    redis: Redis
    prefix: str

    @pytest.fixture(autouse=True)
    async def _redis(self) -> AsyncIterator[None]:
        async with shared_redis() as (redis, prefix):
            self.redis, self.prefix = redis, prefix
            yield


class TestRedisCache(OnSharedRedis, CacheContract):
    def make_time_control(self) -> TimeControl:
        return RealTime()

    def make_cache(self) -> Cache:
        return RedisCache(self.redis, prefix=self.prefix)


class RealTimeCheckedOnlyAfterwards(RealTime):
    """Checks the condition only once `seconds` have passed. A rate limiter's condition
    is itself a hit: polled early, an allowed poll would count against the very window
    the test waits for (and, landing between the expiries of hits made a millisecond
    apart, make "the full limit is available again" fail now and then)."""

    async def holds_after(self, seconds: float, condition: Condition) -> bool:
        await asyncio.sleep(seconds)
        return await super().holds_after(0, condition)


class TestRedisRateLimiter(OnSharedRedis, RateLimiterContract):
    window_seconds = 2

    def make_time_control(self) -> TimeControl:
        return RealTimeCheckedOnlyAfterwards()

    def make_rate_limiter(self) -> RateLimiter:
        return RedisRateLimiter(self.redis, prefix=self.prefix)


class TestRedisTokenStore(OnSharedRedis, TokenStoreContract):
    def make_token_store(self) -> TokenStore:
        return RedisTokenStore(self.redis, prefix=self.prefix)


class TestArqTaskQueue(OnSharedRedis, TaskQueueOutageContract):
    @pytest.fixture(autouse=True)
    async def _arq_redis(self, _redis: None) -> AsyncIterator[None]:
        self.arq_redis = create_arq_redis(SHARED_REDIS_URL)
        self.queue_name = f"{self.prefix}queue"
        yield
        await self.arq_redis.aclose()

    def make_task_queue(self) -> TaskQueue:
        return ArqTaskQueue(self.arq_redis, queue_name=self.queue_name, job_id_prefix=self.prefix)

    async def accepted_jobs(self, queue: TaskQueue) -> list[AcceptedJob]:
        accepted = []
        for job_id in await self.redis.zrange(self.queue_name, 0, -1):
            job = deserialize(await self.redis.get(b"arq:job:" + job_id))
            accepted.append(AcceptedJob(job["f"], *job["a"]))
        return accepted

    def make_unreachable_task_queue(self) -> TaskQueue:
        nobody_listens = create_arq_redis(f"redis://127.0.0.1:{free_port()}/0")
        return ArqTaskQueue(nobody_listens, queue_name=self.queue_name)


@pytest.mark.parametrize(
    "make",
    [
        lambda redis: RedisCache(redis).get("k"),
        lambda redis: RedisCache(redis).set("k", b"v", ttl_seconds=5),
        lambda redis: RedisCache(redis).delete("k"),
    ],
    ids=["get", "set", "delete"],
)
async def test_a_cache_whose_redis_is_down_reads_as_a_miss_and_never_raises(make) -> None:
    redis = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    assert await make(redis) is None
    await redis.aclose()


async def test_a_cache_counter_whose_redis_is_down_reads_as_zero() -> None:
    redis = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    assert await RedisCache(redis).incr("k") == 0
    await redis.aclose()


async def test_a_versioned_cache_read_whose_redis_is_down_is_version_0_and_a_miss(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    cache = RedisCache(redis)
    reads = [await cache.get_versioned("generation", "page:", ":1") for _ in range(3)]
    assert reads == [(0, None)] * 3
    warnings = [r for r in caplog.records if "reading as a miss" in r.getMessage()]
    assert len(warnings) == 1  # logged like the other cache calls: once per outage
    await redis.aclose()


async def test_a_rate_limiter_whose_redis_is_down_lets_requests_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    limiter = RedisRateLimiter(redis)
    decisions = [await limiter.hit("login:ann", limit=1, window_seconds=60) for _ in range(3)]
    decisions.append(await limiter.peek("login:ann", limit=1, window_seconds=60))
    assert all(decision.allowed for decision in decisions)
    warnings = [r for r in caplog.records if "failing open" in r.getMessage()]
    assert len(warnings) == 1  # one warning per outage, not one per request
    await redis.aclose()


async def test_a_token_store_whose_redis_is_down_refuses_to_answer() -> None:
    redis = create_redis_client(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(ServiceUnavailable):
        await RedisTokenStore(redis).rotate("fam", "h0", "h1", datetime.now(UTC))
    await redis.aclose()


async def test_the_redis_adapters_carry_on_after_redis_restarts(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    server.start()
    redis = create_redis_client(server.url)
    try:
        cache, limiter = RedisCache(redis), RedisRateLimiter(redis)
        tokens = RedisTokenStore(redis)
        await cache.set("k", b"before", ttl_seconds=60)
        await cache.set("page:0", b"versioned", ttl_seconds=60)
        assert (await limiter.hit("k", limit=2, window_seconds=60)).remaining == 1
        server.stop()
        assert await cache.get("k") is None
        with pytest.raises(ServiceUnavailable):
            await tokens.family_owner("fam", datetime.now(UTC))
        server.start()  # pooled connections are now broken, and the script cache empty
        assert await cache.get("k") == b"before"
        assert await cache.get_versioned("generation", "page:") == (0, b"versioned")
        assert (await limiter.hit("k", limit=2, window_seconds=60)).remaining == 0
        assert not (await limiter.hit("k", limit=2, window_seconds=60)).allowed
    finally:
        await redis.aclose()
        server.stop()
