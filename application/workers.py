"""Background workers: each publishes a heartbeat while it runs, and anyone (readiness, an
operator's CLI) can list the workers that are alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports.runtime import Clock
from application.ports.workers import WorkerHeartbeat, WorkerHeartbeats

# A worker beats this often, and a heartbeat not renewed within its lifetime is gone: a
# worker missing for longer than that counts as not running.
HEARTBEAT_EVERY_SECONDS = 5
HEARTBEAT_TTL_SECONDS = 15


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    worker_id: str
    host: str
    pid: int
    started_at: datetime


class Workers:
    def __init__(self, heartbeats: WorkerHeartbeats, clock: Clock) -> None:
        self._heartbeats = heartbeats
        self._clock = clock

    async def beat(
        self, worker: WorkerIdentity, jobs_done: int, ttl_seconds: int = HEARTBEAT_TTL_SECONDS
    ) -> None:
        """Say that `worker` is alive now, having finished `jobs_done` jobs; the heartbeat
        lasts `ttl_seconds`. Raises `ServiceUnavailable` if the store is down."""
        if ttl_seconds <= 0:
            raise ValueError("a heartbeat's ttl_seconds must be positive")
        heartbeat = WorkerHeartbeat(
            worker_id=worker.worker_id,
            host=worker.host,
            pid=worker.pid,
            started_at=worker.started_at,
            last_beat_at=self._clock.now(),
            jobs_done=jobs_done,
        )
        await self._heartbeats.beat(heartbeat, ttl_seconds)

    async def stopped(self, worker: WorkerIdentity) -> None:
        """`worker` stops cleanly: it no longer counts as alive."""
        await self._heartbeats.forget(worker.worker_id)

    async def alive(self) -> list[WorkerHeartbeat]:
        """The workers whose heartbeat is fresh, oldest first. Raises `ServiceUnavailable`
        if the store is down."""
        beats = await self._heartbeats.alive()
        return sorted(beats, key=lambda beat: (beat.started_at, beat.worker_id))
