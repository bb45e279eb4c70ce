"""The embedded default's task queue: runs each job in this process, in the background."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from application.ports.errors import ServiceUnavailable

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any]], Awaitable[object]]


class InProcessTaskQueue:
    """Implements TaskQueue by running `handlers[job_name](payload)` as an asyncio task.

    A job id already waiting or running is ignored; once its job has ended, the same id
    runs again (the outbox enqueues a message again when its handler did not finish). A job
    that raises `ServiceUnavailable` is retried with exponential backoff up to `attempts`
    times; one that still fails is logged with its payload and dropped, and the outbox
    enqueues its event again later.
    """

    def __init__(
        self,
        handlers: Mapping[str, JobHandler],
        *,
        attempts: int = 5,
        first_backoff_seconds: float = 0.5,
    ) -> None:
        self._handlers = dict(handlers)
        self._attempts = attempts
        self._backoff = first_backoff_seconds
        self._active: set[str] = set()
        self._running: set[asyncio.Task[None]] = set()

    def register(self, job_name: str, handler: JobHandler) -> None:
        self._handlers[job_name] = handler

    def handler(self, job_name: str) -> JobHandler:
        return self._handlers[job_name]

    async def enqueue(self, job_name: str, *, job_id: str, payload: dict[str, Any]) -> None:
        if job_name not in self._handlers:
            raise ValueError(f"no handler for job {job_name!r}")
        if job_id in self._active:
            return
        self._active.add(job_id)
        # A copy: what runs is what was enqueued, whatever the caller does to its dict later.
        task = asyncio.create_task(self._run(job_name, job_id, copy.deepcopy(payload)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(lambda _: self._active.discard(job_id))

    async def drain(self) -> None:
        """Wait until every job queued so far (and any they queue) has finished."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()

    async def _run(self, job_name: str, job_id: str, payload: dict[str, Any]) -> None:
        handler = self._handlers[job_name]
        for attempt in range(1, self._attempts + 1):
            try:
                await handler(payload)
                return
            except ServiceUnavailable as error:
                if attempt == self._attempts:
                    log.error(
                        "job %s (%s) failed %d times: %s; payload=%r",
                        job_name,
                        job_id,
                        attempt,
                        error,
                        payload,
                    )
                    return
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            except Exception:
                log.exception("job %s (%s) crashed; payload=%r", job_name, job_id, payload)
                return
