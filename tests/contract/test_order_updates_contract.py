"""Live order updates: in process, and on Redis pub/sub (the shared Redis, plus a private
one for outages)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.inprocess.order_updates import InProcessOrderUpdates
from adapters.redis_store.client import create_redis_client
from adapters.redis_store.order_updates import RedisOrderUpdates
from application.ports.errors import ServiceUnavailable
from application.ports.messaging import OrderUpdates
from tests.contract.order_updates_contract import (
    OrderUpdatesContract,
    an_update,
    next_update,
)
from tests.real_services import SHARED_REDIS_URL, PrivateRedis, free_port


class TestInProcessOrderUpdates(OrderUpdatesContract):
    @contextlib.asynccontextmanager
    async def _in_process(self) -> AsyncIterator[OrderUpdates]:
        yield InProcessOrderUpdates()

    def make_order_updates(self) -> contextlib.AbstractAsyncContextManager[OrderUpdates]:
        return self._in_process()


@contextlib.asynccontextmanager
async def redis_order_updates(url: str) -> AsyncIterator[RedisOrderUpdates]:
    redis = create_redis_client(url)
    adapter = RedisOrderUpdates(redis, prefix="hexmart-test:", reconnect_seconds=0.1)
    try:
        yield adapter
    finally:
        await adapter.aclose()
        await redis.aclose()


@pytest.mark.integration
class TestRedisOrderUpdates(OrderUpdatesContract):
    def make_order_updates(self) -> contextlib.AbstractAsyncContextManager[OrderUpdates]:
        return redis_order_updates(SHARED_REDIS_URL)

    async def test_updates_cross_from_one_client_to_another(self, order_id: str) -> None:
        async with (
            redis_order_updates(SHARED_REDIS_URL) as publisher,
            redis_order_updates(SHARED_REDIS_URL) as subscriber,
            subscriber.subscribe(order_id) as received,
        ):
            await publisher.publish(an_update(order_id))
            assert await next_update(received) == an_update(order_id)


@pytest.mark.integration
async def test_with_redis_down_publishing_and_subscribing_are_refused() -> None:
    async with redis_order_updates(f"redis://127.0.0.1:{free_port()}/0") as updates:
        # Raised, so that the outbox event behind the update is handled again later.
        with pytest.raises(ServiceUnavailable):
            await updates.publish(an_update("order-1"))
        with pytest.raises(ServiceUnavailable):
            async with updates.subscribe("order-1"):
                pass


@pytest.mark.integration
async def test_a_subscriber_hears_updates_again_after_redis_restarts(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        async with (
            redis_order_updates(server.url) as publisher,
            redis_order_updates(server.url) as subscriber,
            subscriber.subscribe("order-1") as received,
        ):
            await publisher.publish(an_update("order-1", "paid", 1))
            assert await next_update(received) == an_update("order-1", "paid", 1)
            server.stop()
            with pytest.raises(ServiceUnavailable):
                await publisher.publish(an_update("order-1", "lost", 2))
            server.start()
            # Publish until the subscriber has resubscribed (pub/sub keeps no history).
            for _ in range(100):
                await publisher.publish(an_update("order-1", "shipped", 3))
                try:
                    update = await next_update(received, within=0.1)
                except TimeoutError:
                    continue
                break
            else:
                raise AssertionError("the subscriber never heard from Redis again")
    finally:
        server.stop()

    assert update == an_update("order-1", "shipped", 3)
