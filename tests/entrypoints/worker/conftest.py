"""Fixtures for the worker tests: a real SMTP server, a queue of the test's own in the
shared Redis, and an in-memory shop whose task queue and mailer are the production
adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from dependency_injector import providers

from adapters.smtp.mailer import SmtpMailer
from entrypoints.container import Container
from entrypoints.testing import in_memory_container
from tests.entrypoints.worker.support import SENDER, Queue
from tests.real_services import RecordingSmtpServer, shared_redis


@pytest.fixture
def smtp_server() -> Iterator[RecordingSmtpServer]:
    server = RecordingSmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def queue() -> AsyncIterator[Queue]:
    async with shared_redis() as (redis, prefix):
        yield Queue(redis, prefix)


@pytest.fixture
async def shop(queue: Queue, smtp_server: RecordingSmtpServer) -> AsyncIterator[Container]:
    """An in-memory shop whose jobs go to arq and whose emails go over SMTP."""
    shop = in_memory_container()
    task_queue, connection = queue.task_queue()
    shop.task_queue.override(providers.Object(task_queue))
    shop.mailer.override(providers.Object(SmtpMailer(smtp_server.url, sender=SENDER)))
    yield shop
    await connection.aclose()
