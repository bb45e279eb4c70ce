"""Worker heartbeats, in memory and on the real Redis, against one contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from adapters.inprocess.heartbeats import InMemoryWorkerHeartbeats
from adapters.redis_store.heartbeats import RedisWorkerHeartbeats
from adapters.system.clock import FixedClock
from application.ports.errors import ServiceUnavailable
from application.ports.workers import WorkerHeartbeats
from tests.contract.time_control import ControlledTime, RealTime, TimeControl
from tests.contract.worker_heartbeats_contract import WorkerHeartbeatsContract, a_beat
from tests.real_services import free_port, shared_redis


class TestInMemoryWorkerHeartbeats(WorkerHeartbeatsContract):
    def make_time_control(self) -> TimeControl:
        self.clock = FixedClock(datetime(2026, 12, 1, tzinfo=UTC))
        return ControlledTime(self.clock)

    def make_heartbeats(self) -> WorkerHeartbeats:
        return InMemoryWorkerHeartbeats(self.clock)


@pytest.mark.integration
class TestRedisWorkerHeartbeats(WorkerHeartbeatsContract):
    redis: Redis
    prefix: str

    @pytest.fixture(autouse=True)
    async def _redis(self) -> AsyncIterator[None]:
        async with shared_redis() as (redis, prefix):
            self.redis, self.prefix = redis, prefix
            yield

    def make_time_control(self) -> TimeControl:
        return RealTime()

    def make_heartbeats(self) -> WorkerHeartbeats:
        return RedisWorkerHeartbeats(self.redis, prefix=self.prefix)


@pytest.mark.integration
async def test_with_redis_down_heartbeats_say_so() -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    heartbeats = RedisWorkerHeartbeats(redis)
    try:
        with pytest.raises(ServiceUnavailable):
            await heartbeats.beat(a_beat("w-1"), ttl_seconds=30)
        with pytest.raises(ServiceUnavailable):
            await heartbeats.alive()
        with pytest.raises(ServiceUnavailable):
            await heartbeats.forget("w-1")
    finally:
        await redis.aclose()
