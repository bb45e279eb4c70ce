"""Building the shared `redis.asyncio.Redis` client from a URL."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

DEFAULT_PREFIX = "hexmart:"


def create_redis_client(
    url: str,
    *,
    connect_timeout_seconds: float = 2.0,
    timeout_seconds: float = 5.0,
) -> Redis:
    """A client for `url` (redis://, rediss:// or unix://; the database number goes in
    the path, e.g. redis://127.0.0.1:6379/0). Nothing connects until the first command,
    so building it never fails because Redis is down.

    The timeouts keep a hung Redis from hanging a request. A command that meets a broken
    pooled connection (Redis restarted since it was opened) is retried once on a fresh
    one, so a restart costs no request an error; nothing else is retried. Close it with
    `await client.aclose()`.
    """
    client: Redis = Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.01), retries=1),
        retry_on_error=[RedisConnectionError],
    )
    return client


def create_redis_cluster_client(
    url: str,
    *,
    connect_timeout_seconds: float = 2.0,
    timeout_seconds: float = 5.0,
) -> RedisCluster:
    """A Redis Cluster client from one node's URL (it discovers the others). Only for
    single-key work: the cache and the rate limiter. Close it with `await client.aclose()`."""
    client: RedisCluster = RedisCluster.from_url(
        url,
        socket_connect_timeout=connect_timeout_seconds,
        socket_timeout=timeout_seconds,
    )
    return client
