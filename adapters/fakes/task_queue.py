"""A task queue that only records what it was asked to run; the test double."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from application.ports.errors import ServiceUnavailable


@dataclass(frozen=True, slots=True)
class RecordedJob:
    name: str
    job_id: str
    payload: dict[str, Any]


class RecordingTaskQueue:
    """Keeps every distinct job in `jobs`, in enqueue order; runs nothing.

    A second enqueue with a `job_id` already recorded is ignored, whatever its name or
    payload (as a broker does while the job waits: this queue never runs it), until
    `lose_jobs()`. The payload is deep-copied, as a real queue would serialise it. After
    `go_down()`, `enqueue` raises `ServiceUnavailable` until `come_back()`.
    """

    def __init__(self) -> None:
        self.jobs: list[RecordedJob] = []
        self._job_ids: set[str] = set()
        self._down = False

    async def enqueue(self, job_name: str, *, job_id: str, payload: dict[str, Any]) -> None:
        if self._down:
            raise ServiceUnavailable("the task queue is down")
        if job_id in self._job_ids:
            return
        self._job_ids.add(job_id)
        self.jobs.append(RecordedJob(job_name, job_id, copy.deepcopy(payload)))

    def lose_jobs(self) -> None:
        """Forget every job, as a broker that lost its data: `jobs` empties and any job id
        can be enqueued again."""
        self.jobs.clear()
        self._job_ids.clear()

    def go_down(self) -> None:
        self._down = True

    def come_back(self) -> None:
        self._down = False

    def named(self, job_name: str) -> list[RecordedJob]:
        """The recorded jobs called `job_name`, in enqueue order."""
        return [job for job in self.jobs if job.name == job_name]
