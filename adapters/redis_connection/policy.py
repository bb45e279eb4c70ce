"""The connection policy every hexmart Redis client follows: timeouts, and one retry on a
broken connection."""

from __future__ import annotations

from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

DEFAULT_CONNECT_TIMEOUT_SECONDS = 2.0
DEFAULT_TIMEOUT_SECONDS = 5.0


def timeout_options(
    *,
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Keyword arguments for a redis-py client or pool: a hung Redis must not hang a
    request (or a job) for longer than these."""
    return {
        "socket_connect_timeout": connect_timeout_seconds,
        "socket_timeout": timeout_seconds,
    }


def connection_pool_options(
    *,
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Keyword arguments for `Redis.from_url` or `ConnectionPool.from_url`: the timeouts,
    and a command that meets a broken pooled connection (Redis restarted since it was
    opened) retried once on a fresh one, so a restart costs no caller an error; nothing
    else is retried. Each call makes a fresh `Retry`, so no two pools share one."""
    return {
        **timeout_options(
            connect_timeout_seconds=connect_timeout_seconds, timeout_seconds=timeout_seconds
        ),
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.01), retries=1),
        "retry_on_error": [RedisConnectionError],
    }
