"""Redis down while orders are placed: the orders commit, their events wait in the outbox,
and their emails arrive once Redis is back. Uses a redis-server of the test's own, never
the shared one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers
from redis.asyncio import Redis

from adapters.smtp.mailer import SmtpMailer
from entrypoints.testing import in_memory_container
from tests.entrypoints.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    SENDER,
    Queue,
    place_an_order,
    running_worker,
    sign_up,
    subjects,
)
from tests.real_services import PrivateRedis, RecordingSmtpServer

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL)]


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_an_order_placed_while_redis_is_down_commits_and_its_email_arrives_later(
    private_redis: PrivateRedis, smtp_server: RecordingSmtpServer
) -> None:
    queue = Queue(Redis.from_url(private_redis.url), "hexmart-test:", private_redis.url)
    task_queue, connection = queue.task_queue()
    shop = in_memory_container()
    shop.task_queue.override(providers.Object(task_queue))
    shop.mailer.override(providers.Object(SmtpMailer(smtp_server.url, sender=SENDER)))
    ann = await sign_up(shop, "ann@example.com", "Ann Archer")

    async with running_worker(shop, queue, redis_url=private_redis.url):
        await smtp_server.wait_for(1)  # Ann's welcome: the worker is at work
        private_redis.stop()

        placed = await place_an_order(shop, ann)
        assert await shop.outbox_relay().relay_all() == 0  # the queue is down: they wait
        async with shop.unit_of_work()() as uow:
            assert await uow.orders.get(placed.order.id) is not None
            waiting = [message.name for message in await uow.outbox.list_unsent(10)]
        assert "order_placed" in waiting

        private_redis.start()
        await smtp_server.wait_for(3)  # + the admin's welcome and Ann's order
        await smtp_server.wait_for(4, within=1.0)  # time for a duplicate to show up

    assert subjects(smtp_server.received_by("ann@example.com")) == [
        f"Order #{placed.order.number} received",
        "Welcome to hexmart",
    ]
    assert len(smtp_server.received) == 3
    await connection.aclose()
    await queue.redis.aclose()
