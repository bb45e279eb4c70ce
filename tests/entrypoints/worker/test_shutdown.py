"""Stopping a worker: the job in hand finishes, or goes back on the queue; never lost."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import pytest
from arq.worker import Worker
from dependency_injector import providers

from application.ports.messaging import EmailMessage, Mailer
from entrypoints.container import Container
from entrypoints.testing import in_memory_container, settings_for_tests
from entrypoints.worker import worker_options
from entrypoints.worker_process import HexmartWorker
from tests.entrypoints.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    Queue,
    WorkerProcess,
    migrated_sqlite,
    running_worker,
    sign_up,
    until_worker_polls,
)
from tests.polling import eventually
from tests.real_services import RecordingSmtpServer

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL)]


class SlowMailer:
    """Takes `seconds` before handing each message on; `started` is set on the first."""

    def __init__(self, inner: Mailer, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds
        self.started = asyncio.Event()

    async def send(self, message: EmailMessage) -> None:
        self.started.set()
        await asyncio.sleep(self.seconds)
        await self.inner.send(message)


def slow_down(shop: Container, seconds: float) -> SlowMailer:
    slow = SlowMailer(shop.mailer(), seconds)
    shop.mailer.override(providers.Object(slow))
    return slow


# Past the shutdown grace (20 s), a stopping worker's main loop ends within a second.
STOPS_WITHIN_SECONDS = 30


async def stop_with_sigterm(worker: Worker) -> None:
    """What the worker's SIGTERM handler does, called directly so the test process keeps
    its own signal handling; fails if the worker does not stop."""
    worker.handle_sig_wait_for_completion(signal.SIGTERM)
    await until_stopped(worker)


async def until_stopped(worker: Worker, within: float = STOPS_WITHIN_SECONDS) -> None:
    assert worker.main_task is not None
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(worker.main_task), within)


async def test_on_sigterm_the_job_in_hand_finishes_before_the_worker_stops(
    shop: Container, queue: Queue, smtp_server: RecordingSmtpServer
) -> None:
    slow = slow_down(shop, 0.5)
    await sign_up(shop, "ann@example.com", "Ann Archer")
    async with running_worker(shop, queue) as worker:
        await asyncio.wait_for(slow.started.wait(), 20)
        await stop_with_sigterm(worker)
        assert len(smtp_server.received) == 1


async def test_the_helper_stops_its_worker_only_once_the_job_in_hand_is_done(
    shop: Container, queue: Queue, smtp_server: RecordingSmtpServer
) -> None:
    """`running_worker` stops the worker as SIGTERM does at the end of its block: what the
    test checks next is what the jobs did, their stored results included, not what a
    cancellation left half-done."""
    slow = slow_down(shop, 0.3)
    await sign_up(shop, "ann@example.com", "Ann Archer")
    async with shop.unit_of_work()() as uow:
        [message] = await uow.outbox.list_unsent(10)
    async with running_worker(shop, queue):
        await asyncio.wait_for(slow.started.wait(), 20)

    assert len(smtp_server.received) == 1
    assert await queue.redis.exists(f"arq:result:{queue.prefix}{message.id}")


async def test_a_job_that_outlasts_the_shutdown_grace_goes_back_on_the_queue_and_runs_later(
    shop: Container, queue: Queue, smtp_server: RecordingSmtpServer
) -> None:
    slow = slow_down(shop, 60)
    await sign_up(shop, "ann@example.com", "Ann Archer")
    async with running_worker(shop, queue, job_completion_wait=1) as worker:
        await asyncio.wait_for(slow.started.wait(), 20)
        await stop_with_sigterm(worker)

    assert smtp_server.received == []
    assert [job for job in await queue.redis.zrange(queue.name, 0, -1) if b"relay" not in job]
    slow.seconds = 0
    async with running_worker(shop, queue):
        await smtp_server.wait_for(1)
        await smtp_server.wait_for(2, within=1.0)  # time for a duplicate to show up
    assert len(smtp_server.received) == 1


async def test_on_sigterm_a_job_being_claimed_is_a_job_in_hand_and_finishes(
    queue: Queue,
) -> None:
    """SIGTERM may come while the worker's poll has read job ids from the queue and not
    yet claimed them: those jobs run to their end before the worker stops."""
    worker = _busy_worker(queue)
    start_jobs = worker.start_jobs
    claiming: list[bytes] = []
    read, go_on = asyncio.Event(), asyncio.Event()

    async def parked_after_reading_the_queue(job_ids: list[bytes]) -> None:
        if job_ids and not claiming:
            claiming.extend(job_ids)
            read.set()
            await go_on.wait()
            for _ in range(10):  # the claim's round trips to Redis, where a stop can land
                await asyncio.sleep(0)
        await start_jobs(job_ids)

    worker.start_jobs = parked_after_reading_the_queue  # type: ignore[method-assign]
    task = await _started(worker)
    try:
        await asyncio.wait_for(read.wait(), 10)  # the start-up cron jobs
        worker.handle_sig_wait_for_completion(signal.SIGTERM)
        go_on.set()
        await until_stopped(worker, within=10)
        assert worker.jobs_complete == len(claiming)
    finally:
        await worker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_worker_process_exits_cleanly_on_sigterm(queue: Queue, tmp_path: Path) -> None:
    settings = {"HEXMART_DATABASE_URL": migrated_sqlite(tmp_path)}
    worker = WorkerProcess(tmp_path, queue, settings)
    try:
        await until_worker_polls(queue)
    finally:
        exit_code = worker.terminate()
    assert exit_code == 0, worker.log
    assert "shutdown on SIGTERM" in worker.log
    assert "hexmart worker stopped" in worker.log


def _busy_worker(queue: Queue) -> HexmartWorker:
    """A worker that polls Redis without pause: its main loop is nearly always inside a
    redis-py command, where a cancellation can be swallowed."""
    return HexmartWorker(
        **worker_options(
            settings_for_tests(redis_url=queue.url),
            container=in_memory_container(),
            queue_name=queue.name,
            job_id_prefix=queue.prefix,
            handle_signals=False,
            poll_delay=0,
        )
    )


async def _started(worker: HexmartWorker) -> asyncio.Task[None]:
    task = asyncio.create_task(worker.async_run())
    await eventually(lambda: worker.polling, interval=0.01, message="the worker never started")
    return task


async def _stop_then_close(worker: HexmartWorker, task: asyncio.Task[None]) -> None:
    """Stop `worker` as SIGTERM does (arq cancels its main loop once), fail unless it
    stops within 5 s, and close it in any case."""
    worker.handle_sig(signal.SIGTERM)
    try:
        await until_stopped(worker, within=5)
    finally:
        await worker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_worker_stops_even_when_its_main_loop_swallows_the_cancellation(
    queue: Queue,
) -> None:
    """Python 3.11's asyncio.wait_for, which redis-py wraps around each command, can
    swallow a cancellation; arq cancels the main loop only once."""
    worker = _busy_worker(queue)
    poll_iteration = worker._poll_iteration
    parked = asyncio.Event()
    swallowed = []

    async def swallowing_the_first_cancellation() -> None:
        if not swallowed:
            # Wait inside the loop's iteration for the stop, and swallow it once.
            parked.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                swallowed.append(True)
            return
        await poll_iteration()

    worker._poll_iteration = swallowing_the_first_cancellation  # type: ignore[method-assign]
    task = await _started(worker)
    await asyncio.wait_for(parked.wait(), 10)
    await _stop_then_close(worker, task)
    assert swallowed == [True]


async def test_stopping_a_busy_worker_again_and_again_always_stops_it(queue: Queue) -> None:
    """With the real Redis and no stand-in: before the fix, about one stop in three left
    the worker running for ever (twenty stops all ending by chance: (2/3)^20 < 0.1%)."""
    for _ in range(20):
        worker = _busy_worker(queue)
        task = await _started(worker)
        await asyncio.sleep(0.05)  # a few polls of Redis first, so stops land anywhere
        await _stop_then_close(worker, task)


async def test_closing_a_worker_whose_stop_cancelled_a_job_outside_its_function_closes_it(
    queue: Queue,
) -> None:
    """arq's job task catches a cancellation only inside the job's function: a job the stop
    cancels while arq still fetches it (or stores its result) ends cancelled. Closing the
    worker must still close it (shutdown hook, connections), not raise CancelledError."""
    worker = _busy_worker(queue)
    in_hand = asyncio.Event()

    async def parked_in_arqs_bookkeeping(job_id: str, score: int) -> None:
        in_hand.set()
        await asyncio.Event().wait()

    worker.run_job = parked_in_arqs_bookkeeping  # type: ignore[method-assign]
    task = await _started(worker)
    await asyncio.wait_for(in_hand.wait(), 10)  # the start-up relay_outbox job
    await _stop_then_close(worker, task)

    assert "heartbeat" not in worker.ctx  # the shutdown hook ran
    assert worker._pool is None
    assert not await queue.redis.exists(worker.health_check_key)
