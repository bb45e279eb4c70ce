"""Relayed outbox events become emails at a real SMTP server through a real arq worker,
each exactly once."""

from __future__ import annotations

import logging

import pytest

from adapters.arq_queue.serialization import deserialize
from application.outbox import HANDLE_EVENT_JOB
from entrypoints.container import Container
from tests.application.shopping import gateway
from tests.entrypoints.worker.support import (
    ARQ_CLOSES_WITH_DEPRECATED_CALL,
    Queue,
    place_an_order,
    running_worker,
    sign_up,
    subjects,
)
from tests.polling import eventually
from tests.real_services import RecordingSmtpServer

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings(ARQ_CLOSES_WITH_DEPRECATED_CALL)]


async def test_a_placed_and_paid_order_gets_exactly_one_email_of_each_kind(
    shop: Container, queue: Queue, smtp_server: RecordingSmtpServer
) -> None:
    ann = await sign_up(shop, "ann@example.com", "Ann Archer")
    async with running_worker(shop, queue):
        placed = await place_an_order(shop, ann)
        assert placed.payment.intent_id is not None
        event = gateway(shop).succeed(placed.payment.intent_id)
        await shop.payment_events().apply_event(event)
        # Welcome (admin and Ann), order received, payment received.
        await smtp_server.wait_for(4)
        # The relay keeps running meanwhile; give a duplicate the time to show up.
        await smtp_server.wait_for(5, within=2.0)

    to_ann = smtp_server.received_by("ann@example.com")
    number = placed.order.number
    assert subjects(to_ann) == [
        f"Order #{number} received",
        f"Payment received for order #{number}",
        "Welcome to hexmart",
    ]
    assert len(smtp_server.received) == 4


async def test_the_same_outbox_event_enqueued_twice_sends_one_email(
    shop: Container, queue: Queue, smtp_server: RecordingSmtpServer
) -> None:
    await sign_up(shop, "ann@example.com", "Ann Archer")
    async with shop.unit_of_work()() as uow:
        [message] = await uow.outbox.list_unsent(10)
    payload = {"message_id": message.id, "name": message.name, "payload": message.payload}
    task_queue = shop.task_queue()

    # Relayed, then relayed again (the relay crashed before marking it sent) while queued.
    await task_queue.enqueue(HANDLE_EVENT_JOB, job_id=message.id, payload=payload)
    await task_queue.enqueue(HANDLE_EVENT_JOB, job_id=message.id, payload=payload)
    async with running_worker(shop, queue):
        await smtp_server.wait_for(1)
        # Once more after the job finished: arq still knows it (its result is kept).
        await _wait_for_key(queue, f"arq:result:{queue.prefix}{message.id}")
        await task_queue.enqueue(HANDLE_EVENT_JOB, job_id=message.id, payload=payload)
        assert await queue.redis.zscore(queue.name, f"{queue.prefix}{message.id}") is None
        # And under another job id, as if arq had forgotten it: the sent-ledger holds.
        another, connection = queue.task_queue()
        await another.enqueue(HANDLE_EVENT_JOB, job_id=f"{message.id}-again", payload=payload)
        await connection.aclose()
        await _wait_until_queue_is_empty(queue)

    assert subjects(smtp_server.received) == ["Welcome to hexmart"]


async def test_a_mail_server_that_was_down_gets_the_email_after_a_retry(
    shop: Container,
    queue: Queue,
    smtp_server: RecordingSmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.stop()
    await sign_up(shop, "ann@example.com", "Ann Archer")
    caplog.set_level(logging.WARNING, logger="entrypoints.worker")
    async with running_worker(shop, queue, first_retry_seconds=0.2):
        await _wait_for_log(caplog, "retrying in")
        smtp_server.start()
        received = await smtp_server.wait_for(1)

    assert subjects(received) == ["Welcome to hexmart"]


async def test_an_event_whose_email_keeps_failing_is_recorded_and_logged_not_lost(
    shop: Container,
    queue: Queue,
    smtp_server: RecordingSmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.stop()
    await sign_up(shop, "ann@example.com", "Ann Archer")
    async with shop.unit_of_work()() as uow:
        [message] = await uow.outbox.list_unsent(10)
    caplog.set_level(logging.WARNING, logger="entrypoints.worker")

    result_key = f"arq:result:{queue.prefix}{message.id}"
    async with running_worker(shop, queue, first_retry_seconds=0.05, max_tries=3):
        await _wait_for_log(caplog, "giving up")

    [giving_up] = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert giving_up.levelno == logging.ERROR
    assert message.id in giving_up.getMessage()
    assert "ann@example.com" in giving_up.getMessage()  # the payload, to act on by hand
    result = deserialize(await queue.redis.get(result_key))
    assert result["s"] is False
    assert result["t"] == 3
    assert "ServiceUnavailable" in result["r"]
    assert result["a"][0]["message_id"] == message.id


def _every_second(job_key: bytes) -> bool:
    """A cron job run every second, always queued or running."""
    return b"relay_outbox" in job_key or b"deliver_local_payments" in job_key


async def _wait_until_queue_is_empty(queue: Queue) -> None:
    """Until no event job is queued or running (cron jobs come and go)."""

    async def empty() -> bool:
        jobs = [j for j in await queue.redis.zrange(queue.name, 0, -1) if not _every_second(j)]
        running = [k async for k in queue.redis.scan_iter(match=f"arq:in-progress:{queue.prefix}*")]
        running = [k for k in running if not _every_second(k)]
        return not jobs and not running

    await eventually(empty, message="the queue never emptied")


async def _wait_for_key(queue: Queue, key: str) -> None:
    await eventually(lambda: queue.redis.exists(key), message=f"{key} never appeared")


async def _wait_for_log(caplog: pytest.LogCaptureFixture, text: str) -> None:
    await eventually(
        lambda: any(text in r.getMessage() for r in caplog.records),
        message=f"no log record saying {text!r}",
    )
