"""The WorkerHeartbeats contract: a heartbeat is seen until its TTL runs out or its worker
withdraws it; a new beat replaces the worker's previous one."""

from __future__ import annotations

import abc
from datetime import UTC, datetime, timedelta

import pytest

from application.ports.workers import WorkerHeartbeat, WorkerHeartbeats
from tests.contract.time_control import TimeControl

STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def a_beat(worker_id: str, *, jobs_done: int = 0, seconds: int = 0) -> WorkerHeartbeat:
    return WorkerHeartbeat(
        worker_id=worker_id,
        host="shop-1",
        pid=4242,
        started_at=STARTED,
        last_beat_at=STARTED + timedelta(seconds=seconds),
        jobs_done=jobs_done,
    )


class WorkerHeartbeatsContract(abc.ABC):
    time: TimeControl

    @abc.abstractmethod
    def make_time_control(self) -> TimeControl: ...

    @abc.abstractmethod
    def make_heartbeats(self) -> WorkerHeartbeats: ...

    @pytest.fixture
    def heartbeats(self) -> WorkerHeartbeats:
        self.time = self.make_time_control()
        return self.make_heartbeats()

    async def test_a_heartbeat_is_seen_as_published(self, heartbeats: WorkerHeartbeats) -> None:
        assert await heartbeats.alive() == []
        await heartbeats.beat(a_beat("w-1", jobs_done=3), ttl_seconds=30)
        await heartbeats.beat(a_beat("w-2"), ttl_seconds=30)
        alive = await heartbeats.alive()
        assert sorted(alive, key=lambda beat: beat.worker_id) == [
            a_beat("w-1", jobs_done=3),
            a_beat("w-2"),
        ]

    async def test_a_new_beat_replaces_the_last_one(self, heartbeats: WorkerHeartbeats) -> None:
        await heartbeats.beat(a_beat("w-1"), ttl_seconds=30)
        await heartbeats.beat(a_beat("w-1", jobs_done=9, seconds=5), ttl_seconds=30)
        assert await heartbeats.alive() == [a_beat("w-1", jobs_done=9, seconds=5)]

    async def test_a_heartbeat_not_renewed_is_gone_after_its_ttl(
        self, heartbeats: WorkerHeartbeats
    ) -> None:
        await heartbeats.beat(a_beat("w-1"), ttl_seconds=1)
        await self.time.let_almost_pass(1)
        assert await heartbeats.alive() == [a_beat("w-1")]

        async def gone() -> bool:
            return await heartbeats.alive() == []

        assert await self.time.holds_after(1, gone)

    async def test_a_withdrawn_heartbeat_is_gone_at_once(
        self, heartbeats: WorkerHeartbeats
    ) -> None:
        await heartbeats.beat(a_beat("w-1"), ttl_seconds=30)
        await heartbeats.beat(a_beat("w-2"), ttl_seconds=30)
        await heartbeats.forget("w-1")
        await heartbeats.forget("w-unknown")
        assert await heartbeats.alive() == [a_beat("w-2")]
