"""Redis down: the API keeps serving what does not need Redis. An order placed meanwhile
commits (201), its events wait in the outbox, and once Redis is back the worker relays
them and the confirmation email goes out. Uses a redis-server of the test's own, never
the shared one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dependency_injector import providers
from redis.asyncio import Redis

from adapters.fakes.mailer import InMemoryMailer
from adapters.sql.engine import create_engine
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import (
    ADMIN_EMAIL,
    PASSWORD,
    assert_problem,
    checkout,
    create_product,
    login,
    put_in_cart,
    register,
    serving,
)
from tests.entrypoints.worker.support import ARQ_CLOSES_WITH_DEPRECATED_CALL, Queue, running_worker
from tests.polling import eventually
from tests.real_services import PrivateRedis
from tests.sql_fixtures import use_sql

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL)]


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def queue(private_redis: PrivateRedis) -> AsyncIterator[Queue]:
    redis = Redis.from_url(private_redis.url)
    yield Queue(redis, "hexmart-test:", private_redis.url)
    await redis.aclose()


@pytest.fixture
async def shop(
    private_redis: PrivateRedis, queue: Queue, sqlite_url: str
) -> AsyncIterator[Container]:
    """The app's container as in production, but for payments and email: Redis for the
    cache, rate limits, sessions and the arq queue; SQLite for the data."""
    engine = create_engine(sqlite_url)
    shop = in_memory_container(
        settings_for_tests(
            redis_url=private_redis.url, admin_email=ADMIN_EMAIL, admin_password=PASSWORD
        )
    )
    use_sql(shop, engine)
    task_queue, connection = queue.task_queue()
    shop.task_queue.override(providers.Object(task_queue))
    yield shop
    await connection.aclose()
    await engine.dispose()


async def unsent_event_names(shop: Container) -> list[str]:
    async with shop.unit_of_work()() as uow:
        return [message.name for message in await uow.outbox.list_unsent(100)]


async def test_an_order_placed_while_redis_is_down_commits_and_is_confirmed_once_it_is_back(
    shop: Container, private_redis: PrivateRedis, queue: Queue
) -> None:
    app = create_app(shop)  # with Redis configured, the worker relays the outbox
    async with serving(app) as client:
        admin = await login(client, ADMIN_EMAIL)
        ann = await register(client, "ann@example.com")
        mug = await create_product(client, admin)
        await put_in_cart(client, ann, mug["id"], 2)

        private_redis.stop()
        ready = await client.get("/health/ready")
        browsing = await client.get("/products")
        placed = await checkout(client, ann, key="while-redis-is-down")
        assert placed.status_code == 201, placed.text
        order = placed.json()["order"]
        mine = await client.get(f"/orders/{order['id']}", headers=ann.headers)
        assert "order_placed" in await unsent_event_names(shop)

        private_redis.start()
        mailer = shop.mailer()
        assert isinstance(mailer, InMemoryMailer)
        async with running_worker(shop, queue, redis_url=private_redis.url):
            await eventually(
                lambda: _subjects_now(mailer, "ann@example.com"),
                lambda subjects: f"Order #{order['number']} received" in subjects,
                within=20.0,
            )
        back = await client.get("/health/ready")

    body = assert_problem(ready, 503)
    assert body["checks"]["redis"] == "failed"
    assert browsing.status_code == 200
    assert mine.status_code == 200
    assert mine.json()["status"] == "pending"
    assert await unsent_event_names(shop) == []
    assert _subjects(mailer, "ann@example.com").count(f"Order #{order['number']} received") == 1
    assert back.status_code == 200


def _subjects(mailer: InMemoryMailer, address: str) -> list[str]:
    return [message.subject for message in mailer.sent_to(address)]


async def _subjects_now(mailer: InMemoryMailer, address: str) -> list[str]:
    return _subjects(mailer, address)
