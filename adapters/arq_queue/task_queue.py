"""The `TaskQueue` port on arq."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from adapters.arq_queue.serialization import deserialize, serialize
from adapters.redis_connection.policy import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    connection_pool_options,
)
from application.ports.errors import ServiceUnavailable

# The queue hexmart's worker reads; hexmart's job ids carry this prefix as well, so that
# another application's arq jobs in the same Redis never collide with ours.
DEFAULT_QUEUE_NAME = "hexmart:queue"
DEFAULT_JOB_ID_PREFIX = "hexmart:"

# A queued job that no worker has started within this time expires (arq's default is a
# day), so no job key outlives it. An expired event job is not lost: the outbox enqueues
# any message still not handled again.
JOB_EXPIRY = timedelta(days=1)


def create_arq_redis(
    url: str,
    *,
    queue_name: str = DEFAULT_QUEUE_NAME,
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> ArqRedis:
    """An arq connection for `url` with JSON job serialization, for `ArqTaskQueue` and the
    worker. Nothing connects until the first command (unlike `arq.create_pool`, which
    pings), so building it never fails because Redis is down. Close it with
    `await redis.aclose()`.

    It follows hexmart's Redis connection policy (`adapters.redis_connection`): timeouts,
    and a command that meets a broken connection retried once on a fresh one (Redis
    restarted meanwhile); past that the error is the caller's (the worker waits outages
    out in its own loop, where it can log them and be stopped)."""
    pool = ConnectionPool.from_url(
        url,
        **connection_pool_options(
            connect_timeout_seconds=connect_timeout_seconds, timeout_seconds=timeout_seconds
        ),
    )
    return ArqRedis(
        pool,
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=queue_name,
        expires_extra_ms=int(JOB_EXPIRY / timedelta(milliseconds=1)),
    )


class ArqTaskQueue:
    """Enqueues `job_name(payload)` for an arq worker, as job `<job_id_prefix><job_id>`.

    A second enqueue of a job id is a no-op while arq knows the job: while it is queued,
    deferred for a retry or running, and after it finished for as long as the worker keeps
    its result (hexmart's worker keeps results for seconds, see entrypoints/worker.py).
    After that, or once Redis lost its data, the same job id is enqueued anew: that is how
    the outbox redelivers a message whose job never finished.

    Redis being unreachable (or failing) raises `ServiceUnavailable`; the outbox keeps
    the event and relays it later.
    """

    def __init__(
        self,
        redis: ArqRedis,
        *,
        queue_name: str = DEFAULT_QUEUE_NAME,
        job_id_prefix: str = DEFAULT_JOB_ID_PREFIX,
    ) -> None:
        if redis.job_serializer is not serialize:
            raise ValueError("build the ArqRedis with create_arq_redis (JSON job serialization)")
        self._redis = redis
        self._queue_name = queue_name
        self._job_id_prefix = job_id_prefix

    async def queue_length(self) -> int:
        """Jobs queued and not yet taken by a worker (`hexmart workers status`)."""
        try:
            return int(await self._redis.zcard(self._queue_name))
        except (RedisError, OSError) as error:
            raise ServiceUnavailable(f"task queue: {error}") from error

    async def enqueue(self, job_name: str, *, job_id: str, payload: dict[str, Any]) -> None:
        try:
            await self._redis.enqueue_job(
                job_name,
                payload,
                _job_id=self._job_id_prefix + job_id,
                _queue_name=self._queue_name,
            )
        except (RedisError, OSError) as error:
            raise ServiceUnavailable(f"the task queue (Redis) is unavailable: {error}") from error
