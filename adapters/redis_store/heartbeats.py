"""The `WorkerHeartbeats` port on Redis: one key per worker, expiring on its own."""

from __future__ import annotations

import json
from datetime import datetime

from redis.asyncio import Redis

from adapters.redis_store.client import DEFAULT_PREFIX
from adapters.redis_store.outages import REDIS_FAILURES
from application.ports.errors import ServiceUnavailable
from application.ports.workers import WorkerHeartbeat


class RedisWorkerHeartbeats:
    """Each heartbeat is a JSON document under `<prefix>worker:<worker id>`, set with
    Redis's own expiry (so a worker that dies is forgotten by the server's clock)."""

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = f"{prefix}worker:"

    async def beat(self, heartbeat: WorkerHeartbeat, ttl_seconds: int) -> None:
        document = {
            "worker_id": heartbeat.worker_id,
            "host": heartbeat.host,
            "pid": heartbeat.pid,
            "started_at": heartbeat.started_at.isoformat(),
            "last_beat_at": heartbeat.last_beat_at.isoformat(),
            "jobs_done": heartbeat.jobs_done,
        }
        try:
            await self._redis.set(
                self._prefix + heartbeat.worker_id, json.dumps(document), ex=ttl_seconds
            )
        except REDIS_FAILURES as error:
            raise ServiceUnavailable(f"Redis is unavailable: {error}") from error

    async def forget(self, worker_id: str) -> None:
        try:
            await self._redis.delete(self._prefix + worker_id)
        except REDIS_FAILURES as error:
            raise ServiceUnavailable(f"Redis is unavailable: {error}") from error

    async def alive(self) -> list[WorkerHeartbeat]:
        try:
            keys = [key async for key in self._redis.scan_iter(match=f"{self._prefix}*")]
            documents = await self._redis.mget(keys) if keys else []
        except REDIS_FAILURES as error:
            raise ServiceUnavailable(f"Redis is unavailable: {error}") from error
        # A key that expired between SCAN and MGET reads as None.
        return [_heartbeat(json.loads(document)) for document in documents if document]


def _heartbeat(document: dict[str, object]) -> WorkerHeartbeat:
    return WorkerHeartbeat(
        worker_id=str(document["worker_id"]),
        host=str(document["host"]),
        pid=int(str(document["pid"])),
        started_at=datetime.fromisoformat(str(document["started_at"])),
        last_beat_at=datetime.fromisoformat(str(document["last_beat_at"])),
        jobs_done=int(str(document["jobs_done"])),
    )
