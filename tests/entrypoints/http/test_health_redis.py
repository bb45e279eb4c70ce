"""/health/ready checks Redis when it is configured: 503 naming "redis" while it is down,
200 again once it is back. Uses a redis-server of the test's own, never the shared one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from application.workers import WorkerIdentity
from entrypoints.http.app import create_app
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import Client, assert_problem, serving
from tests.polling import eventually
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
    assert response.json()["checks"]["redis"] == "ok"


async def test_redis_down_is_503_naming_redis_and_ready_again_once_it_is_back(
    client: Client, private_redis: PrivateRedis
) -> None:
    private_redis.stop()
    down = await client.get("/health/ready")
    live = await client.get("/health/live")
    private_redis.start()
    back = await client.get("/health/ready")

    body = assert_problem(down, 503)
    assert body["checks"] == {
        "database": "ok",
        "redis": "failed",
        "outbox": "ok",
        "worker": "failed",
    }
    assert "redis" in body["detail"]
    assert str(private_redis.port) not in down.text
    assert live.status_code == 200
    assert back.status_code == 200


async def test_without_redis_only_the_database_is_checked() -> None:
    shop = in_memory_container()
    async with serving(create_app(shop, background_jobs=False)) as client:
        response = await client.get("/health/ready")

    assert response.json()["checks"] == {"database": "ok", "outbox": "ok"}


async def test_with_no_worker_heartbeat_the_worker_check_is_degraded_not_unready(
    client: Client,
) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "ok", "outbox": "ok", "worker": "degraded"},
        "details": {"worker": "no worker heartbeat in the last 15 s"},
    }


async def test_a_worker_heartbeat_counts_until_it_expires(private_redis: PrivateRedis) -> None:
    shop = in_memory_container(settings_for_tests(redis_url=private_redis.url))
    worker = WorkerIdentity("w-1", "host-1", 4242, shop.clock().now())
    async with serving(create_app(shop, background_jobs=False)) as client:
        await shop.workers().beat(worker, jobs_done=7, ttl_seconds=1)
        alive = await client.get("/health/ready")
        [heartbeat] = await shop.workers().alive()
        gone = await eventually(lambda: client.get("/health/ready"), _worker_degraded)

    assert alive.json()["checks"]["worker"] == "ok"
    assert (heartbeat.worker_id, heartbeat.host, heartbeat.pid) == ("w-1", "host-1", 4242)
    assert (heartbeat.started_at, heartbeat.jobs_done) == (worker.started_at, 7)
    assert gone.json()["checks"]["worker"] == "degraded"
    assert await shop.workers().alive() == []


def _worker_degraded(response: httpx.Response) -> bool:
    return bool(response.json()["checks"]["worker"] == "degraded")
