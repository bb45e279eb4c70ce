"""Building the shared `redis.asyncio.Redis` client from a URL."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from adapters.redis_connection.policy import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    connection_pool_options,
    timeout_options,
)

DEFAULT_PREFIX = "hexmart:"


def create_redis_client(
    url: str,
    *,
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> Redis:
    """A client for `url` (redis://, rediss:// or unix://; the database number goes in
    the path, e.g. redis://127.0.0.1:6379/0). Nothing connects until the first command,
    so building it never fails because Redis is down.

    It follows hexmart's Redis connection policy (`adapters.redis_connection`): the
    timeouts keep a hung Redis from hanging a request, and a command that meets a broken
    pooled connection (Redis restarted since it was opened) is retried once on a fresh
    one, so a restart costs no request an error; nothing else is retried. Close it with
    `await client.aclose()`.
    """
    client: Redis = Redis.from_url(
        url,
        **connection_pool_options(
            connect_timeout_seconds=connect_timeout_seconds, timeout_seconds=timeout_seconds
        ),
    )
    return client


def create_redis_cluster_client(
    url: str,
    *,
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> RedisCluster:
    """A Redis Cluster client from one node's URL (it discovers the others). Only for
    single-key work: the cache and the rate limiter. It takes the policy's timeouts only.
    Close it with `await client.aclose()`."""
    client: RedisCluster = RedisCluster.from_url(
        url,
        **timeout_options(
            connect_timeout_seconds=connect_timeout_seconds, timeout_seconds=timeout_seconds
        ),
    )
    return client
