"""Stopping a worker: the job in hand finishes, or goes back on the queue; never lost."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

import pytest
from dependency_injector import providers

from application.ports.messaging import EmailMessage, Mailer
from entrypoints.container import Container
from tests.real_services import RecordingSmtpServer
from tests.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    Queue,
    WorkerProcess,
    migrated_sqlite,
    running_worker,
    sign_up,
)

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


async def stop_with_sigterm(worker: object) -> None:
    """What the worker's SIGTERM handler does, called directly so the test process keeps
    its own signal handling."""
    worker.handle_sig_wait_for_completion(signal.SIGTERM)  # type: ignore[attr-defined]
    with contextlib.suppress(asyncio.CancelledError):
        await worker.main_task  # type: ignore[attr-defined]


async def test_on_sigterm_the_job_in_hand_finishes_before_the_worker_stops(
    shop: Container, queue: Queue, smtp_server: RecordingSmtpServer
) -> None:
    slow = slow_down(shop, 0.5)
    await sign_up(shop, "ann@example.com", "Ann Archer")
    async with running_worker(shop, queue) as worker:
        await asyncio.wait_for(slow.started.wait(), 20)
        await stop_with_sigterm(worker)
        assert len(smtp_server.received) == 1


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


async def test_a_worker_process_exits_cleanly_on_sigterm(queue: Queue, tmp_path: Path) -> None:
    settings = {"HEXMART_DATABASE_URL": migrated_sqlite(tmp_path)}
    worker = WorkerProcess(tmp_path, queue, settings)
    try:
        await _wait_for_health_key(queue)
    finally:
        exit_code = worker.terminate()
    assert exit_code == 0, worker.log
    assert "shutdown on SIGTERM" in worker.log
    assert "hexmart worker stopped" in worker.log


async def _wait_for_health_key(queue: Queue) -> None:
    """The worker records its health at its first poll of the queue."""
    deadline = time.monotonic() + 20
    while not await queue.redis.exists(f"{queue.name}:health-check"):
        if time.monotonic() > deadline:
            raise AssertionError("the worker never started")
        await asyncio.sleep(0.05)
