from __future__ import annotations

from typing import Any

from adapters.fakes.task_queue import RecordingTaskQueue
from adapters.inprocess.task_runner import InProcessTaskQueue
from application.ports.messaging import TaskQueue
from tests.contract.task_queue_contract import (
    JOB,
    OTHER_JOB,
    AcceptedJob,
    TaskQueueContract,
    TaskQueueOutageContract,
)


class TestRecordingTaskQueue(TaskQueueOutageContract):
    def make_task_queue(self) -> TaskQueue:
        return RecordingTaskQueue()

    async def accepted_jobs(self, queue: TaskQueue) -> list[AcceptedJob]:
        assert isinstance(queue, RecordingTaskQueue)
        return [AcceptedJob(job.name, job.payload) for job in queue.jobs]

    def make_unreachable_task_queue(self) -> TaskQueue:
        queue = RecordingTaskQueue()
        queue.go_down()
        return queue


class TestInProcessTaskQueue(TaskQueueContract):
    """Runs jobs in this process, with no backend that could be down."""

    def make_task_queue(self) -> TaskQueue:
        self.ran: list[AcceptedJob] = []

        def recorder(name: str):
            async def run(payload: dict[str, Any]) -> None:
                self.ran.append(AcceptedJob(name, payload))

            return run

        return InProcessTaskQueue({JOB: recorder(JOB), OTHER_JOB: recorder(OTHER_JOB)})

    async def accepted_jobs(self, queue: TaskQueue) -> list[AcceptedJob]:
        assert isinstance(queue, InProcessTaskQueue)
        await queue.drain()
        return self.ran


async def test_the_in_process_queue_runs_a_job_id_again_once_its_job_has_ended() -> None:
    ran: list[int] = []

    async def record(payload: dict[str, Any]) -> None:
        ran.append(payload["n"])

    queue = InProcessTaskQueue({JOB: record})
    await queue.enqueue(JOB, job_id="evt-1", payload={"n": 1})
    await queue.drain()
    # The outbox enqueues a message again when its handler did not record it handled.
    await queue.enqueue(JOB, job_id="evt-1", payload={"n": 2})
    await queue.drain()

    assert ran == [1, 2]
