"""One Redis per role: the queue, the cache and rate limits, tokens and live updates each
take `HEXMART_REDIS_<ROLE>_URL`, else `HEXMART_REDIS_URL`. Checked against two private
redis-servers: what each role writes lands on its own server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from entrypoints.container import stop_services
from entrypoints.http.app import create_app
from entrypoints.settings import RedisSettings, Settings, SettingsError
from entrypoints.testing import in_memory_container, settings_for_tests
from tests.entrypoints.http.shop_api import assert_problem, serving
from tests.real_services import PrivateRedis

pytestmark = pytest.mark.integration


def test_each_role_defaults_to_the_redis_url() -> None:
    settings = Settings(
        redis=RedisSettings(url="redis://main:6379/0", cache_url="redis://cache:6379/0")
    )

    assert settings.redis.url_for("cache") == "redis://cache:6379/0"
    assert settings.redis.url_for("queue") == "redis://main:6379/0"
    assert settings.redis.url_for("live") == "redis://main:6379/0"
    assert Settings().redis.url_for("queue") is None


def test_a_role_url_must_be_redis_and_needs_the_main_one() -> None:
    with pytest.raises(SettingsError) as wrong:
        Settings.from_mapping(
            {"HEXMART_REDIS_URL": "redis://a/0", "HEXMART_REDIS_QUEUE_URL": "http://b/0"}
        )
    with pytest.raises(SettingsError) as alone:
        Settings.from_mapping({"HEXMART_REDIS_CACHE_URL": "redis://b/0"})

    assert wrong.value.problems == [
        "HEXMART_REDIS_QUEUE_URL: must be a redis://, rediss:// or unix:// URL"
    ]
    assert alone.value.problems == [
        "HEXMART_REDIS_CACHE_URL: needs HEXMART_REDIS_URL too "
        "(the Redis of every role not set apart)"
    ]


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[tuple[PrivateRedis, PrivateRedis]]:
    main, cache = PrivateRedis(tmp_path / "main"), PrivateRedis(tmp_path / "cache")
    for server in (main, cache):
        server.folder.mkdir()
        server.start()
    yield main, cache
    for server in (main, cache):
        server.stop()


async def keys_on(server: PrivateRedis) -> list[bytes]:
    redis = Redis.from_url(server.url)
    try:
        return sorted(await redis.keys("*"))
    finally:
        await redis.aclose()


async def test_the_cache_and_rate_limits_use_their_own_redis(
    servers: tuple[PrivateRedis, PrivateRedis],
) -> None:
    main, cache = servers
    container = in_memory_container(
        settings_for_tests(redis_url=main.url, redis_cache_url=cache.url)
    )
    try:
        await container.cache().set("entry", b"value", 60)
        await container.rate_limiter().hit("client", limit=5, window_seconds=60)
    finally:
        await stop_services(container)

    on_cache = await keys_on(cache)
    on_main = await keys_on(main)
    assert b"hexmart:cache:entry" in on_cache
    assert any(key.startswith(b"hexmart:rate:") for key in on_cache)
    assert on_main == []
    # Tokens and live updates stay on the main one.
    assert container.redis_client().connection_pool.connection_kwargs["port"] == main.port


async def test_readiness_names_the_cache_redis_when_it_is_down(
    servers: tuple[PrivateRedis, PrivateRedis],
) -> None:
    main, cache = servers
    container = in_memory_container(
        settings_for_tests(redis_url=main.url, redis_cache_url=cache.url)
    )
    async with serving(create_app(container, background_jobs=False)) as client:
        up = await client.get("/health/ready")
        cache.stop()
        down = await client.get("/health/ready")
        cache.start()

    # No worker runs here: that check is reported, and never blocks readiness.
    others = {"database": "ok", "redis": "ok", "outbox": "ok", "worker": "degraded"}
    assert up.json()["checks"] == {**others, "redis_cache": "ok"}
    body = assert_problem(down, 503)
    assert body["checks"] == {**others, "redis_cache": "failed"}
