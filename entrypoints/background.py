"""Background work: the one schedule of jobs (`SCHEDULE`), and the in-process loop that
runs it inside the app on the embedded default (no Redis, no separate worker). The worker
(entrypoints/worker.py) schedules the same table with arq cron.

Each job takes the container and does one round.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from adapters.redis_store.stopping import cancel_until_done
from application.maintenance import PURGE_OLDER_THAN
from entrypoints.container import Container, deliver_local_payments, purge_local_payments

log = logging.getLogger(__name__)

# One round of a job; what it did (a count, or counts by kind).
Job = Callable[[Container], Awaitable[int | dict[str, int]]]
# Told about every job run: the job's name and whether it finished without an error.
JobRunObserver = Callable[[str, bool], None]

RELAY_INTERVAL_SECONDS = 1.0


async def relay_outbox(container: Container) -> int:
    """Hand every unsent outbox event to the task queue; returns how many went."""
    return await container.outbox_relay().relay_all()


async def expire_unpaid_orders(container: Container) -> int:
    """Cancel pending orders whose payment did not arrive in time, releasing their stock."""
    minutes = container.settings().payments.order_timeout_minutes
    return await container.orders().expire_unpaid_orders(timedelta(minutes=minutes))


async def reconcile_pending_payments(container: Container) -> int:
    """Ask the provider about payments pending for too long (a lost webhook), and start
    the intents that never got created."""
    minutes = container.settings().payments.reconcile_after_minutes
    return await container.payment_events().reconcile_pending(timedelta(minutes=minutes))


async def housekeeping(container: Container) -> dict[str, int]:
    """Purge housekeeping records past every duplicate window, and forget abandoned
    uploads; how many of each went (the `purge_old_records` job)."""
    report = dataclasses.asdict(await container.maintenance().purge(PURGE_OLDER_THAN))
    report["abandoned_uploads"] = await container.uploads().purge_abandoned()
    report["local_payment_intents"] = await purge_local_payments(container)
    return report


class Every(enum.Enum):
    """How often a scheduled job runs."""

    # Each round of the runner's short interval (the arq cron's `relay_every_seconds`,
    # the loop's `relay_interval`), and as the runner starts.
    ROUND = "round"
    MINUTE = "minute"
    HOUR = "hour"


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    name: str
    run: Job
    every: Every


# The schedule, for the worker's arq cron and the app's in-process loop alike. Jobs run in
# this order: the loop runs the jobs due in one round in it, and the cron spreads each
# cadence's jobs over its period in it. Reconciliation comes before expiry: a payment that
# did arrive (its webhook lost) must mark its order paid before the expiry job would cancel
# that order.
# Not in it: the worker's heartbeat, which each worker process publishes for itself
# (application/workers.py) rather than one of them per period.
SCHEDULE: tuple[ScheduledJob, ...] = (
    ScheduledJob("relay_outbox", relay_outbox, Every.ROUND),
    ScheduledJob("deliver_local_payments", deliver_local_payments, Every.ROUND),
    ScheduledJob("reconcile_payments", reconcile_pending_payments, Every.MINUTE),
    ScheduledJob("expire_unpaid_orders", expire_unpaid_orders, Every.MINUTE),
    ScheduledJob("purge_old_records", housekeeping, Every.HOUR),
)

PERIOD_SECONDS = {Every.MINUTE: 60.0, Every.HOUR: 3600.0}


def did_something(result: object) -> bool:
    """Whether a job's result (a count, or counts by kind) says it did anything."""
    if isinstance(result, dict):
        return any(result.values())
    return bool(result)


class BackgroundLoop:
    """Runs the schedule in one asyncio task: every job once as it starts, then the
    `Every.ROUND` jobs every `relay_interval` seconds and the others every minute or hour
    (every `maintenance_interval` seconds instead, when given). Jobs due together run in
    the schedule's order.

    A failing job is logged and tried again on its next turn; it never stops the loop.
    """

    def __init__(
        self,
        container: Container,
        *,
        relay_interval: float = RELAY_INTERVAL_SECONDS,
        maintenance_interval: float | None = None,
        on_job_run: JobRunObserver | None = None,
    ) -> None:
        self._container = container
        self._on_job_run = on_job_run
        self._relay_interval = relay_interval
        self._maintenance_interval = maintenance_interval
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hexmart-background-jobs")

    async def stop(self) -> None:
        if self._task is None:
            return
        await cancel_until_done(self._task)
        self._task = None

    async def run_once(self, jobs: Sequence[ScheduledJob] = SCHEDULE) -> None:
        for job in jobs:
            await self._run_job(job)

    def _period(self, job: ScheduledJob) -> float:
        if job.every is Every.ROUND:
            return 0.0
        if self._maintenance_interval is not None:
            return self._maintenance_interval
        return PERIOD_SECONDS[job.every]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_run = dict.fromkeys((job.name for job in SCHEDULE), loop.time())
        while True:
            now = loop.time()
            due = [job for job in SCHEDULE if next_run[job.name] <= now]
            for job in due:
                next_run[job.name] = now + self._period(job)
            await self.run_once(due)
            await asyncio.sleep(self._relay_interval)

    async def _run_job(self, job: ScheduledJob) -> None:
        try:
            done = await job.run(self._container)
        except asyncio.CancelledError:
            raise
        except Exception:  # logged with its traceback; the next turn retries it
            log.exception("background job %s failed", job.name)
            self._observe(job, ok=False)
            return
        self._observe(job, ok=True)
        if did_something(done):
            log.info("background job %s: %s", job.name, done)

    def _observe(self, job: ScheduledJob, *, ok: bool) -> None:
        if self._on_job_run is not None:
            self._on_job_run(job.name, ok)
