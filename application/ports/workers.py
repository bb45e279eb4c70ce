"""Where background workers say they are alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WorkerHeartbeat:
    """One worker process as it last described itself."""

    worker_id: str
    host: str
    pid: int
    started_at: datetime
    last_beat_at: datetime
    jobs_done: int


class WorkerHeartbeats(Protocol):
    async def beat(self, heartbeat: WorkerHeartbeat, ttl_seconds: int) -> None:
        """Publish `heartbeat` in place of the worker's previous one; it is forgotten
        `ttl_seconds` later unless beaten again. Raises `ServiceUnavailable` if the store is
        down."""

    async def forget(self, worker_id: str) -> None:
        """Drop the worker's heartbeat (it stops cleanly). Raises `ServiceUnavailable` if
        the store is down."""

    async def alive(self) -> list[WorkerHeartbeat]:
        """Every heartbeat not forgotten yet, in no particular order. Raises
        `ServiceUnavailable` if the store is down."""
