"""The TaskQueue contract: jobs are accepted once per job id; an outage is reported."""

from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from application.ports.errors import ServiceUnavailable
from application.ports.messaging import TaskQueue

JOB = "contract.send_receipt"
OTHER_JOB = "contract.reindex"


@dataclass(frozen=True, slots=True)
class AcceptedJob:
    name: str
    payload: dict[str, Any]


class TaskQueueContract(abc.ABC):
    """Subclass with `make_task_queue` (accepting the jobs named `JOB` and `OTHER_JOB`)
    and `accepted_jobs`, or `TaskQueueOutageContract` if the adapter can be down."""

    @abc.abstractmethod
    def make_task_queue(self) -> TaskQueue: ...

    @abc.abstractmethod
    async def accepted_jobs(self, queue: TaskQueue) -> list[AcceptedJob]:
        """Every job the queue took so far, in the order it took them (waiting for an
        in-process queue to run them, reading a broker's queue, ...)."""

    @pytest.fixture
    def queue(self) -> TaskQueue:
        return self.make_task_queue()

    async def test_an_enqueued_job_is_accepted_with_its_payload(self, queue: TaskQueue) -> None:
        await queue.enqueue(JOB, job_id="evt-1", payload={"order_id": "o-1", "lines": [1, 2]})
        assert await self.accepted_jobs(queue) == [
            AcceptedJob(JOB, {"order_id": "o-1", "lines": [1, 2]})
        ]

    async def test_the_same_job_id_twice_is_accepted_once(self, queue: TaskQueue) -> None:
        await queue.enqueue(JOB, job_id="evt-1", payload={"n": 1})
        await queue.enqueue(JOB, job_id="evt-1", payload={"n": 1})
        assert await self.accepted_jobs(queue) == [AcceptedJob(JOB, {"n": 1})]

    async def test_jobs_with_different_ids_are_all_accepted(self, queue: TaskQueue) -> None:
        await queue.enqueue(JOB, job_id="evt-1", payload={"n": 1})
        await queue.enqueue(OTHER_JOB, job_id="evt-2", payload={"n": 2})
        await queue.enqueue(JOB, job_id="evt-3", payload={"n": 3})
        accepted = await self.accepted_jobs(queue)
        assert sorted(accepted, key=lambda job: job.payload["n"]) == [
            AcceptedJob(JOB, {"n": 1}),
            AcceptedJob(OTHER_JOB, {"n": 2}),
            AcceptedJob(JOB, {"n": 3}),
        ]

    async def test_a_payload_changed_after_enqueue_is_not_what_runs(self, queue: TaskQueue) -> None:
        payload: dict[str, Any] = {"status": "placed"}
        await queue.enqueue(JOB, job_id="evt-1", payload=payload)
        payload["status"] = "changed by the caller afterwards"
        assert await self.accepted_jobs(queue) == [AcceptedJob(JOB, {"status": "placed"})]

    async def test_racing_enqueues_of_one_job_id_accept_it_once(self, queue: TaskQueue) -> None:
        await asyncio.gather(
            *(queue.enqueue(JOB, job_id="evt-1", payload={"n": 1}) for _ in range(10))
        )
        assert await self.accepted_jobs(queue) == [AcceptedJob(JOB, {"n": 1})]


class TaskQueueOutageContract(TaskQueueContract):
    """For a queue whose backend can be down (a broker, a fake told to go down)."""

    @abc.abstractmethod
    def make_unreachable_task_queue(self) -> TaskQueue:
        """A queue whose backend is down."""

    async def test_a_queue_that_is_down_says_so(self) -> None:
        queue = self.make_unreachable_task_queue()
        with pytest.raises(ServiceUnavailable):
            await queue.enqueue(JOB, job_id="evt-1", payload={})
