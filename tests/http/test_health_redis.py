"""/health/ready checks Redis when it is configured: 503 naming "redis" while it is down,
200 again once it is back. Uses a redis-server of the test's own, never the shared one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.http.shop_api import Client, assert_problem, serving
from tests.real_services import PrivateRedis

pytestmark = pytest.mark.integration


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def client(private_redis: PrivateRedis) -> AsyncIterator[Client]:
    shop = in_memory_container(settings_for_tests(redis_url=private_redis.url))
    async with serving(create_app(shop, background_jobs=False)) as client:
        yield client


async def test_ready_checks_redis_when_it_is_configured(client: Client) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_redis_down_is_503_naming_redis_and_ready_again_once_it_is_back(
    client: Client, private_redis: PrivateRedis
) -> None:
    private_redis.stop()
    down = await client.get("/health/ready")
    live = await client.get("/health/live")
    private_redis.start()
    back = await client.get("/health/ready")

    body = assert_problem(down, 503)
    assert body["checks"] == {"database": "ok", "redis": "failed"}
    assert "redis" in body["detail"]
    assert str(private_redis.port) not in down.text
    assert live.status_code == 200
    assert back.status_code == 200


async def test_without_redis_only_the_database_is_checked() -> None:
    shop = in_memory_container()
    async with serving(create_app(shop, background_jobs=False)) as client:
        response = await client.get("/health/ready")

    assert response.json()["checks"] == {"database": "ok"}
