"""Background work: the jobs a worker runs on a schedule, and the in-process loop that runs
them inside the app on the embedded default (no Redis, no separate worker).

The job functions take the container and do one round each. The arq worker
(entrypoints/worker.py) schedules its own cron jobs; it shares `housekeeping` and
`deliver_completed_local_payments` with this loop, not the rest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from application.maintenance import PURGE_OLDER_THAN
from application.stopping import cancel_until_done
from entrypoints.container import Container, deliver_local_payments, purge_local_payments

log = logging.getLogger(__name__)

Job = Callable[[Container], Awaitable[int]]
# Told about every job run: the job's name and whether it finished without an error.
JobRunObserver = Callable[[str, bool], None]

RELAY_INTERVAL_SECONDS = 1.0
MAINTENANCE_INTERVAL_SECONDS = 60.0


async def relay_outbox(container: Container) -> int:
    """Hand every unsent outbox event to the task queue; returns how many went."""
    return await container.outbox_relay().relay_all()


async def expire_unpaid_orders(container: Container) -> int:
    """Cancel pending orders whose payment did not arrive in time, releasing their stock."""
    minutes = container.settings().order_payment_timeout_minutes
    return await container.orders().expire_unpaid_orders(timedelta(minutes=minutes))


async def reconcile_pending_payments(container: Container) -> int:
    """Ask the provider about payments pending for too long (a lost webhook), and start
    the intents that never got created."""
    minutes = container.settings().payment_reconcile_after_minutes
    return await container.payment_events().reconcile_pending(timedelta(minutes=minutes))


async def housekeeping(container: Container) -> dict[str, int]:
    """Purge housekeeping records past every duplicate window, and forget abandoned
    uploads; how many of each went. The worker's hourly job runs this too."""
    report = dataclasses.asdict(await container.maintenance().purge(PURGE_OLDER_THAN))
    report["abandoned_uploads"] = await container.uploads().purge_abandoned()
    report["local_payment_intents"] = await purge_local_payments(container)
    return report


async def purge_old_records(container: Container) -> int:
    """`housekeeping`, as a job of the loop: how many records went in all."""
    return sum((await housekeeping(container)).values())


async def deliver_completed_local_payments(container: Container) -> int:
    """The local payment gateway's completed payments whose delivery to the shop is due
    (their process died, or a delivery failed): deliver them, exactly once."""
    return await deliver_local_payments(container)


FREQUENT_JOBS: tuple[Job, ...] = (relay_outbox, deliver_completed_local_payments)
# Reconciliation first: a payment that did arrive must mark its order paid before the
# expiry job would cancel that order.
PERIODIC_JOBS: tuple[Job, ...] = (
    reconcile_pending_payments,
    expire_unpaid_orders,
    purge_old_records,
)


class BackgroundLoop:
    """Runs the frequent jobs every `relay_interval` seconds and the periodic ones every
    `maintenance_interval` seconds (and once at start), in one asyncio task.

    A failing job is logged and tried again on its next turn; it never stops the loop.
    """

    def __init__(
        self,
        container: Container,
        *,
        relay_interval: float = RELAY_INTERVAL_SECONDS,
        maintenance_interval: float = MAINTENANCE_INTERVAL_SECONDS,
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

    async def run_once(self, jobs: tuple[Job, ...] = FREQUENT_JOBS + PERIODIC_JOBS) -> None:
        for job in jobs:
            await self._run_job(job)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_maintenance = loop.time()
        while True:
            if loop.time() >= next_maintenance:
                await self.run_once(PERIODIC_JOBS)
                next_maintenance = loop.time() + self._maintenance_interval
            await self.run_once(FREQUENT_JOBS)
            await asyncio.sleep(self._relay_interval)

    async def _run_job(self, job: Job) -> None:
        try:
            done = await job(self._container)
        except asyncio.CancelledError:
            raise
        except Exception:  # logged with its traceback; the next turn retries it
            log.exception("background job %s failed", job.__name__)
            self._observe(job, ok=False)
            return
        self._observe(job, ok=True)
        if done:
            log.info("background job %s: %d done", job.__name__, done)

    def _observe(self, job: Job, *, ok: bool) -> None:
        if self._on_job_run is not None:
            self._on_job_run(job.__name__, ok)
