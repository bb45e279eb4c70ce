"""The `WorkerHeartbeats` port in a dict, expiring by the injected clock: for one process
(tests, the embedded default, where no separate worker runs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from application.ports.runtime import Clock
from application.ports.workers import WorkerHeartbeat


class InMemoryWorkerHeartbeats:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._beats: dict[str, tuple[WorkerHeartbeat, datetime]] = {}

    async def beat(self, heartbeat: WorkerHeartbeat, ttl_seconds: int) -> None:
        expires_at = self._clock.now() + timedelta(seconds=ttl_seconds)
        self._beats[heartbeat.worker_id] = (heartbeat, expires_at)

    async def forget(self, worker_id: str) -> None:
        self._beats.pop(worker_id, None)

    async def alive(self) -> list[WorkerHeartbeat]:
        now = self._clock.now()
        self._beats = {key: beat for key, beat in self._beats.items() if beat[1] > now}
        return [heartbeat for heartbeat, _ in self._beats.values()]
